"""A backfill on the CeleryExecutor with two workers: each month loaded exactly, its tasks spread over both workers.

The workers share no disk but what the stack's staging setting names, as on two machines.
"""

import time


from tests.celery.conftest import backfill, loaded_months, task_instances
from tests.dags.conftest import latest_backfill

DAG_ID = "yellow_taxi_to_postgres"
MONTHS = ["2020-01", "2020-02", "2020-03"]


def test_a_backfill_of_three_months_runs_on_both_workers_and_loads_each_month_once(
        celery_stack, api, publish, postgres_dsn, capsys):
    expected = {month: publish("yellow", int(month[:4]), int(month[5:]), rows=8_000) for month in MONTHS}

    started = time.monotonic()
    backfill(api, DAG_ID, MONTHS[0], MONTHS[-1])
    api.wait_for_backfill(DAG_ID, timeout_seconds=300)
    with capsys.disabled():
        print(f"\n  the backfill of {len(MONTHS)} months on {len(celery_stack.workers)} Celery workers took "
              f"{time.monotonic() - started:.0f} s")

    _, runs = latest_backfill(celery_stack, DAG_ID)
    assert sorted(f"{date:%Y-%m}" for date in runs) == MONTHS and set(runs.values()) == {"success"}, runs
    months, audits = loaded_months(postgres_dsn, "yellow")
    assert months == expected
    assert audits == dict.fromkeys(MONTHS, 1)
    ran = task_instances(celery_stack, DAG_ID)
    assert len(ran) == 4 * len(MONTHS) and {ti["state"] for ti in ran} == {"success"}
    # Airflow records the worker a task ran on; two machines, two names.
    assert {ti["hostname"] for ti in ran} == set(celery_stack.workers), sorted(
        (ti["run_id"], ti["task_id"], ti["hostname"]) for ti in ran)
