"""The GCS and BigQuery DAGs run by Airflow (`dag.test()`) on the emulators, chained by their asset."""

import datetime as dt
import json

import pytest

from airflow.dag_processing.dagbag import DagBag
from tests.conftest import GCP_PROJECT, REPO

APRIL = dt.datetime(2021, 4, 1, tzinfo=dt.timezone.utc)
BUCKET = "nyc-taxi-dag-tests"


@pytest.fixture
def dags():
    """Parsed afresh for each test: dag.test() merges its run_conf into the DAG's params for good."""
    return DagBag(dag_folder=REPO / "dags").dags


@pytest.fixture
def airflow_env(airflow_db, source, bigquery, monkeypatch):
    bigquery_env = bigquery
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL", source.base_url)
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET", BUCKET)
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_BIGQUERY_DATASET", "dag_tests")
    return bigquery_env


def task_states(run):
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def month_events(asset_name):
    from sqlalchemy import select

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return [event.extra for event in session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == asset_name).order_by(AssetEvent.id))]


def test_a_month_goes_to_gcs_then_to_bigquery(dags, airflow_env, publish, gcs_emulator):
    from google.cloud import storage

    expected = publish("yellow", 2021, 4, rows=20_000)
    gcs_emulator.create_bucket(BUCKET)

    run = dags["yellow_taxi_to_gcs"].test(logical_date=APRIL)
    assert run.state == "success", task_states(run)
    bucket = storage.Client(project=GCP_PROJECT).bucket(BUCKET)
    manifest = json.loads(bucket.blob("nyc_taxi/yellow/_manifests/2021-04.json").download_as_bytes())
    assert manifest["rows"] == expected
    assert bucket.blob("nyc_taxi/yellow/by_run_date/2021/04/01/daily-trips.parquet").exists()
    assert month_events("yellow_taxi_trips_in_gcs")[-1] == {"month": "2021-04", "rows": expected}

    def months_in_bigquery():
        return [(str(row[0]), row[1]) for row in airflow_env.client().query_and_wait(
            f"SELECT source_month, COUNT(*) FROM `{GCP_PROJECT}.dag_tests.yellow_tripdata` GROUP BY 1")]

    # dag.test() hands over no asset events. A run with no params loads the months BigQuery lacks, as the daily run
    # does after a load that failed every try, or a month that landed while the DAG was paused.
    caught_up = dags["yellow_taxi_gcs_to_bigquery"].test()
    assert caught_up.state == "success", task_states(caught_up)
    assert months_in_bigquery() == [("2021-04-01", expected)]

    # Params reload the month they name: replaced, not added.
    reloaded = dags["yellow_taxi_gcs_to_bigquery"].test(run_conf={"year": 2021, "month": 4})
    assert reloaded.state == "success", task_states(reloaded)
    assert months_in_bigquery() == [("2021-04-01", expected)]

    # Now that BigQuery holds GCS's latest write of every month, a run with no params loads nothing.
    idle = DagBag(dag_folder=REPO / "dags").dags["yellow_taxi_gcs_to_bigquery"].test()  # params not merged
    assert idle.state == "success", task_states(idle)
    assert task_states(idle)["load_month_to_bigquery"] == "skipped"


def test_bigquery_refuses_a_month_gcs_does_not_hold_completely(dags, airflow_env, capfd):
    run = dags["green_taxi_gcs_to_bigquery"].test(run_conf={"year": 2020, "month": 11})
    assert run.state == "failed"
    assert "green 2020-11 has no complete write in gs://nyc-taxi-dag-tests/nyc_taxi/green" in capfd.readouterr().out


def test_the_zone_lookup_then_an_fhv_month_go_to_gcs_and_bigquery(dags, airflow_env, publish, source, gcs_emulator):
    from devstack.synthetic_zones import write_zone_lookup

    write_zone_lookup(source.root)
    expected = publish("fhv", 2021, 4, rows=20_000)
    gcs_emulator.create_bucket(BUCKET)
    for dag_id, arguments in (("taxi_zones_to_bigquery", {}), ("fhv_taxi_to_gcs", {"logical_date": APRIL}),
                              ("fhv_taxi_gcs_to_bigquery", {"run_conf": {"year": 2021, "month": 4}})):
        run = dags[dag_id].test(**arguments)
        assert run.state == "success", (dag_id, task_states(run))
    checked = run.get_task_instance("check_month_in_bigquery", map_index=0).xcom_pull(
        task_ids="check_month_in_bigquery", map_indexes=0)
    assert checked["rows"] == expected and checked["unknown_location_ids"] == {}
    client = airflow_env.client()
    assert [tuple(row.values()) for row in client.query_and_wait(
        f"SELECT COUNT(*), COUNTIF(borough = 'Unknown') FROM `{GCP_PROJECT}.dag_tests.zones`")] == [(265, 2)]
