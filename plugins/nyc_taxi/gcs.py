"""A cleaned month to GCS as Parquet partitioned by pickup date (hive layout), replaced whole, then a manifest.

Under `gs://<bucket>/<prefix>/<color>/`:

    <color>_pickup_date=2021-01-01/2021-01-0.parquet   the month's trips, one folder per pickup date
    _manifests/2021-01.json                           written last: the month's objects and their row counts
    by_run_date/2021/01/01/daily-trips.parquet        the module's one object per run, named by the run's date

and the zone lookup at `gs://<bucket>/<prefix>/zones/taxi_zone_lookup.parquet`, one object replaced whole.

A reload uploads the month under `<prefix>/_staging/` first, removes the manifest, copies the objects into place,
deletes objects the month no longer has, and writes the manifest again. A load into BigQuery reads only the
objects a manifest lists, so a month whose write failed halfway is never loaded.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from nyc_taxi.months import TaxiMonth, path_safe
from nyc_taxi.schema import arrow_schema, pickup_date_column

log = logging.getLogger(__name__)

# The writer buffers up to this many rows per open pickup date (a month has 31+ open at once, the rows
# arriving in no order): enough for readable row groups, little enough to keep the peak flat.
ROWS_PER_GROUP = 8_192
PARQUET = "application/vnd.apache.parquet"
# A month is 28-31 small objects: uploads, copies and deletes go a few at a time, as google-cloud-storage's
# transfer_manager does, instead of one round trip after another.
PARALLEL_REQUESTS = 8


class MonthNotInGcs(LookupError):
    """The month has no manifest: it was never written, or its last write did not finish."""


def color_prefix(prefix: str, color: str) -> str:
    return f"{prefix.strip('/')}/{color}"


def manifests_prefix(prefix: str, color: str) -> str:
    return f"{color_prefix(prefix, color)}/_manifests/"


@dataclass(frozen=True)
class MonthLayout:
    """Where one month's objects live in the bucket."""

    bucket: str
    prefix: str
    month: TaxiMonth

    @property
    def color_prefix(self) -> str:
        return color_prefix(self.prefix, self.month.color)

    @property
    def partition_column(self) -> str:
        return pickup_date_column(self.month.color)

    def object_name(self, pickup_date: str, index: int) -> str:
        return f"{self.color_prefix}/{self.partition_column}={pickup_date}/{self.month.label}-{index}.parquet"

    def is_month_object(self, name: str) -> bool:
        folder, _, file_name = name.rpartition("/")
        return (folder.startswith(f"{self.color_prefix}/{self.partition_column}=")
                and file_name.startswith(f"{self.month.label}-") and file_name.endswith(".parquet"))

    @property
    def manifest_name(self) -> str:
        return f"{manifests_prefix(self.prefix, self.month.color)}{self.month.label}.json"

    def staging_prefix(self, run_id: str) -> str:
        return f"{self.prefix.strip('/')}/_staging/{self.month.color}/{self.month.label}/{path_safe(run_id)}"

    def run_date_object(self, run_date: dt.date) -> str:
        return f"{self.color_prefix}/by_run_date/{run_date:%Y/%m/%d}/daily-trips.parquet"

    def uri(self, name: str) -> str:
        return f"gs://{self.bucket}/{name}"


def write_month_partitions(batches: Iterable[pa.RecordBatch], month: TaxiMonth, local_dir: Path) -> dict[str, dict]:
    """Write the batches as hive-partitioned Parquet files under `local_dir`; {relative path: {pickup_date, rows}}.

    Written locally, then uploaded: pyarrow's own GCS writer hangs when the bucket goes away mid-write.
    """
    written: dict[str, dict] = {}

    def remember(written_file) -> None:
        relative = Path(written_file.path).relative_to(local_dir)
        written[str(relative)] = {"pickup_date": relative.parent.name.split("=", 1)[1],
                                  "rows": written_file.metadata.num_rows}

    batches, schema = _with_schema(batches, month.color)
    ds.write_dataset(
        batches,
        local_dir,
        schema=schema,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([schema.field(pickup_date_column(month.color))]), flavor="hive"),
        basename_template=f"{month.label}-{{i}}.parquet",
        file_options=ds.ParquetFileFormat().make_write_options(compression="snappy"),
        min_rows_per_group=ROWS_PER_GROUP,
        max_rows_per_group=ROWS_PER_GROUP * 4,
        existing_data_behavior="delete_matching",
        preserve_order=True,  # the same month always writes the same bytes
        file_visitor=remember,
    )
    return written


