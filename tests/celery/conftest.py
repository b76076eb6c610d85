"""One stack for the session's Celery tests: the CeleryExecutor, a Redis broker and two workers, each with its own
hostname and temporary directory, as on two machines.

Losing a worker is found by Airflow's task-instance heartbeat: a task whose worker has not heartbeated for
`[scheduler] task_instance_heartbeat_timeout` seconds (default 300) is failed by the scheduler, which looks every
`[scheduler] task_instance_heartbeat_timeout_detection_interval` seconds (default 10); it is then retried after
its `retry_delay`. This stack lowers all three so a lost worker is recovered in seconds, not minutes.
"""

from __future__ import annotations

import textwrap
import time

import psycopg
import pytest

from devstack.airflow_ui import AirflowApi
from tests.dags.conftest import airflow_stack, publish  # noqa: F401  (fixtures shared with tests/dags)

SCHEMA = "celery_test"
STAGING_BUCKET = "celery-staging"
STAGING_PREFIX = "_staging"
HEARTBEAT_TIMEOUT_SECONDS = 15  # 3 heartbeats: a worker heartbeats each task every [workers] min_heartbeat_interval, 5 s
DETECTION_INTERVAL_SECONDS = 2
RETRY_DELAY_SECONDS = 2

# A cluster policy (Airflow's way to override what DAG files set, per installation): the DAGs' retry delay of
# 30 s and more becomes RETRY_DELAY_SECONDS in this stack only. The dag-processor applies it when it parses.
TEST_RETRY_DELAY_POLICY = textwrap.dedent(f"""
    import datetime as dt


    def task_policy(task):
        task.retry_delay = dt.timedelta(seconds={RETRY_DELAY_SECONDS})
""")


@pytest.fixture(scope="session")
def celery_stack_of_session(airflow_stack, redis_server, gcs_emulator):  # noqa: F811
    """The stack; its workers share no disk, as on two machines, so a run's tasks stage in the GCS emulator."""
    from tests.conftest import SESSION_DIR

    config = SESSION_DIR / "airflow-celery" / "config"  # on sys.path of every Airflow process of that home
    config.mkdir(parents=True)
    (config / "airflow_local_settings.py").write_text(TEST_RETRY_DELAY_POLICY)
    gcs_emulator.create_bucket(STAGING_BUCKET)
    env = {
        **redis_server.environment(),
        **gcs_emulator.environment(),
        "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": SCHEMA,
        # Only the tests' runs: no catchup filling the two slots, so the DAGs need not wait paused.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_SECONDS),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(DETECTION_INTERVAL_SECONDS),
    }
    with airflow_stack("celery", env, celery_workers=2, staging=f"gs://{STAGING_BUCKET}/{STAGING_PREFIX}") as running:
        yield running


@pytest.fixture
def celery_stack(celery_stack_of_session):
    """The session's stack with both workers up: a test may have killed one."""
    celery_stack_of_session.restart_lost_workers()
    return celery_stack_of_session


@pytest.fixture(scope="session")
def api(celery_stack_of_session) -> AirflowApi:
    return AirflowApi(celery_stack_of_session)


def backfill(api: AirflowApi, dag_id: str, first_month: str, last_month: str, timeout_seconds: float = 120) -> None:
    """A backfill of the months (YYYY-MM) through the REST API (the CLI takes seconds to start), once the
    dag-processor has parsed the DAG."""
    deadline = time.monotonic() + timeout_seconds
    while not api.session.get(f"{api.url}/api/v2/dags/{dag_id}", timeout=30).ok:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{dag_id} was not parsed within {timeout_seconds} s")
        time.sleep(1)
    api.backfill(dag_id, first_month, last_month)


def staged_objects(gcs_emulator, dag_id: str, month: str) -> list[str]:
    """The names of the objects staged for the DAG's runs of `month`."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=gcs_emulator.project, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_emulator.endpoint})
    return [blob.name for blob in client.list_blobs(STAGING_BUCKET, prefix=f"{STAGING_PREFIX}/{dag_id}/{month}/")]


def task_instances(stack, dag_id: str) -> list[dict]:
    """The DAG's task instances of its latest backfill, with where and when each ran, from the metadata database."""
    with psycopg.connect(stack.metadata_dsn) as conn:
        conn.row_factory = psycopg.rows.dict_row
        return conn.execute(
            "SELECT ti.run_id, ti.task_id, ti.state, ti.try_number, ti.hostname, ti.start_date, ti.end_date"
            " FROM task_instance ti JOIN dag_run ON dag_run.run_id = ti.run_id AND dag_run.dag_id = ti.dag_id"
            " JOIN backfill_dag_run ON backfill_dag_run.dag_run_id = dag_run.id"
            " WHERE ti.dag_id = %s AND backfill_dag_run.backfill_id ="
            "  (SELECT max(id) FROM backfill WHERE dag_id = %s)",
            (dag_id, dag_id),
        ).fetchall()


def loaded_months(postgres_dsn: str, color: str) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per month in `<color>_tripdata`, and audit rows per month."""
    with psycopg.connect(postgres_dsn) as conn:
        months = dict(conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {SCHEMA}.{color}_tripdata GROUP BY 1"
        ).fetchall())
        audits = dict(conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {SCHEMA}.load_audit WHERE color = %s GROUP BY 1",
            (color,),
        ).fetchall())
    return months, audits
