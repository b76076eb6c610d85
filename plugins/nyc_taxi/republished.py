"""Which loaded months of a live source were re-published since: the TLC rewrites files it has published (every file
on 2022-06-30, when it moved to Parquet; batches of eight on later dates, docs/parquet-eras.md).

How it is noticed: each load's audit row keeps what the server said of the file (`source_etag`, and its size in
`bytes_downloaded`). Asking the file's URL again with HEAD, another ETag, or when the server gives none another size,
means the file changed: the month is loaded again (dags/tlc_republished.py starts its Postgres run). A month whose
file is gone (403/404) is left as it is, and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedFile:
    month: str
    url: str
    etag: str | None
    bytes: int


def loaded_files(conn, color: str, schema: str) -> list[LoadedFile]:
    """The file each loaded month of the color was last read from, from `<schema>.load_audit`."""
    from psycopg.rows import namedtuple_row

    from nyc_taxi.sql_files import statement

    if conn.execute("SELECT to_regclass(%s)", (f"{schema}.load_audit",)).fetchone()[0] is None:
        return []
    with conn.cursor(row_factory=namedtuple_row) as cursor:
        rows = cursor.execute(statement("latest_source_files", schema=schema), {"color": color}).fetchall()
    return [LoadedFile(row.month, row.source_url, row.source_etag, row.bytes_downloaded) for row in rows]


def republished(files: list[LoadedFile], head: Callable[[str], tuple[int, dict]]) -> list[str]:
    """The months whose file now has another ETag (or size): `head(url)` answers (HTTP status, headers)."""
    months = []
    for file in files:
        if not file.url.endswith(".parquet"):
            continue  # the release is frozen: its files are never re-published
        status, headers = head(file.url)
        if status != 200:
            log.warning("%s answered HTTP %s: its month %s stays as loaded", file.url, status, file.month)
            continue
        etag, size = headers.get("ETag"), headers.get("Content-Length")
        changed = (etag != file.etag) if etag and file.etag else (size is not None and int(size) != file.bytes)
        if changed:
            log.info("%s was re-published: ETag %s, %s bytes (loaded: %s, %s bytes)", file.url, etag, size,
                     file.etag, f"{file.bytes:,}")
            months.append(file.month)
    return months