def _with_schema(batches: Iterable[pa.RecordBatch], color: str) -> tuple[Iterable[pa.RecordBatch], pa.Schema]:
    """The batches and their schema: the first batch's, which for a TLC Parquet month may have more columns than
    the release's (`arrow_schema`, the schema of a month without batches)."""
    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        return iter(()), arrow_schema(color)
    return itertools.chain([first], batches), first.schema


def upload_to_staging(client, layout: MonthLayout, local_dir: Path, written: dict[str, dict], run_id: str):
    """Upload the month's files under the run's staging prefix; {staged object name: {pickup_date, rows}}.

    `client` is a `google.cloud.storage.Client`; in a task, `GCSHook(gcp_conn_id).get_conn()`.
    """
    from google.cloud.storage import transfer_manager

    bucket = client.bucket(layout.bucket)
    staging = layout.staging_prefix(run_id)
    staged = {f"{staging}/{relative}": info for relative, info in written.items()}
    transfer_manager.upload_many(
        [(str(local_dir / relative), bucket.blob(f"{staging}/{relative}")) for relative in written],
        upload_kwargs={"content_type": PARQUET},
        worker_type=transfer_manager.THREAD,
        max_workers=PARALLEL_REQUESTS,
        raise_exception=True,
    )
    return staged


def publish_month(client, layout: MonthLayout, staged: dict[str, dict], run_id: str | None = None) -> dict:
    """Move a staged month into place and write its manifest; returns the manifest, with its GCS generation.

    The manifest's metadata also says its rows and the run that wrote it, so one list call tells what GCS holds.
    """
    started = time.monotonic()
    bucket = client.bucket(layout.bucket)
    _delete_if_present(bucket, layout.manifest_name)
    manifest_blob = bucket.blob(layout.manifest_name)
    per_date: dict[str, list[str]] = {}
    for staged_name, info in sorted(staged.items()):
        per_date.setdefault(info["pickup_date"], []).append(staged_name)
    final_names = {
        staged_name: layout.object_name(pickup_date, index)
        for pickup_date, staged_names in sorted(per_date.items())
        for index, staged_name in enumerate(staged_names)
    }
    _in_parallel(lambda staged_name: bucket.copy_blob(bucket.blob(staged_name), bucket, final_names[staged_name]),
                 final_names)
    objects = {final_name: staged[staged_name]["rows"] for staged_name, final_name in final_names.items()}
    existing = client.list_blobs(layout.bucket, prefix=f"{layout.color_prefix}/{layout.partition_column}=")
    stale = [blob.name for blob in existing if layout.is_month_object(blob.name) and blob.name not in objects]
    _delete(bucket, stale)
    manifest = {
        "color": layout.month.color,
        "month": layout.month.label,
        "rows": sum(objects.values()),
        "objects": [{"uri": layout.uri(name), "rows": rows} for name, rows in objects.items()],
        "source_uri_prefix": layout.uri(f"{layout.color_prefix}/"),
    }
    manifest_blob.metadata = {"rows": str(manifest["rows"]), **({"run_id": run_id} if run_id else {})}
    manifest_blob.upload_from_string(json.dumps(manifest, indent=1), content_type="application/json")
    manifest["generation"] = manifest_blob.generation
    _delete(bucket, staged)
    log.info("%s: %s rows in %s objects at %s (%s stale removed) in %.1f s", layout.month, f"{manifest['rows']:,}",
             len(objects), layout.uri(layout.color_prefix), len(stale), time.monotonic() - started)
    return manifest


def publish_month_from_local_files(client, layout: MonthLayout, local_dir: Path, written: dict[str, dict],
                                   run_id: str) -> dict:
    """Upload the month's local partition files to staging and publish them; the staged objects never outlive it."""
    try:
        return publish_month(client, layout, upload_to_staging(client, layout, local_dir, written, run_id), run_id)
    finally:
        staging = layout.staging_prefix(run_id)
        try:
            _delete(client.bucket(layout.bucket), [blob.name for blob in client.list_blobs(layout.bucket,
                                                                                             prefix=f"{staging}/")])
        except Exception as error:  # noqa: BLE001 - GCS may be what failed; the next run's staging is its own
            log.warning("could not remove %s: %s", layout.uri(staging), error)


