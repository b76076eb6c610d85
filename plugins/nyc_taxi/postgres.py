"""Load a cleaned month into its own partition of `<schema>.<color>_tripdata`, replacing it in one transaction, and
check it; load the zone lookup into `<schema>.zones`, replaced whole."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pgpq
import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.rows import namedtuple_row

from nyc_taxi.months import TaxiMonth
from nyc_taxi.schema import STORED_TYPES, Kind, LoadedColumn, loaded_column_names, loaded_columns, zone_columns
from nyc_taxi.sql_files import statement
from nyc_taxi.transform import TransformStats
from nyc_taxi.zones import ZONES_TABLE, report_unknown_location_ids

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "ny_taxi"
PROGRESS_EVERY_ROWS = 500_000
# TLC data dictionary: 1 Creative Mobile Technologies, 2 Curb (VeriFone), 6 Myle, 7 Helix; 4 appears in 2019-2020 files.
KNOWN_VENDOR_IDS = (1, 2, 4, 6, 7)
# Each color's rules as the check sees them (include/sql/<name>.sql): FHV has no vendor, passengers or distance.
CHECK_STATEMENTS = {"yellow": "check_month", "green": "check_month", "fhv": "check_fhv_month",
                    "fhvhv": "check_fhvhv_month"}
# The Postgres type information_schema reports for each Arrow type a cleaned batch may have.
_KIND_OF_ARROW = {"int64": Kind.INTEGER, "double": Kind.FLOAT, "timestamp[us]": Kind.TIMESTAMP, "string": Kind.TEXT,
                  "date32[day]": Kind.DATE}


class TableSchemaRefused(ValueError):
    """A month's column exists in the table with another type: its meaning changed. Names the month and column."""


def table_name(color: str) -> str:
    return f"{color}_tripdata"


def partition_name(month: TaxiMonth) -> str:
    return f"{month.color}_tripdata_{month.year:04d}_{month.month:02d}"


@dataclass(frozen=True)
class LoadAudit:
    """What the audit row records besides the load itself. `transform` is read once the last batch is copied, so
    a load that cleans as it copies passes the stats its batches fill in."""

    run_id: str
    source_url: str
    bytes_downloaded: int
    extract_seconds: float
    transform: TransformStats
    source_etag: str | None = None
    source_last_modified: str | None = None


def _column_definitions(columns: list[LoadedColumn]) -> sql.Composed:
    """The table's columns as DDL (`"vendor_id" bigint, ...`), from schema.py: names quoted, types its constants."""
    return sql.SQL(",\n    ").join(
        sql.SQL("{} {}").format(sql.Identifier(column.name), sql.SQL(STORED_TYPES[column.kind].postgres))
        for column in columns
    )


def _exists(conn: psycopg.Connection, schema: str, table: str, column: str | None = None) -> bool:
    qualified_name = f'"{schema}"."{table}"'
    with conn.cursor(row_factory=namedtuple_row) as cursor:
        if column is None:
            return cursor.execute(statement("table_exists"), {"qualified_name": qualified_name}).fetchone()[0]
        return cursor.execute(statement("column_exists"),
                              {"qualified_name": qualified_name, "column_name": column}).fetchone()[0]


def create_tables(conn: psycopg.Connection, color: str, schema: str = DEFAULT_SCHEMA) -> None:
    with conn.transaction():
        conn.execute(statement("advisory_lock"), {"lock_name": f"{schema} ddl"})
        conn.execute(statement("create_schema", schema=schema))
        conn.execute(statement("create_tripdata", schema=schema, table=table_name(color),
                               columns=_column_definitions(loaded_columns(color))))
        conn.execute(statement("create_load_audit", schema=schema))
        if not _exists(conn, schema, "load_audit", "rows_flagged"):
            conn.execute(statement("add_load_audit_rows_flagged", schema=schema))
        if not _exists(conn, schema, "load_audit", "source_etag"):
            conn.execute(statement("add_load_audit_source_etag", schema=schema))


