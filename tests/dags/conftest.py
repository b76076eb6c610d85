import contextlib
import gzip
import os

import pandas as pd
import psycopg
import pytest

from devstack.server_process import wait_for as wait_until
from devstack.synthetic_month import release_path, write_month


def kept_trips(path, color: str = "yellow") -> int:
    """The trips the module's rules keep in a release file, counted independently of the pipeline, with pandas."""
    with gzip.open(path) as csv:
        if color == "fhv":
            trips = pd.read_csv(csv, usecols=["dispatching_base_num", "pickup_datetime"])
            return int((trips.dispatching_base_num.notna() & trips.pickup_datetime.notna()).sum())
        trips = pd.read_csv(csv, usecols=["passenger_count", "trip_distance"])
    return int(((trips.passenger_count > 0) & (trips.trip_distance > 0)).sum())


@pytest.fixture(scope="session")
def publish(source_server):
    """Put a generated month on the source server; returns how many of its trips should load."""

    def publish_month(color: str, year: int, month: int, rows: int = 10_000) -> int:
        path = release_path(source_server.root, color, year, month)
        if not path.exists():
            write_month(path, color, year, month, rows=rows, seed=year * 100 + month)
        return kept_trips(path, color)

    return publish_month


def postgres_conn_uri(postgres_dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    target = conninfo_to_dict(postgres_dsn)
    return f"postgresql://{target['user']}:{target['password']}@{target['host']}:{target['port']}/{target['dbname']}"


@pytest.fixture(scope="session")
def airflow_stack(postgres_cluster, postgres_dsn, source_server):
    """Starts Airflow's api-server, scheduler and dag-processor on a metadata database of their own; with
    `celery_workers`, the CeleryExecutor and its workers (`extra_env` names the broker); staging in a directory of
    its own unless `staging` names a URL."""
    from devstack.airflow_stack import AirflowStack, airflow_environment
    from devstack.local_env import read_env_file
    from devstack.server_process import free_port
    from tests.conftest import REPO, SESSION_DIR

    @contextlib.contextmanager
    def start(name: str, extra_env: dict[str, str], celery_workers: int = 0, staging: str | None = None):
        postgres_cluster.create_role_and_database("airflow", "airflow", f"airflow_{name}")
        env = airflow_environment(
            SESSION_DIR / f"airflow-{name}",
            f"postgresql+psycopg2://airflow:airflow@127.0.0.1:{postgres_cluster.port}/airflow_{name}",
            staging or SESSION_DIR / f"staging-{name}",
            {
                "AIRFLOW_CONN_NY_TAXI_POSTGRES": postgres_conn_uri(postgres_dsn),
                "AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL": source_server.base_url,
                **extra_env,
            },
            # The repo's defaults as users get them (the executor's forkserver among them), not a .env.local's.
            base={**read_env_file(REPO / ".env"), **os.environ},
        )
        with AirflowStack(env, free_port(), celery_workers=celery_workers) as running:
            running.metadata_dsn = postgres_cluster.dsn("airflow", "airflow", f"airflow_{name}")
            yield running

    return start


def wait_for(condition, timeout_seconds, what):
    """As devstack's `wait_for`, polling every 3 s: the conditions here ask the stack's CLI or API."""
    return wait_until(condition, timeout_seconds, what, interval_seconds=3)


def latest_backfill(stack, dag_id):
    """(completed_at, {logical date: state}) of the DAG's newest backfill, read from the metadata database: the
    CLI takes seconds to start and mixes logs into its output."""
    with psycopg.connect(stack.metadata_dsn) as conn:
        backfill_id, completed_at = conn.execute(
            "SELECT id, completed_at FROM backfill WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
        runs = dict(conn.execute(
            "SELECT dag_run.logical_date, dag_run.state FROM backfill_dag_run"
            " JOIN dag_run ON dag_run.id = backfill_dag_run.dag_run_id WHERE backfill_dag_run.backfill_id = %s",
            (backfill_id,),
        ).fetchall())
    return completed_at, runs


def backfill_and_wait(stack, dag_id, months, *extra_args):
    """`airflow backfill create` for the months (YYYY-MM, in order), two runs at a time; waits for it to complete
    and checks that it ran each month once, successfully."""
    stack.cli("backfill", "create", "--dag-id", dag_id, "--from-date", f"{months[0]}-01",
              "--to-date", f"{months[-1]}-01", "--max-active-runs", "2", *extra_args)
    _, runs = wait_for(lambda: (backfill := latest_backfill(stack, dag_id))[0] and backfill,
                       timeout_seconds=420, what=f"the backfill of {dag_id} to complete")
    assert sorted(f"{date:%Y-%m}" for date in runs) == months
    assert set(runs.values()) == {"success"}, runs


def unpause(stack, dag_id):
    wait_for(lambda: stack.cli("dags", "unpause", dag_id, check=False).returncode == 0, 120,
             f"{dag_id} to be parsed")
