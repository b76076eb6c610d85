"""A worker lost while it copies a month into Postgres: Airflow fails the task by its missing heartbeat and retries
it on the other worker; the month ends exact, and the run's staged files are removed.

The worker is killed whole (SIGKILL to it and every process below it) in the middle of the COPY, as when its
machine is lost: nothing of it runs a handler, tells the scheduler or closes its connections.
"""

import datetime as dt
import time

import psycopg

from tests.celery.conftest import (
    DETECTION_INTERVAL_SECONDS,
    HEARTBEAT_TIMEOUT_SECONDS,
    RETRY_DELAY_SECONDS,
    backfill,
    loaded_months,
    staged_objects,
    task_instances,
)
from tests.dags.conftest import latest_backfill

DAG_ID = "yellow_taxi_to_postgres"
MONTH = "2020-04"
# Big enough that the COPY stays open for seconds on 2 cores: the task cleaned and copied 0.7-1.0 M rows/s on the
# fastest VM measured (`./dev demo`, bench/results.md), and the test polls every 0.2 s.
ROWS = 3_000_000


def copying(postgres_dsn: str) -> bool:
    with psycopg.connect(postgres_dsn) as conn:
        return bool(conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %'"
        ).fetchone()[0])


def the_load_while_it_copies(stack, postgres_dsn: str, timeout_seconds: float = 120) -> dict:
    """The running clean_and_load_month_to_postgres task instance, once its COPY is under way."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        loads = [ti for ti in task_instances(stack, DAG_ID) if ti["task_id"] == "clean_and_load_month_to_postgres"
                 and ti["state"] == "running" and ti["hostname"]]
        if loads and copying(postgres_dsn):
            return loads[0]
        time.sleep(0.2)
    raise TimeoutError(f"clean_and_load_month_to_postgres did not start copying within {timeout_seconds} s")


def heartbeat_timeouts(stack, run_id: str) -> list[dt.datetime]:
    """When the scheduler logged that the run's load lost its heartbeat."""
    with psycopg.connect(stack.metadata_dsn) as conn:
        return [when for (when,) in conn.execute(
            "SELECT dttm FROM log WHERE event = 'heartbeat timeout' AND dag_id = %s AND run_id = %s"
            " AND task_id = 'clean_and_load_month_to_postgres'", (DAG_ID, run_id),
        )]


def test_a_worker_killed_mid_copy_is_detected_and_its_load_retried_on_the_other_worker(
        celery_stack, api, publish, postgres_dsn, gcs_emulator, capsys):
    expected = publish("yellow", int(MONTH[:4]), int(MONTH[5:]), rows=ROWS)
    backfill(api, DAG_ID, MONTH, MONTH)

    load = the_load_while_it_copies(celery_stack, postgres_dsn)
    lost, (survivor,) = load["hostname"], set(celery_stack.workers) - {load["hostname"]}
    killed_at = dt.datetime.now(dt.timezone.utc)
    celery_stack.kill_worker(lost)
    assert staged_objects(gcs_emulator, DAG_ID, MONTH), "the download stages the month in the bucket"

    api.wait_for_backfill(DAG_ID, timeout_seconds=180)
    _, runs = latest_backfill(celery_stack, DAG_ID)
    assert list(runs.values()) == ["success"], runs

    ran = {ti["task_id"]: ti for ti in task_instances(celery_stack, DAG_ID)}
    retried = ran["clean_and_load_month_to_postgres"]
    assert (retried["state"], retried["try_number"], retried["hostname"]) == ("success", 2, survivor)
    (detected_at,) = heartbeat_timeouts(celery_stack, load["run_id"])

    months, audits = loaded_months(postgres_dsn, "yellow")
    assert months[MONTH] == expected  # nothing doubled, nothing lost
    assert audits[MONTH] == 1
    # The teardown ran after the retry and removed what the workers staged for the run, the lost one included.
    assert ran["remove_staging_files"]["state"] == "success"
    assert staged_objects(gcs_emulator, DAG_ID, MONTH) == []

    with capsys.disabled():
        print(f"\n  worker {lost} killed mid-COPY: heartbeat timeout logged after "
              f"{(detected_at - killed_at).total_seconds():.0f} s, retry started on {survivor} after "
              f"{(retried['start_date'] - killed_at).total_seconds():.0f} s, month loaded again after "
              f"{(retried['end_date'] - killed_at).total_seconds():.0f} s "
              f"([scheduler] task_instance_heartbeat_timeout={HEARTBEAT_TIMEOUT_SECONDS}, "
              f"task_instance_heartbeat_timeout_detection_interval={DETECTION_INTERVAL_SECONDS}, "
              f"retry_delay={RETRY_DELAY_SECONDS} s)")
    # Bounded by the settings: the timeout, one detection interval, the retry delay, with slack for the
    # dag-processor's failure callback and a busy 2-core machine.
    assert (retried["start_date"] - killed_at).total_seconds() < (
        HEARTBEAT_TIMEOUT_SECONDS + DETECTION_INTERVAL_SECONDS + 2 * RETRY_DELAY_SECONDS + 30)