def widen_table(conn: psycopg.Connection, month: TaxiMonth, batch_schema: pa.Schema,
                schema: str = DEFAULT_SCHEMA) -> list[str]:
    """Add to `<schema>.<color>_tripdata` each column of the month's batches it lacks (a newer TLC file's column:
    airport_fee, cbd_congestion_fee); refuse, naming month and column, one it has with another type. Returns the
    columns added. In a short transaction of its own, before the month's: ALTER TABLE waits for the table's readers
    and other months' loads, so it runs only when a column is missing."""
    table = table_name(month.color)
    wanted = {}
    for field in batch_schema:
        kind = _KIND_OF_ARROW.get(str(field.type))
        if kind is None:
            raise TableSchemaRefused(f"{month}: column {field.name} is {field.type}, which no table type holds")
        wanted[field.name] = kind
    with conn.cursor(row_factory=namedtuple_row) as cursor:
        existing = {row.column_name: row.data_type for row in
                    cursor.execute(statement("table_columns"), {"schema": schema, "table": table})}
    conflicts = [f"{name} is {STORED_TYPES[kind].postgres} in the month but {existing[name]} in {schema}.{table}"
                 for name, kind in wanted.items() if name in existing and existing[name] != STORED_TYPES[kind].postgres]
    if conflicts:
        raise TableSchemaRefused(f"{month} refused, a column changed meaning: {'; '.join(conflicts)}")
    missing = [name for name in wanted if name not in existing]
    if not missing:
        return []
    with conn.transaction():
        conn.execute(statement("advisory_lock"), {"lock_name": f"{schema} ddl"})
        for name in missing:
            conn.execute(statement("add_tripdata_column", schema=schema, table=table,
                                   column=sql.Identifier(name), type=sql.SQL(STORED_TYPES[wanted[name]].postgres)))
    log.info("%s: %s.%s widened with %s, which this month's file brings", month, schema, table, ", ".join(missing))
    return missing


def create_month_partition(conn: psycopg.Connection, month: TaxiMonth, schema: str = DEFAULT_SCHEMA) -> None:
    """Create the month's partition unless it exists, in a short transaction of its own."""
    partition = partition_name(month)
    with conn.transaction():
        conn.execute(statement("advisory_lock"), {"lock_name": f"{schema} ddl"})
        if _exists(conn, schema, partition):
            return
        conn.execute(
            statement(
                "create_month_partition",
                schema=schema,
                table=table_name(month.color),
                partition=partition,
                source_month=sql.Literal(month.first_day),
            )
        )


def replace_month(
    conn: psycopg.Connection,
    month: TaxiMonth,
    batches: Iterable[pa.RecordBatch],
    audit: LoadAudit | None = None,
    schema: str = DEFAULT_SCHEMA,
) -> int:
    """Replace the month's rows with `batches`, streamed through COPY; return the rows loaded.

    Delete, copy and audit row commit together: if anything fails, the month's previous rows stay as they were.
    The COPY is binary (pgpq encodes the Arrow batches), which spares Postgres parsing text.
    """
    create_tables(conn, month.color, schema)
    create_month_partition(conn, month, schema)
    batches = iter(batches)
    first = next(batches, None)
    columns = loaded_column_names(month.color) if first is None else first.schema.names
    if first is not None:
        widen_table(conn, month, first.schema, schema)
        batches = itertools.chain([first], batches)
    partition = partition_name(month)
    started = time.monotonic()
    with conn.transaction():
        conn.execute(statement("advisory_lock"), {"lock_name": f"{schema}.{partition}"})
        deleted = conn.execute(statement("delete_month", schema=schema, partition=partition)).rowcount
        rows_loaded = 0
        next_report = PROGRESS_EVERY_ROWS
        copy_sql = statement(
            "copy_month",
            schema=schema,
            partition=partition,
            columns=sql.SQL(", ").join(sql.Identifier(name) for name in [*columns, "source_month"]),
        )
        source_month = pa.scalar(month.first_day, pa.date32())
        encoder = None
        with conn.cursor().copy(copy_sql) as copy:
            for batch in batches:
                batch = batch.select(columns)
                batch = batch.append_column("source_month", pa.repeat(source_month, batch.num_rows))
                if encoder is None:
                    encoder = pgpq.ArrowToPostgresBinaryEncoder(batch.schema)
                    copy.write(encoder.write_header())
                copy.write(encoder.write_batch(batch))
                rows_loaded += batch.num_rows
                if rows_loaded >= next_report:
                    log.info("%s: %s rows copied, %.0f rows/s", month, f"{rows_loaded:,}",
                             rows_loaded / max(time.monotonic() - started, 1e-9))
                    next_report += PROGRESS_EVERY_ROWS
            if encoder is not None:
                copy.write(encoder.finish())
        seconds = time.monotonic() - started
        if audit is not None:
            conn.execute(
                statement("record_load_audit", schema=schema),
                {
                    "color": month.color,
                    "source_month": month.first_day,
                    "run_id": audit.run_id,
                    "source_url": audit.source_url,
                    "bytes_downloaded": audit.bytes_downloaded,
                    "rows_read": audit.transform.rows_read,
                    "rows_dropped": json.dumps(audit.transform.dropped),
                    "rows_flagged": json.dumps(audit.transform.flagged),
                    "rows_loaded": rows_loaded,
                    "extract_seconds": audit.extract_seconds,
                    "transform_seconds": round(audit.transform.seconds, 3),
                    "load_seconds": seconds,
                },
            )
            if audit.source_etag or audit.source_last_modified:
                conn.execute(statement("record_load_audit_source_file", schema=schema), {
                    "color": month.color, "source_month": month.first_day, "run_id": audit.run_id,
                    "source_etag": audit.source_etag, "source_last_modified": audit.source_last_modified,
                })
    log.info("%s: replaced %s rows with %s in %.1f s (%.0f rows/s)", month, f"{deleted:,}", f"{rows_loaded:,}",
             seconds, rows_loaded / max(seconds, 1e-9))
    return rows_loaded


