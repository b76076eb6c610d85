"""The Postgres DAGs parsed for the TLC's Parquet files (`AIRFLOW_VAR_NYC_TAXI_SOURCE=tlc-parquet`), run for real by
Airflow (`dag.test()`, which runs a deferred task's trigger in line, as the triggerer would) against the local
source server answering as CloudFront does: 403 until a month is published."""

import datetime as dt
import threading
import time

import psycopg
import pyarrow as pa
import pytest

from airflow.dag_processing.dagbag import DagBag
from devstack.source_server import etag_of
from devstack.synthetic_parquet import tlc_path, write_parquet_month
from tests.conftest import REPO
from nyc_taxi.sources import SOURCES, TLC_PARQUET
from tests.dags.conftest import postgres_conn_uri


def month(year, number):
    return dt.datetime(year, number, 1, tzinfo=dt.timezone.utc)


# The latest month due today (two months back): the one a scheduled run waits for.
LATEST = SOURCES[TLC_PARQUET].last_month("yellow")


@pytest.fixture
def tlc(airflow_db, source, postgres_dsn, pg_schema, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_SOURCE", "tlc-parquet")
    monkeypatch.setenv("AIRFLOW_CONN_NY_TAXI_POSTGRES", postgres_conn_uri(postgres_dsn))
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_BASE_URL", f"{source.base_url}/trip-data")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", pg_schema)
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_POLL_MINUTES", "0.02")  # every 1.2 s
    source.missing_status = 403
    yield source
    source.missing_status = 404


def dag(dag_id):
    """Parsed afresh, with the source the environment names."""
    return DagBag(dag_folder=REPO / "dags").dags[dag_id]


def publish(source, service, year, number, rows=4_000, **kwargs):
    path = tlc_path(source.root, service, year, number)
    return write_parquet_month(path, service, year, number, rows, seed=year * 100 + number, row_group_rows=1_500,
                               **kwargs)


def loaded(postgres_dsn, schema, table="yellow_tripdata"):
    with psycopg.connect(postgres_dsn) as conn:
        counts = dict(conn.execute(f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {schema}.{table} "
                                   "GROUP BY 1").fetchall())
        audit = conn.execute(f"SELECT source_url, source_etag FROM {schema}.load_audit ORDER BY loaded_at").fetchall()
    return counts, audit


def states(run):
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_the_dags_follow_the_source_fhvhv_among_them_and_wait_for_their_month(tlc):
    bag = DagBag(dag_folder=REPO / "dags")
    assert bag.import_errors == {}
    assert {f"{service}_taxi_to_{target}" for service in ("yellow", "green", "fhv", "fhvhv")
            for target in ("postgres", "gcs")} | {"tlc_republished_months"} <= set(bag.dag_ids)
    for parsed in bag.dags.values():  # the conventions of test_dag_integrity.py hold for these DAGs too
        assert parsed.tags and parsed.doc_md
        # Every task retries, but the wait for the month's file: it has its own bound, which a retry would repeat.
        assert all(task.retries >= 2 for task in parsed.tasks if task.task_id != "wait_for_month_file"), parsed.dag_id
    postgres = bag.dags["fhvhv_taxi_to_postgres"]
    assert postgres.timetable.release_months == ("2019-02", "latest-2")
    assert postgres.get_task("wait_for_month_file").downstream_task_ids == {"download_month"}
    assert [task.task_id for task in bag.dags["tlc_republished_months"].tasks][:2] == [
        "find_republished_yellow", "reload_yellow"]


def test_a_month_published_while_its_run_waits_is_loaded(tlc, postgres_dsn, pg_schema):
    path = tlc_path(tlc.root, "yellow", LATEST.year, LATEST.month)
    written = {}

    def heads():
        return [status for method, url, status in tlc.requests if method == "HEAD" and url.endswith(path.name)]

    def publish_once_asked_twice():
        """Publish once the task has asked, and the trigger asked again: the run is waiting in the trigger."""
        deadline = time.monotonic() + 120
        while len(heads()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        written["month"] = publish(tlc, "yellow", LATEST.year, LATEST.month)

    publisher = threading.Thread(target=publish_once_asked_twice)
    publisher.start()
    run = dag("yellow_taxi_to_postgres").test(logical_date=month(LATEST.year, LATEST.month))
    publisher.join()
    assert run.state == "success", states(run)
    counts, audit = loaded(postgres_dsn, pg_schema)
    assert counts == {f"{LATEST:%Y-%m}": written["month"].kept}
    assert audit == [(f"{tlc.base_url}/trip-data/{path.name}", etag_of(path))]
    assert heads()[:2] == [403, 403] and heads()[-1] == 200


def test_a_month_not_published_within_the_bound_fails(tlc, monkeypatch):
    """What it says is tested in tests/nyc_taxi/test_sensors.py: a task's own log is not captured here."""
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_WAIT_DAYS", str(3 / 86_400))  # three seconds
    run = dag("green_taxi_to_postgres").test(logical_date=month(LATEST.year, LATEST.month))
    assert run.state == "failed"
    assert states(run)["wait_for_month_file"] == "failed"
    assert states(run)["download_month"] == "upstream_failed"


def test_an_old_month_that_is_missing_fails_at_once_instead_of_waiting(tlc):
    """Green 2013-08, the first month public code names but the TLC's listing we could read does not hold."""
    asked_before = len(tlc.requests)  # the session's server: other tests ask for this month too
    run = dag("green_taxi_to_postgres").test(logical_date=month(2013, 8))
    assert states(run)["wait_for_month_file"] == "failed"
    asked = [(method, status) for method, url, status in tlc.requests[asked_before:]
             if url.endswith("green_tripdata_2013-08.parquet")]
    assert asked == [("HEAD", 403)]  # asked once, not waited for, not downloaded


def test_a_month_with_an_added_column_widens_the_table(tlc, postgres_dsn, pg_schema):
    december = publish(tlc, "yellow", 2024, 12)
    january = publish(tlc, "yellow", 2025, 1, extra_columns={"request_source": pa.large_string()})
    postgres = dag("yellow_taxi_to_postgres")
    for logical_date in (month(2024, 12), month(2025, 1)):
        run = postgres.test(logical_date=logical_date)
        assert run.state == "success", states(run)
    with psycopg.connect(postgres_dsn) as conn:
        filled = conn.execute(f"SELECT to_char(source_month, 'YYYY-MM'), count(cbd_congestion_fee), "
                              f"count(request_source) FROM {pg_schema}.yellow_tripdata GROUP BY 1 ORDER BY 1").fetchall()
    assert filled == [("2024-12", 0, 0), ("2025-01", january.kept, january.kept)]
    assert loaded(postgres_dsn, pg_schema)[0] == {"2024-12": december.kept, "2025-01": january.kept}
