"""`airflow backfill create` on a running scheduler: each month loaded exactly once, and again on reprocessing.

Starts the local stack (api-server, scheduler, dag-processor; Postgres as metadata database) for this module
and stops it afterwards. Scheduled runs are switched off (`use_job_schedule`) so catchup does not fill the
two task slots with the release's other months while the backfill runs.
"""

import psycopg
import pytest

from tests.dags.conftest import wait_for

DAG_ID = "yellow_taxi_to_postgres"
SCHEMA = "backfill_test"
MONTHS = ["2020-01", "2020-02", "2020-03"]


@pytest.fixture(scope="module")
def stack(airflow_stack):
    with airflow_stack("backfill", {"AIRFLOW_VAR_NY_TAXI_POSTGRES_SCHEMA": SCHEMA,
                                    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}) as running:
        yield running


def latest_backfill(stack):
    """Read from the metadata database: the CLI takes seconds to start and mixes logs into its output."""
    with psycopg.connect(stack.metadata_dsn) as conn:
        backfill_id, completed_at = conn.execute(
            "SELECT id, completed_at FROM backfill WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (DAG_ID,)
        ).fetchone()
        runs = dict(conn.execute(
            "SELECT dag_run.logical_date, dag_run.state FROM backfill_dag_run"
            " JOIN dag_run ON dag_run.id = backfill_dag_run.dag_run_id WHERE backfill_dag_run.backfill_id = %s",
            (backfill_id,),
        ).fetchall())
    return completed_at, runs


def backfill_and_wait(stack, *extra_args):
    stack.cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", "2020-01-01", "--to-date", "2020-03-01",
              "--max-active-runs", "2", *extra_args)
    _, runs = wait_for(lambda: (backfill := latest_backfill(stack))[0] and backfill,
                       timeout_seconds=420, what="the backfill to complete")
    assert sorted(f"{date:%Y-%m}" for date in runs) == MONTHS
    assert set(runs.values()) == {"success"}, runs


def loaded(postgres_dsn):
    with psycopg.connect(postgres_dsn) as conn:
        months = dict(conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {SCHEMA}.yellow_tripdata GROUP BY 1"
        ).fetchall())
        audit = conn.execute(f"SELECT to_char(source_month, 'YYYY-MM'), loaded_at FROM {SCHEMA}.load_audit").fetchall()
    return months, dict(audit)


def test_a_backfill_loads_each_month_once_and_a_reprocessing_changes_nothing(stack, publish, postgres_dsn):
    expected = {month: publish("yellow", int(month[:4]), int(month[5:]), rows=8_000) for month in MONTHS}
    wait_for(lambda: stack.cli("dags", "unpause", DAG_ID, check=False).returncode == 0, 120, "the DAG to be parsed")

    backfill_and_wait(stack)
    months, first_loads = loaded(postgres_dsn)
    assert months == expected
    assert sorted(first_loads) == MONTHS

    # Reprocessing clears and reruns the same runs: the months are replaced, the audit rows updated.
    backfill_and_wait(stack, "--reprocess-behavior", "completed")
    months, second_loads = loaded(postgres_dsn)
    assert months == expected
    assert all(second_loads[month] > first_loads[month] for month in MONTHS)
