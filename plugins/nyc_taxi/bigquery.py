"""Load a month from its GCS manifest into BigQuery: one table per color, partitioned by pickup date, clustered
by pickup location, the month replaced in one transaction (delete by source month, then insert). The same
transaction records in `<dataset>.<color>_load_audit` which write of the manifest the month came from, so the
months GCS holds newer than BigQuery can be told (`months_to_load`).

Loads go through the google provider's BigQueryHook; load jobs only, since BigQuery reads the objects a
manifest lists and nothing else. The zone lookup is one load job replacing `<dataset>.zones` whole.
"""

from __future__ import annotations

import logging
import re
import time

from nyc_taxi.months import TaxiMonth
from nyc_taxi.schema import STORED_TYPES, LoadedColumn, loaded_columns, pickup_date_column
from nyc_taxi.sql_files import sql_text
from nyc_taxi.zones import ZONES_TABLE, report_unknown_location_ids

log = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,1023}")
_PROJECT = re.compile(r"[a-z][a-z0-9.:-]{4,62}[a-z0-9]")


class BigQueryCheckFailed(ValueError):
    """The loaded month does not match what GCS holds."""


def table_id(project: str, dataset: str, table: str) -> str:
    """`project.dataset.table`, each part validated: BigQuery cannot take identifiers as query parameters."""
    if not _PROJECT.fullmatch(project):
        raise ValueError(f"not a valid BigQuery project id: {project!r}")
    for name in (dataset, table):
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a valid BigQuery dataset or table name: {name!r}")
    return f"{project}.{dataset}.{table}"


def trips_table(project: str, dataset: str, color: str) -> str:
    return table_id(project, dataset, f"{color}_tripdata")


def audit_table(project: str, dataset: str, color: str) -> str:
    """One per color, like the trips tables: BigQuery cancels one of two transactions that change the same table,
    and the yellow and green loads run apart."""
    return table_id(project, dataset, f"{color}_load_audit")


def _ensure_dataset(client, project: str, dataset: str) -> None:
    """Create the dataset only when it is missing: creating, even with exists_ok, needs bigquery.datasets.create on
    the project, which the DAGs' least-privilege account (terraform/) does not have."""
    from google.api_core.exceptions import NotFound

    try:
        client.get_dataset(f"{project}.{dataset}")
    except NotFound:
        client.create_dataset(f"{project}.{dataset}", exists_ok=True)


def _quoted(full_id: str) -> str:
    return f"`{full_id}`"


def _bigquery_type(column: LoadedColumn) -> str:
    return STORED_TYPES[column.kind].bigquery


def _parameter(name: str, kind: str, value) -> dict:
    return {"name": name, "parameterType": {"type": kind}, "parameterValue": {"value": str(value)}}


def replace_month(hook, project: str, dataset: str, location: str, month: TaxiMonth, manifest: dict) -> int:
    """Replace the month in `<dataset>.<color>_tripdata` with the objects the manifest lists; return its rows."""
    started = time.monotonic()
    table = trips_table(project, dataset, month.color)
    staging = table_id(project, dataset, f"{month.color}_tripdata__load_{month.year:04d}_{month.month:02d}")
    client = hook.get_client(project_id=project, location=location)
    _ensure_dataset(client, project, dataset)
    client.query_and_wait(sql_text("bigquery/create_tripdata").format(
        table=_quoted(table),
        columns=",\n    ".join(f"{c.name} {_bigquery_type(c)}" for c in loaded_columns(month.color)),
        partition_column=pickup_date_column(month.color),
    ))
    audit = audit_table(project, dataset, month.color)
    client.query_and_wait(sql_text("bigquery/create_load_audit").format(table=_quoted(audit)))
    try:
        _load_and_replace(hook, project, location, month, manifest, table, staging, audit)
    finally:
        client.delete_table(staging, not_found_ok=True)
    rows = count_month(hook, project, dataset, location, month)
    log.info("%s: %s rows in %s in %.1f s", month, f"{rows:,}", table, time.monotonic() - started)
    return rows


def _load_and_replace(hook, project: str, location: str, month: TaxiMonth, manifest: dict, table: str,
                      staging: str, audit: str) -> None:
    """Load the manifest's objects into the staging table, then swap the month in from it in one transaction."""
    project_id, dataset_id, table_name = staging.split(".")
    hook.insert_job(
        configuration={"load": {
            "sourceUris": [entry["uri"] for entry in manifest["objects"]],
            "sourceFormat": "PARQUET",
            "hivePartitioningOptions": {"mode": "AUTO", "sourceUriPrefix": manifest["source_uri_prefix"]},
            "destinationTable": {"projectId": project_id, "datasetId": dataset_id, "tableId": table_name},
            "writeDisposition": "WRITE_TRUNCATE",
        }},
        project_id=project,
        location=location,
    )
    # The staging table holds what the Parquet files say; the target's types are schema.py's.
    columns = loaded_columns(month.color)
    sql = sql_text("bigquery/replace_month").format(
        table=_quoted(table),
        staging_table=_quoted(staging),
        audit_table=_quoted(audit),
        columns=", ".join(c.name for c in columns),
        select_list=",\n       ".join(f"CAST({c.name} AS {_bigquery_type(c)}) AS {c.name}" for c in columns),
    )
    parameters = [
        _parameter("source_month", "DATE", month.first_day.isoformat()),
        _parameter("manifest_generation", "INT64", manifest["generation"]),
    ]
    hook.insert_job(
        configuration={"query": {"query": sql, "useLegacySql": False, "queryParameters": parameters}},
        project_id=project,
        location=location,
    )


