"""`airflow backfill create` on a running scheduler: each month loaded exactly once, and again on reprocessing.

Starts the local stack (api-server, scheduler, dag-processor; Postgres as metadata database) for this module
and stops it afterwards. Scheduled runs are switched off (`use_job_schedule`) so catchup does not fill the
two task slots with the release's other months while the backfill runs.
"""

import psycopg
import pytest

from tests.dags.conftest import backfill_and_wait, unpause

DAG_ID = "yellow_taxi_to_postgres"
SCHEMA = "backfill_test"
MONTHS = ["2020-01", "2020-02", "2020-03"]


@pytest.fixture(scope="module")
def stack(airflow_stack):
    with airflow_stack("backfill", {"AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": SCHEMA,
                                    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}) as running:
        yield running


def loaded(postgres_dsn):
    with psycopg.connect(postgres_dsn) as conn:
        months = dict(conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {SCHEMA}.yellow_tripdata GROUP BY 1"
        ).fetchall())
        audit = conn.execute(f"SELECT to_char(source_month, 'YYYY-MM'), loaded_at FROM {SCHEMA}.load_audit").fetchall()
    return months, dict(audit)


def test_a_backfill_loads_each_month_once_and_a_reprocessing_changes_nothing(stack, publish, postgres_dsn):
    expected = {month: publish("yellow", int(month[:4]), int(month[5:]), rows=8_000) for month in MONTHS}
    unpause(stack, DAG_ID)

    backfill_and_wait(stack, DAG_ID, MONTHS)
    months, first_loads = loaded(postgres_dsn)
    assert months == expected
    assert sorted(first_loads) == MONTHS

    # Reprocessing clears and reruns the same runs: the months are replaced, the audit rows updated.
    backfill_and_wait(stack, DAG_ID, MONTHS, "--reprocess-behavior", "completed")
    months, second_loads = loaded(postgres_dsn)
    assert months == expected
    assert all(second_loads[month] > first_loads[month] for month in MONTHS)
