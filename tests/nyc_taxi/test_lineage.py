"""What each task's OpenLineage event says it read and wrote, built from the records the tasks return."""

import datetime as dt
import json
import uuid

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.serde import Serde

from nyc_taxi.lineage import MonthLineageExtractor, lineage_of
from tests.openlineage_events import validate_run_event

SOURCE = "http://127.0.0.1:8000/yellow/yellow_tripdata_2021-01.csv.gz"
STAGED = {"color": "yellow", "month": "2021-01", "source_url": SOURCE}


@pytest.fixture(autouse=True)
def targets(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NY_TAXI_POSTGRES", "postgresql://taxi:taxi@127.0.0.1:5433/ny_taxi")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", "taxi_dev")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET", "my-lake")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_BIGQUERY_PROJECT", "my-project")


def as_event(lineage) -> dict:
    """The JSON the provider sends for a task with this lineage (its own facets left out)."""
    event = RunEvent(eventType=RunState.COMPLETE, eventTime=dt.datetime.now(dt.timezone.utc).isoformat(),
                     run=Run(runId=str(uuid.uuid4())), job=Job(namespace="nyc_taxi", name="dag.task"),
                     inputs=lineage.inputs, outputs=lineage.outputs)
    parsed = json.loads(Serde.to_json(event))
    validate_run_event(parsed)
    return parsed


def test_the_download_reads_the_source_file():
    event = as_event(lineage_of("download_month", STAGED, pull=lambda task_id: None))
    [source] = event["inputs"]
    assert (source["namespace"], source["name"]) == ("http://127.0.0.1:8000", "yellow/yellow_tripdata_2021-01.csv.gz")


def test_the_postgres_load_writes_the_table_and_month_with_its_rows():
    returned = {"color": "yellow", "month": "2021-01", "rows_expected": 1229772, "rows_loaded": 1229772}
    event = as_event(lineage_of("clean_and_load_month_to_postgres", returned, pull={"download_month": STAGED}.get))
    assert event["inputs"][0]["name"] == "yellow/yellow_tripdata_2021-01.csv.gz"
    [table] = event["outputs"]
    assert (table["namespace"], table["name"]) == ("postgres://127.0.0.1:5433", "ny_taxi.taxi_dev.yellow_tripdata")
    assert table["facets"]["nycTaxiMonth"]["month"] == "2021-01"
    assert table["facets"]["nycTaxiMonth"]["part"] == "taxi_dev.yellow_tripdata_2021_01"
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 1229772


def test_a_failed_load_still_names_what_it_would_have_written_without_rows():
    event = as_event(lineage_of("clean_and_load_month_to_postgres", None, pull={"download_month": STAGED}.get))
    assert "outputStatistics" not in event["outputs"][0].get("outputFacets", {})


def test_the_gcs_write_names_the_color_folder_the_manifest_and_the_objects():
    written = {"color": "yellow", "month": "2021-01", "rows": 1229772, "objects": 31,
               "manifest": "gs://my-lake/nyc_taxi/yellow/_manifests/2021-01.json"}
    event = as_event(lineage_of("write_month_to_gcs", written, pull={"clean_month": STAGED}.get))
    [folder] = event["outputs"]
    assert (folder["namespace"], folder["name"]) == ("gs://my-lake", "nyc_taxi/yellow")
    assert folder["facets"]["nycTaxiMonth"]["part"] == written["manifest"]
    assert folder["outputFacets"]["outputStatistics"]["rowCount"] == 1229772
    assert folder["outputFacets"]["outputStatistics"]["fileCount"] == 31


def test_the_bigquery_load_reads_gcs_and_writes_the_table():
    event = as_event(lineage_of("load_month_to_bigquery", {"color": "yellow", "month": "2021-01", "rows": 42},
                                pull=lambda task_id: None))
    assert event["inputs"][0]["name"] == "nyc_taxi/yellow"
    [table] = event["outputs"]
    assert (table["namespace"], table["name"]) == ("bigquery", "my-project.ny_taxi.yellow_tripdata")
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 42


def test_other_tasks_have_no_lineage_and_the_extractor_answers_for_taskflow_tasks():
    assert lineage_of("remove_staging_files", None, pull=lambda task_id: None).inputs == []
    assert MonthLineageExtractor.get_operator_classnames() == ["_PythonDecoratedOperator"]