def _in_parallel(request: Callable[[str], object], names: Iterable[str]) -> None:
    """One request per object name, a few at a time; the first failure is raised once all have ended."""
    with ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:
        for _ in pool.map(request, names):
            pass


def _delete(bucket, names: Iterable[str]) -> None:
    _in_parallel(lambda name: _delete_if_present(bucket, name), names)


def _delete_if_present(bucket, name: str) -> None:
    """Delete the object; one already gone (never written, or deleted by a retried request) is as good as deleted."""
    from google.api_core.exceptions import NotFound

    try:
        bucket.blob(name).delete()
    except NotFound:
        pass


def read_manifest(client, layout: MonthLayout) -> dict:
    """The month's manifest, with its `generation`: GCS numbers every write of an object anew."""
    manifest_blob = client.bucket(layout.bucket).get_blob(layout.manifest_name)
    if manifest_blob is None:
        raise MonthNotInGcs(
            f"{layout.month} has no complete write in {layout.uri(layout.color_prefix)}: "
            f"{layout.uri(layout.manifest_name)} is missing (never written, or the last write failed halfway)"
        )
    # That write and no other: a rewrite in between fails the read instead of mixing two writes.
    contents = manifest_blob.download_as_bytes(if_generation_match=manifest_blob.generation)
    return {**json.loads(contents), "generation": manifest_blob.generation}


def _manifests(client, bucket: str, prefix: str, color: str):
    """(month label, manifest blob) for every month of the color completely written to GCS: one list call."""
    folder = manifests_prefix(prefix, color)
    for blob in client.list_blobs(bucket, prefix=folder):
        if blob.name.endswith(".json"):
            yield blob.name.removeprefix(folder).removesuffix(".json"), blob


def manifest_generations(client, bucket: str, prefix: str, color: str) -> dict[str, int]:
    """{month label: generation of its manifest} for every month of the color completely written to GCS."""
    return {month: blob.generation for month, blob in _manifests(client, bucket, prefix, color)}


@dataclass(frozen=True)
class PublishedMonth:
    """A month's latest complete write to GCS, as its manifest tells."""

    rows: int
    written_at: dt.datetime
    generation: int
    run_id: str | None


def published_months(client, bucket: str, prefix: str, color: str) -> dict[str, PublishedMonth]:
    """{month label: its latest complete write} for every month of the color in GCS: one list call, and one read per
    manifest written before manifests carried their rows in their metadata."""
    months = {}
    for month, blob in _manifests(client, bucket, prefix, color):
        metadata = blob.metadata or {}
        rows = metadata.get("rows")
        if rows is None:
            rows = json.loads(blob.download_as_bytes(if_generation_match=blob.generation))["rows"]
        months[month] = PublishedMonth(
            rows=int(rows), written_at=blob.updated, generation=blob.generation, run_id=metadata.get("run_id"))
    return months


def upload_run_date_object(
    client, batches: Iterable[pa.RecordBatch], layout: MonthLayout, local_file: Path, run_date: dt.date
) -> tuple[str, int]:
    """The module's single, unpartitioned object of the run, named by the run's date; returns (uri, rows)."""
    rows = 0
    batches, schema = _with_schema(batches, layout.month.color)
    with pq.ParquetWriter(local_file, schema, compression="snappy") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    name = layout.run_date_object(run_date)
    client.bucket(layout.bucket).blob(name).upload_from_filename(str(local_file), content_type=PARQUET)
    return layout.uri(name), rows


def zone_lookup_object(prefix: str) -> str:
    return f"{prefix.strip('/')}/zones/taxi_zone_lookup.parquet"


def upload_zone_lookup(client, bucket: str, prefix: str, zones: pa.Table, local_file: Path) -> str:
    """The zone lookup as one Parquet object, which a write replaces whole; returns its URI."""
    pq.write_table(zones, local_file, compression="snappy")
    name = zone_lookup_object(prefix)
    client.bucket(bucket).blob(name).upload_from_filename(str(local_file), content_type=PARQUET)
    log.info("%s zones at gs://%s/%s", zones.num_rows, bucket, name)
    return f"gs://{bucket}/{name}"