def loaded_months(hook, project: str, dataset: str, location: str, color: str) -> dict[str, dict]:
    """{month label: {"manifest_generation", "rows", "loaded_at"}} for the months of the color in BigQuery: the
    generation is that of the GCS manifest the month was loaded from."""
    from google.api_core.exceptions import NotFound

    sql = sql_text("bigquery/loaded_manifests").format(audit_table=_quoted(audit_table(project, dataset, color)))
    try:
        rows = hook.get_client(project_id=project, location=location).query_and_wait(sql)
        return {f"{row['source_month']:%Y-%m}": {"manifest_generation": row["manifest_generation"],
                                                 "rows": row["row_count"], "loaded_at": row["loaded_at"]}
                for row in rows}
    except NotFound:  # nothing loaded into this dataset yet
        return {}


def loaded_manifest_generations(hook, project: str, dataset: str, location: str, color: str) -> dict[str, int]:
    """{month label: generation of the GCS manifest it was loaded from} for the months of the color in BigQuery."""
    return {month: loaded["manifest_generation"]
            for month, loaded in loaded_months(hook, project, dataset, location, color).items()}


def months_to_load(in_gcs: dict[str, int], in_bigquery: dict[str, int]) -> list[str]:
    """The months whose latest GCS write BigQuery does not hold: never loaded, or written again since."""
    return sorted(month for month, generation in in_gcs.items() if in_bigquery.get(month) != generation)


def count_month(hook, project: str, dataset: str, location: str, month: TaxiMonth) -> int:
    sql = sql_text("bigquery/count_month").format(table=_quoted(trips_table(project, dataset, month.color)))
    return _query_rows(hook, sql, month, project, location)[0]["row_count"]


def rows_per_partition(hook, project: str, dataset: str, location: str, month: TaxiMonth) -> dict[str, int]:
    sql = sql_text("bigquery/rows_per_partition").format(
        table=_quoted(trips_table(project, dataset, month.color)), partition_column=pickup_date_column(month.color)
    )
    return {str(row["pickup_date"]): row["row_count"] for row in _query_rows(hook, sql, month, project, location)}


def zones_table(project: str, dataset: str) -> str:
    return table_id(project, dataset, ZONES_TABLE)


def replace_zones(hook, project: str, dataset: str, location: str, uri: str) -> int:
    """Replace `<dataset>.zones` whole with the zone lookup's Parquet object at `uri` (one load job, which commits
    all or nothing); return its rows. The object's types are schema.py's, so the table's are too."""
    client = hook.get_client(project_id=project, location=location)
    _ensure_dataset(client, project, dataset)
    project_id, dataset_id, table_name = zones_table(project, dataset).split(".")
    hook.insert_job(
        configuration={"load": {
            "sourceUris": [uri],
            "sourceFormat": "PARQUET",
            "destinationTable": {"projectId": project_id, "datasetId": dataset_id, "tableId": table_name},
            "writeDisposition": "WRITE_TRUNCATE",
        }},
        project_id=project,
        location=location,
    )
    rows = client.get_table(zones_table(project, dataset)).num_rows
    log.info("%s: %s zones from %s", zones_table(project, dataset), rows, uri)
    return rows


def unknown_location_ids(hook, project: str, dataset: str, location: str, month: TaxiMonth) -> dict[int, int] | None:
    """{location id: pickups and dropoffs naming it} for the ids of the month that `<dataset>.zones` lacks, the most
    frequent first; None if the lookup is not loaded."""
    from google.api_core.exceptions import NotFound

    try:
        hook.get_client(project_id=project, location=location).get_table(zones_table(project, dataset))
    except NotFound:
        return None
    sql = sql_text("bigquery/unknown_location_ids").format(
        table=_quoted(trips_table(project, dataset, month.color)), zones_table=_quoted(zones_table(project, dataset)))
    return {row["location_id"]: row["pickups_or_dropoffs"] for row in _query_rows(hook, sql, month, project, location)}


def _query_rows(hook, sql: str, month: TaxiMonth, project: str, location: str) -> list[dict]:
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("source_month", "DATE", month.first_day)]
    )
    client = hook.get_client(project_id=project, location=location)
    return [dict(row.items()) for row in client.query_and_wait(sql, job_config=config)]


def check_month(hook, project: str, dataset: str, location: str, month: TaxiMonth, manifest: dict) -> dict:
    """The month's rows per pickup date in BigQuery must equal those of the objects in GCS; location ids that
    `<dataset>.zones` lacks are warned of, as in Postgres."""
    in_gcs: dict[str, int] = {}
    for entry in manifest["objects"]:
        pickup_date = entry["uri"].rsplit("/", 2)[-2].split("=", 1)[1]
        in_gcs[pickup_date] = in_gcs.get(pickup_date, 0) + entry["rows"]
    in_bigquery = rows_per_partition(hook, project, dataset, location, month)
    if in_bigquery != in_gcs:
        differences = {day: (in_gcs.get(day, 0), in_bigquery.get(day, 0))
                       for day in sorted(set(in_gcs) | set(in_bigquery)) if in_gcs.get(day) != in_bigquery.get(day)}
        raise BigQueryCheckFailed(
            f"{month}: rule 'rows per pickup date equal GCS' broken on {len(differences)} dates "
            f"(date: rows in GCS, rows in BigQuery): {differences}"
        )
    log.info("%s: %s rows in %s pickup dates, as in GCS", month, f"{sum(in_bigquery.values()):,}", len(in_bigquery))
    unknown = report_unknown_location_ids(month, unknown_location_ids(hook, project, dataset, location, month),
                                          zones_table(project, dataset))
    return {"rows": sum(in_bigquery.values()), "pickup_dates": len(in_bigquery), "unknown_location_ids": unknown}
