"""The Postgres DAG run for real by Airflow (`dag.test()`), against the local source server and Postgres."""

import datetime as dt
import gzip

import psycopg
import pytest

from airflow.dag_processing.dagbag import DagBag
from tests.conftest import REPO
from tests.dags.conftest import postgres_conn_uri

MARCH = dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def dag():
    """Parsed afresh for each test: dag.test() merges its run_conf into the DAG's params for good."""
    return DagBag(dag_folder=REPO / "dags").dags["yellow_taxi_to_postgres"]


@pytest.fixture
def quick_retries(dag):
    """Airflow's real retry, 1 s after the failed try instead of the DAGs' 30 s: what is tested is that the retry
    does the work, not the wait."""
    import datetime as dt

    for task in dag.tasks:
        task.retry_delay = dt.timedelta(seconds=1)
    return dag


@pytest.fixture(scope="module")
def published_march(publish):
    return publish("yellow", 2021, 3, rows=30_000)


@pytest.fixture
def airflow_env(airflow_db, source, postgres_dsn, pg_schema, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NY_TAXI_POSTGRES", postgres_conn_uri(postgres_dsn))
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL", source.base_url)
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", pg_schema)
    return pg_schema


def month_counts(postgres_dsn, schema):
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {schema}.yellow_tripdata GROUP BY 1"
        ).fetchall()
        audit = conn.execute(f"SELECT run_id, rows_loaded FROM {schema}.load_audit ORDER BY loaded_at").fetchall()
    return dict(rows), audit


def task_states(run):
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def tries(run):
    return {ti.task_id: ti.try_number for ti in run.get_task_instances()}


def test_a_run_loads_its_month_and_a_rerun_replaces_it(dag, airflow_env, published_march, postgres_dsn):
    first = dag.test(logical_date=MARCH)
    assert first.state == "success", task_states(first)
    counts, audit = month_counts(postgres_dsn, airflow_env)
    assert counts == {"2021-03": published_march}
    assert audit == [(first.run_id, published_march)]

    second = dag.test(logical_date=MARCH)
    assert second.state == "success", task_states(second)
    counts, audit = month_counts(postgres_dsn, airflow_env)
    assert counts == {"2021-03": published_march}
    assert [run_id for run_id, _ in audit] == [first.run_id, second.run_id]


def test_a_run_staged_in_object_storage_loads_its_month_and_leaves_no_object(dag, airflow_env, published_march,
                                                                            postgres_dsn, gcp, monkeypatch):
    """Staging as on several workers: in a bucket (the GCS emulator), not on this machine's disk."""
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    gcp.create_bucket("staging")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_STAGING_URL", "gs://staging/_staging")
    run = dag.test(logical_date=MARCH)
    assert run.state == "success", task_states(run)
    assert month_counts(postgres_dsn, airflow_env)[0] == {"2021-03": published_march}
    staged = run.get_task_instance("download_month").xcom_pull(task_ids="download_month")
    assert staged["download_url"].startswith("gs://staging/_staging/yellow_taxi_to_postgres/2021-03/")
    assert [blob.name for blob in GCSHook().get_conn().list_blobs("staging")] == []


def test_params_choose_the_month_of_a_manual_run(dag, airflow_env, published_march, postgres_dsn):
    run = dag.test(logical_date=dt.datetime(2021, 6, 1, tzinfo=dt.timezone.utc), run_conf={"year": 2021, "month": 3})
    assert run.state == "success", task_states(run)
    assert month_counts(postgres_dsn, airflow_env)[0] == {"2021-03": published_march}


def test_an_unpublished_month_fails_without_retrying_or_loading(dag, airflow_env, source, capfd):
    requests_before = len(source.requests)
    run = dag.test(logical_date=dt.datetime(2021, 7, 1, tzinfo=dt.timezone.utc))
    assert "no data for yellow 2021-07 at http://" in capfd.readouterr().out
    assert run.state == "failed"
    states = task_states(run)
    assert states["download_month"] == "failed"
    assert states["clean_and_load_month_to_postgres"] == "upstream_failed"
    assert [status for _, path, status in source.requests[requests_before:]
            if path.endswith("yellow_tripdata_2021-07.csv.gz")] == [404]


def test_a_bad_value_late_in_the_file_fails_at_once_naming_its_line_and_keeps_the_loaded_month(
        dag, airflow_env, publish, source, postgres_dsn, capfd):
    """Cleaned as it is copied: the batches before the bad line are already in the COPY when it fails."""
    from devstack.synthetic_month import release_path

    expected = publish("yellow", 2021, 2, rows=30_000)
    february = dt.datetime(2021, 2, 1, tzinfo=dt.timezone.utc)
    first = dag.test(logical_date=february)
    assert first.state == "success", task_states(first)
    path = release_path(source.root, "yellow", 2021, 2)
    good = path.read_bytes()
    lines = gzip.decompress(good).split(b"\n")
    bad_line = len(lines) - 10  # well past the first CSV blocks; the header is line 1
    fields = lines[bad_line - 1].split(b",")
    fields[4] = b"two"  # trip_distance
    lines[bad_line - 1] = b",".join(fields)
    path.write_bytes(gzip.compress(b"\n".join(lines)))
    try:
        second = dag.test(logical_date=february)
    finally:
        path.write_bytes(good)
    assert second.state == "failed"
    assert task_states(second)["clean_and_load_month_to_postgres"] == "failed"
    assert tries(second)["clean_and_load_month_to_postgres"] == 1  # bad data is not retried
    assert f"column trip_distance (float) has 'two' on line {bad_line}," in capfd.readouterr().out
    counts, audit = month_counts(postgres_dsn, airflow_env)
    assert counts["2021-02"] == expected
    assert [run_id for run_id, _ in audit if run_id in (first.run_id, second.run_id)] == [first.run_id]


