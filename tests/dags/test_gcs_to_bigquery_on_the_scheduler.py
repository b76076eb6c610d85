"""Catchup and a backfill of the GCS DAG on a running scheduler, each month landing in BigQuery through the asset.

Starts the local stack (api-server, scheduler, dag-processor) with the job schedule on and the schedule narrowed
to two months (`NYC_TAXI_SCHEDULE_START`/`_END`). Unpausing the GCS DAG makes the scheduler catch up those
months; each written month updates the asset, and the scheduler starts the BigQuery DAG from the events (and
once for the day).
A backfill with `--reprocess-behavior completed` then writes and loads every month again: same objects, same
counts.
"""

import hashlib
import json

import psycopg
import pytest
from google.api_core.exceptions import NotFound

from tests.conftest import GCP_PROJECT
from tests.dags.conftest import backfill_and_wait, unpause, wait_for

GCS_DAG = "green_taxi_to_gcs"
BIGQUERY_DAG = "green_taxi_gcs_to_bigquery"
BUCKET = "nyc-taxi-scheduler"
DATASET = "scheduler"
MONTHS = ["2020-04", "2020-05"]  # two are enough to show "each month once"; each costs the suite ~20 s


@pytest.fixture(scope="module")
def stack(airflow_stack, gcs_emulator, bigquery_emulator):
    gcs_emulator.create_bucket(BUCKET)
    env = {**gcs_emulator.environment(), **bigquery_emulator.environment(),
           "AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET": BUCKET, "AIRFLOW_VAR_NYC_TAXI_BIGQUERY_DATASET": DATASET,
           "NYC_TAXI_SCHEDULE_START": MONTHS[0], "NYC_TAXI_SCHEDULE_END": MONTHS[-1]}
    with airflow_stack("scheduler", env) as running:
        yield running


def dag_runs(stack, dag_id):
    with psycopg.connect(stack.metadata_dsn) as conn:
        return conn.execute(
            "SELECT to_char(logical_date, 'YYYY-MM'), run_type, state FROM dag_run WHERE dag_id = %s ORDER BY id",
            (dag_id,),
        ).fetchall()


def months_loaded_into_bigquery(stack) -> int:
    """How many months the BigQuery DAG has loaded so far, counted over all its runs' mapped loads."""
    with psycopg.connect(stack.metadata_dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM task_instance WHERE dag_id = %s AND task_id = 'load_month_to_bigquery'"
            " AND state = 'success'", (BIGQUERY_DAG,),
        ).fetchone()[0]


def bigquery_idle_after(stack, months_loaded: int) -> bool:
    """The BigQuery DAG has loaded that many months, has no run left to finish and no event waiting for a run."""
    runs = dag_runs(stack, BIGQUERY_DAG)
    with psycopg.connect(stack.metadata_dsn) as conn:
        events_waiting = conn.execute("SELECT count(*) FROM asset_dag_run_queue WHERE target_dag_id = %s",
                                      (BIGQUERY_DAG,)).fetchone()[0]
    return (months_loaded_into_bigquery(stack) >= months_loaded and events_waiting == 0
            and all(state in ("success", "failed") for _, _, state in runs))


def rows_per_month_in_bigquery(bigquery_emulator) -> dict[str, int]:
    try:
        rows = bigquery_emulator.client().query_and_wait(
            f"SELECT FORMAT_DATE('%Y-%m', source_month), COUNT(*) FROM `{GCP_PROJECT}.{DATASET}.green_tripdata`"
            " GROUP BY 1")
    except NotFound:
        return {}
    return {row[0]: row[1] for row in rows}


def month_objects_in_gcs() -> tuple[dict[str, int], dict[str, str]]:
    """Rows per month from the manifests, and the md5 of every partition object (the `gcp` fixture points the
    client at the emulator)."""
    from google.cloud import storage

    client = storage.Client(project=GCP_PROJECT)
    manifests, digests = {}, {}
    for blob in client.list_blobs(BUCKET, prefix="nyc_taxi/green/"):
        if "/_manifests/" in blob.name:
            manifest = json.loads(blob.download_as_bytes())
            manifests[manifest["month"]] = manifest["rows"]
        elif "green_pickup_date=" in blob.name:
            digests[blob.name] = hashlib.md5(blob.download_as_bytes()).hexdigest()
    return manifests, digests


def test_catchup_and_a_backfill_land_each_month_once_in_gcs_and_bigquery(
    stack, publish, gcp, bigquery_emulator
):
    expected = {month: publish("green", int(month[:4]), int(month[5:]), rows=4_000) for month in MONTHS}
    unpause(stack, BIGQUERY_DAG)
    unpause(stack, GCS_DAG)

    # Catchup: one scheduled run per month of the narrowed schedule, and not one more.
    wait_for(lambda: len(runs := dag_runs(stack, GCS_DAG)) == len(MONTHS) and all(run[2] in ("success", "failed")
                                                                           for run in runs),
             420, "catchup to run the months")
    assert dag_runs(stack, GCS_DAG) == [(month, "scheduled", "success") for month in MONTHS]
    wait_for(lambda: bigquery_idle_after(stack, len(MONTHS)), 300, "the asset-triggered loads into BigQuery")
    # The asset's events started runs, beside the day's catch-up run that unpausing started at once.
    assert {(run_type, state) for _, run_type, state in dag_runs(stack, BIGQUERY_DAG)} == {
        ("asset_triggered", "success"), ("scheduled", "success")}
    manifests, first_objects = month_objects_in_gcs()
    assert manifests == expected
    assert rows_per_month_in_bigquery(bigquery_emulator) == expected

    # Reprocessing the months writes the same objects and replaces each month in BigQuery once more.
    backfill_and_wait(stack, GCS_DAG, MONTHS, "--reprocess-behavior", "completed")
    wait_for(lambda: bigquery_idle_after(stack, 2 * len(MONTHS)), 300, "the reloads into BigQuery")
    assert months_loaded_into_bigquery(stack) == 2 * len(MONTHS)
    manifests, second_objects = month_objects_in_gcs()
    assert manifests == expected
    assert second_objects == first_objects
    assert rows_per_month_in_bigquery(bigquery_emulator) == expected