class DataQualityError(ValueError):
    """Rows in Postgres break a rule; the message names each rule, how many rows broke it, and examples."""


def vendor_id_published(month: TaxiMonth) -> bool:
    """Whether the month's files give a vendor id: all the release's do; the TLC's 2009-2010 yellow ones do not."""
    from nyc_taxi.schema import PARQUET_COLUMNS

    columns = PARQUET_COLUMNS.get(month.color, ())
    return not columns or any(c.loaded_as == "vendor_id" and c.in_month(month.label) for c in columns)


def check_month(
    conn: psycopg.Connection, month: TaxiMonth, expected_rows: int, schema: str = DEFAULT_SCHEMA
) -> dict:
    """Check the loaded month against its color's rules and the expected row count, failing with every broken rule;
    then warn of location ids the zone lookup lacks. Returns the row count and those ids ({id: pickups or dropoffs},
    None when the lookup is not loaded)."""
    partition = partition_name(month)
    with conn.cursor(row_factory=namedtuple_row) as cursor:
        row_count = cursor.execute(statement("count_month", schema=schema, partition=partition)).fetchone().row_count
        broken = cursor.execute(
            statement(CHECK_STATEMENTS[month.color], schema=schema, partition=partition),
            {"known_vendor_ids": list(KNOWN_VENDOR_IDS), "vendor_id_published": vendor_id_published(month)},
        ).fetchall()
    problems = [
        f"rule '{row.rule}' broken by {row.rows_broken:,} rows, e.g. {'; '.join(row.examples)}" for row in broken
    ]
    if row_count != expected_rows:
        problems.insert(0, f"rule 'row count equals the transform's' broken: {row_count:,} rows loaded, "
                           f"{expected_rows:,} expected")
    if problems:
        raise DataQualityError(f"{month} in {schema}.{partition}: " + " | ".join(problems))
    log.info("%s: %s rows pass all checks", month, f"{row_count:,}")
    unknown = report_unknown_location_ids(month, unknown_location_ids(conn, month, schema), f"{schema}.{ZONES_TABLE}")
    return {"row_count": row_count, "unknown_location_ids": unknown}


def unknown_location_ids(conn: psycopg.Connection, month: TaxiMonth, schema: str = DEFAULT_SCHEMA) -> dict | None:
    """{location id: pickups and dropoffs naming it} for the ids of the month that `<schema>.zones` lacks, the most
    frequent first; None if the lookup is not loaded."""
    if not _exists(conn, schema, ZONES_TABLE):
        return None
    with conn.cursor(row_factory=namedtuple_row) as cursor:
        rows = cursor.execute(statement("unknown_location_ids", schema=schema, partition=partition_name(month)))
        return {row.location_id: row.pickups_or_dropoffs for row in rows}


def replace_zones(conn: psycopg.Connection, zones: pa.Table, schema: str = DEFAULT_SCHEMA) -> int:
    """Replace `<schema>.zones` whole with the lookup's rows, in one transaction; return the rows loaded."""
    columns = [column.name for column in zone_columns()]
    with conn.transaction():
        conn.execute(statement("advisory_lock"), {"lock_name": f"{schema} ddl"})
        conn.execute(statement("create_schema", schema=schema))
        conn.execute(statement("create_zones", schema=schema, columns=_column_definitions(zone_columns())))
    with conn.transaction():
        conn.execute(statement("advisory_lock"), {"lock_name": f"{schema}.{ZONES_TABLE}"})
        deleted = conn.execute(statement("delete_zones", schema=schema)).rowcount
        copy_sql = statement("copy_zones", schema=schema,
                             columns=sql.SQL(", ").join(sql.Identifier(name) for name in columns))
        zones = zones.select(columns)
        encoder = pgpq.ArrowToPostgresBinaryEncoder(zones.schema)
        with conn.cursor().copy(copy_sql) as copy:
            copy.write(encoder.write_header())
            for batch in zones.to_batches():
                copy.write(encoder.write_batch(batch))
            copy.write(encoder.finish())
    log.info("%s.%s: replaced %s zones with %s", schema, ZONES_TABLE, deleted, zones.num_rows)
    return zones.num_rows
