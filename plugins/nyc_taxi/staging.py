"""Where a run's tasks leave files for each other, and the record they hand each other.

The place is the Variable `nyc_taxi_staging_url`: a `file://` directory (the default) when every task runs on one
machine, or object storage that every worker reaches, such as `gs://<bucket>/_staging`, when tasks run on several
(Celery workers, Kubernetes pods). It is an Airflow `ObjectStoragePath`, so a `gs://` URL uses the connection
`google_cloud_default`. Files are streamed to and from it; `file://` goes straight to the disk, as fast as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pyarrow as pa

from nyc_taxi.months import TaxiMonth, path_safe
from nyc_taxi.settings import GCP_CONN_ID

LOCAL_PROTOCOLS = ("", "file", "local")
# An object is uploaded in parts of this size, each held in memory until sent: larger parts are fewer requests.
UPLOAD_PART_BYTES = 16 << 20
# Objects are read ahead in blocks of this size.
READ_BLOCK_BYTES = 8 << 20


def staging_root(url: str):
    """The path of a staging URL: a `pathlib.Path` for `file://`, else an `ObjectStoragePath` on
    `google_cloud_default`.

    A local directory needs nothing of Airflow's object storage: the plain functions (and the benchmark, which runs
    them without Airflow) skip its import, about 1 s and 80 MB.
    """
    parts = urlsplit(url)
    if parts.scheme in LOCAL_PROTOCOLS:
        return Path(url2pathname(parts.path))
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(url, conn_id=GCP_CONN_ID)


def month_run_path(url: str, dag_id: str, month: TaxiMonth, run_id: str):
    """Where one run of one DAG stages one month: the Postgres and the GCS DAG of a color share run ids."""
    return staging_root(url) / dag_id / month.label / path_safe(run_id)


def run_path(url: str, dag_id: str, run_id: str):
    """Where one run of a DAG that loads no month (the zone lookup) stages its files."""
    return staging_root(url) / dag_id / path_safe(run_id)


def local_path(path) -> Path | None:
    """The path on this machine's disk of a `pathlib.Path` (or str), which `staging_root` gives for every local
    URL; None for an `ObjectStoragePath`, which it gives only for object storage."""
    return Path(path) if isinstance(path, (str, Path)) else None


def url_of(path) -> str:
    """The URL of a staged path, for the record; `staging_root(url)` opens it again."""
    return path.as_uri()


@contextlib.contextmanager
def _all_or_nothing(path, open_local, open_object):
    """Open `path` to write; it exists only if the block ends without an error.

    A local file is written beside its name and renamed; an object is uploaded in parts and only becomes visible
    when closed, and is deleted again if the writing failed.
    """
    local = local_path(path)
    if local is not None:
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(local.name + ".partial")
        try:
            with open_local(partial) as out:
                yield out
            partial.replace(local)
        finally:
            partial.unlink(missing_ok=True)
        return
    try:
        with path.open("wb", block_size=UPLOAD_PART_BYTES) as raw, open_object(raw) as out:
            yield out
    except BaseException:
        remove(path)
        raise


def open_output(path) -> contextlib.AbstractContextManager[IO[bytes]]:
    """A binary file to write `path` with; it appears only if the writing ends without an error."""
    return _all_or_nothing(path, lambda local: open(local, "wb"), contextlib.nullcontext)


def arrow_output(path) -> contextlib.AbstractContextManager[pa.NativeFile]:
    """`path` opened for pyarrow to write (a local file natively), with `open_output`'s all-or-nothing."""
    return _all_or_nothing(path, lambda local: pa.OSFile(str(local), "wb"), lambda raw: pa.PythonFile(raw, mode="w"))


@contextlib.contextmanager
def open_input(path) -> Iterator[IO[bytes]]:
    """A binary, seekable file to read `path` with."""
    local = local_path(path)
    if local is not None:
        with open(local, "rb") as staged:
            yield staged
    else:
        with path.open("rb", block_size=READ_BLOCK_BYTES, cache_type="readahead") as staged:
            yield staged


@contextlib.contextmanager
def arrow_input(path) -> Iterator[pa.NativeFile]:
    """`path` opened for pyarrow: a local file natively (read without the GIL), an object through its filesystem."""
    local = local_path(path)
    if local is not None:
        with pa.OSFile(str(local)) as staged:
            yield staged
    else:
        with open_input(path) as staged, pa.PythonFile(staged, mode="r") as native:
            yield native


def remove(path) -> None:
    """Remove a staged file or everything under a staged directory; nothing to do if it is not there."""
    local = local_path(path)
    if local is not None:
        if local.is_dir():
            shutil.rmtree(local, ignore_errors=True)
        else:
            local.unlink(missing_ok=True)
        return
    with contextlib.suppress(FileNotFoundError):
        path.fs.rm(path.path, recursive=True)


@dataclasses.dataclass(frozen=True)
class StagedMonth:
    """What the tasks of a month's run hand each other through XCom (as plain JSON): the month, its staged files
    and the counts so far. Never the data."""

    color: str
    month: str
    source_url: str
    download_url: str  # the staged `.csv.gz`, as the release served it
    bytes_downloaded: int
    extract_seconds: float
    cleaned_url: str | None = None  # the staged cleaned month (Arrow IPC), once `clean_month` has run
    rows_read: int | None = None
    rows_kept: int | None = None
    rows_dropped: dict[str, int] = dataclasses.field(default_factory=dict)
    rows_flagged: dict[str, int] = dataclasses.field(default_factory=dict)
    transform_seconds: float | None = None
    # What the server said of the file (a live source re-publishes months: nyc_taxi/republished.py).
    source_etag: str | None = None
    source_last_modified: str | None = None

    @property
    def taxi_month(self) -> TaxiMonth:
        return TaxiMonth.parse(self.color, self.month)

    def as_xcom(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_xcom(cls, value: dict) -> StagedMonth:
        """The record a task returned; keys of an older record that this one lacks are refused by name."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"a staged month's record has unknown keys {sorted(unknown)}: was it written by an "
                             f"older version of the DAGs? Clear the run from its first task")
        return cls(**value)

    def cleaned(self, cleaned_url: str, stats) -> StagedMonth:
        """This record with the cleaned file and the `TransformStats` of cleaning it."""
        return dataclasses.replace(
            self, cleaned_url=cleaned_url, rows_read=stats.rows_read, rows_kept=stats.rows_kept,
            rows_dropped=dict(stats.dropped), rows_flagged=dict(stats.flagged),
            transform_seconds=round(stats.seconds, 3),
        )
