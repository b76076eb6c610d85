"""Every DAG file imports cleanly and cheaply, and every DAG keeps the project's conventions."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow.dag_processing.dagbag import DagBag
from nyc_taxi.months import TAXI_COLORS

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
MONTHLY_DAG_IDS = {f"{color}_taxi_to_{target}" for color in ("yellow", "green", "fhv") for target in ("postgres", "gcs")}
EXPECTED_DAG_IDS = MONTHLY_DAG_IDS | {f"{color}_taxi_gcs_to_bigquery" for color in ("yellow", "green", "fhv")} | {
    "taxi_zones_to_postgres", "taxi_zones_to_bigquery"}
HEAVY_MODULES = ("pandas", "pyarrow", "google.cloud.storage", "google.cloud.bigquery", "psycopg", "requests")


@pytest.fixture(scope="module")
def dag_bag():
    return DagBag(dag_folder=DAGS_FOLDER)


def test_dag_files_import_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert EXPECTED_DAG_IDS <= set(dag_bag.dag_ids)


def test_every_dag_has_tags_docs_and_bounded_runs(dag_bag):
    for dag in dag_bag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md, f"{dag.dag_id} has no doc_md"
        assert dag.max_active_runs <= 3, f"{dag.dag_id} may run {dag.max_active_runs} months at once"


def test_every_task_retries_at_least_twice(dag_bag):
    for dag in dag_bag.dags.values():
        for task in dag.tasks:
            assert task.retries >= 2, f"{dag.dag_id}.{task.task_id} retries {task.retries} times"


def test_monthly_dags_cover_the_release_and_catch_up(dag_bag):
    for dag_id in MONTHLY_DAG_IDS:
        dag = dag_bag.dags[dag_id]
        assert type(dag.timetable).__name__ == "ReleaseMonthsTimetable"
        assert dag.timetable.catchup_months == ("2019-01", "2021-07")
        assert dag.catchup is True
        # Airflow creates no task for a run dated outside start_date..end_date: a manual run dated today must run.
        assert dag.end_date is None
        assert dag.start_date.year == 1970


def test_the_bigquery_dags_run_when_their_month_lands_in_gcs_and_daily(dag_bag):
    for color in TAXI_COLORS:
        [outlet] = dag_bag.dags[f"{color}_taxi_to_gcs"].get_task("write_month_to_gcs").outlets
        bigquery_dag = dag_bag.dags[f"{color}_taxi_gcs_to_bigquery"]
        assert bigquery_dag.timetable.asset_condition == outlet
        assert bigquery_dag.timetable.timetable.expression == "0 6 * * *"
        assert bigquery_dag.catchup is False


def test_the_zone_dags_run_once_then_on_demand(dag_bag):
    for destination in ("postgres", "bigquery"):
        dag = dag_bag.dags[f"taxi_zones_to_{destination}"]
        assert type(dag.timetable).__name__ == "OnceTimetable"
        assert dag.catchup is False


def test_dag_files_leave_heavy_imports_to_the_tasks():
    """Parse the DAG files in a fresh interpreter and list what they import beyond Airflow itself."""
    probe = f"""
import json, sys, time
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
from nyc_taxi.months import TAXI_COLORS
before = set(sys.modules)
started = time.perf_counter()
bag = DagBag(dag_folder={str(DAGS_FOLDER)!r})
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "new": sorted(set(sys.modules) - before)}}))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    heavy = [name for name in parsed["new"] if name.startswith(HEAVY_MODULES)]
    assert heavy == []
    assert parsed["seconds"] < 2.0, f"parsing the DAG files took {parsed['seconds']:.2f} s"


def test_every_task_alerts_after_its_last_try_and_every_monthly_dag_on_recovery(dag_bag):
    from nyc_taxi import alerts

    for dag in dag_bag.dags.values():
        for task in dag.tasks:
            assert as_list(task.on_failure_callback) == [alerts.task_failed], f"{dag.dag_id}.{task.task_id} tells no one"
            assert not task.on_retry_callback, f"{dag.dag_id}.{task.task_id} alerts on a retry"
    for dag_id in MONTHLY_DAG_IDS:
        dag = dag_bag.dags[dag_id]
        assert as_list(dag.on_success_callback) == [alerts.run_succeeded]
        # Off unless NYC_TAXI_LATE_AFTER is set (dag_settings.py says why); test_alerts.py checks the deadline itself.
        assert not dag.deadline


def as_list(callbacks) -> list:
    return callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