def test_the_zone_lookup_loads_then_an_fhv_month_loads_checked_and_reloads_exactly(
        airflow_env, publish, source, postgres_dsn, caplog):
    from devstack.synthetic_zones import write_zone_lookup

    write_zone_lookup(source.root)
    expected = publish("fhv", 2021, 3, rows=20_000)
    dags = DagBag(dag_folder=REPO / "dags").dags
    zones = dags["taxi_zones_to_postgres"].test()
    assert zones.state == "success", task_states(zones)
    runs = [dags["fhv_taxi_to_postgres"].test(logical_date=MARCH) for _ in range(2)]
    assert [run.state for run in runs] == ["success", "success"], [task_states(run) for run in runs]
    assert f"fhv 2021-03: every location id is in {airflow_env}.zones" in caplog.text
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute(f"SELECT count(*) FROM {airflow_env}.zones").fetchone() == (265,)
        assert conn.execute(f"SELECT count(*) FROM {airflow_env}.fhv_tripdata").fetchone() == (expected,)
        audit = conn.execute(f"SELECT run_id, rows_loaded, rows_dropped, rows_flagged FROM {airflow_env}.load_audit"
                             f" WHERE color = 'fhv' ORDER BY loaded_at").fetchall()
    assert [(run_id, rows) for run_id, rows, _, _ in audit] == [(run.run_id, expected) for run in runs]
    assert set(audit[-1][2]) == {"dispatching_base_num is present", "pickup_datetime is present"}
    assert audit[-1][3]["drop_off_datetime > pickup_datetime"] > 0


def test_a_flaky_source_is_retried_by_the_download_then_by_airflow(dag, quick_retries, airflow_env, published_march,
                                                                   source, postgres_dsn):
    """Two 500s are retried within the download (backoff); a connection dropped mid-file fails the try, and
    Airflow's retry loads the month."""
    path = "/yellow/yellow_tripdata_2021-03.csv.gz"
    source.fail(path, status=500, times=2)
    source.truncate(path, at_byte=50_000, times=1)
    requests_before = len(source.requests)
    run = dag.test(logical_date=MARCH)
    assert run.state == "success", task_states(run)
    answers = [status for _, requested, status in source.requests[requests_before:] if requested == path]
    assert answers == [500, 500, 200, 200]
    assert tries(run)["download_month"] == 2
    assert month_counts(postgres_dsn, airflow_env)[0] == {"2021-03": published_march}


def test_postgres_stopping_mid_load_keeps_the_month_and_airflow_retry_reloads_it(dag, quick_retries, airflow_env,
                                                                              published_march, monkeypatch):
    """A cluster of its own, stopped the hard way when a rerun's load has deleted and re-copied the month but not
    committed (it waits on a lock the test holds on the audit table)."""
    import threading
    import time

    from devstack.postgres_cluster import PostgresCluster
    from devstack.server_process import free_port
    from tests.conftest import SESSION_DIR

    cluster = PostgresCluster(SESSION_DIR / "stopping" / "data", free_port()).start()
    try:
        cluster.create_role_and_database("taxi", "taxi", "ny_taxi")
        dsn = cluster.dsn("taxi", "taxi", "ny_taxi")
        monkeypatch.setenv("AIRFLOW_CONN_NY_TAXI_POSTGRES", postgres_conn_uri(dsn))
        first = dag.test(logical_date=MARCH)
        assert first.state == "success", task_states(first)
        after_the_crash, load_was_waiting = {}, []

        def stop_postgres_before_the_commit():
            holder, watcher = psycopg.connect(dsn), psycopg.connect(dsn, autocommit=True)
            holder.execute(f"LOCK TABLE {airflow_env}.load_audit IN SHARE MODE")
            deadline = time.monotonic() + 120
            while not (waiting := watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%load_audit%'"
            ).fetchone()) and time.monotonic() < deadline:
                time.sleep(0.1)
            load_was_waiting.append(bool(waiting))
            cluster.stop(mode="immediate")
            holder.close()
            watcher.close()
            cluster.start()
            after_the_crash.update(month_counts(dsn, airflow_env)[0])

        crash = threading.Thread(target=stop_postgres_before_the_commit)
        crash.start()
        second = dag.test(logical_date=MARCH)
        crash.join()
        assert load_was_waiting == [True]
        assert after_the_crash == {"2021-03": published_march}
        assert second.state == "success", task_states(second)
        assert tries(second)["clean_and_load_month_to_postgres"] == 2
        counts, audit = month_counts(dsn, airflow_env)
        assert counts == {"2021-03": published_march}
        assert [run_id for run_id, _ in audit] == [first.run_id, second.run_id]
    finally:
        cluster.stop()


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"color": "purple"}, "param color: 'purple' is not one of"),
        ({"year": 2030, "month": 1}, "param year: 2030 is greater than the maximum of 2021"),
        ({"year": 2021, "month": 13}, "param month: 13 is greater than the maximum of 12"),
    ],
)
def test_bad_params_are_rejected_before_any_task_runs(dag, airflow_env, conf, message, source):
    from airflow.sdk.exceptions import ParamValidationError

    requests_before = len(source.requests)
    with pytest.raises(ParamValidationError, match=message):
        dag.test(logical_date=MARCH, run_conf=conf)
    assert len(source.requests) == requests_before
