"""A month written to GCS starts the BigQuery DAG through its asset, with the real scheduler.

The GCS DAG runs by `airflow dags test` against the stack's metadata database (it stays paused, so no
catchup); the unpaused BigQuery DAG is then started by the scheduler from the asset event alone.
"""

import psycopg
import pytest

from tests.conftest import GCP_PROJECT
from tests.dags.conftest import wait_for

BUCKET = "nyc-taxi-asset-chain"
DATASET = "asset_chain"


@pytest.fixture(scope="module")
def stack(airflow_stack, gcs_emulator, bigquery_emulator):
    gcs_emulator.create_bucket(BUCKET)
    env = {**gcs_emulator.environment(), **bigquery_emulator.environment(),
           "AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET": BUCKET, "AIRFLOW_VAR_NYC_TAXI_BIGQUERY_DATASET": DATASET}
    with airflow_stack("asset_chain", env) as running:
        yield running


def bigquery_runs(stack):
    with psycopg.connect(stack.metadata_dsn) as conn:
        return conn.execute(
            "SELECT run_type, state, conf FROM dag_run WHERE dag_id = 'green_taxi_gcs_to_bigquery'"
        ).fetchall()


def test_a_month_in_gcs_starts_its_load_into_bigquery(stack, publish, bigquery_emulator):
    expected = publish("green", 2021, 5, rows=6_000)
    wait_for(lambda: stack.cli("dags", "unpause", "green_taxi_gcs_to_bigquery", check=False).returncode == 0,
             120, "the BigQuery DAG to be parsed")

    written = stack.cli("dags", "test", "green_taxi_to_gcs", "2021-05-01", check=False)
    assert written.returncode == 0, written.stdout[-3000:]

    runs = wait_for(lambda: [run for run in bigquery_runs(stack) if run[1] in ("success", "failed")], 240,
                    "the asset-triggered BigQuery run to finish")
    assert [(run_type, state) for run_type, state, _ in runs] == [("asset_triggered", "success")]
    rows = list(bigquery_emulator.client().query_and_wait(
        f"SELECT source_month, COUNT(*) FROM `{GCP_PROJECT}.{DATASET}.green_tripdata` GROUP BY 1"))
    assert [(str(row[0]), row[1]) for row in rows] == [("2021-05-01", expected)]
