"""A listener that writes on each run of the monthly DAGs the month it loads, as the run's note.

Scheduled runs and backfills are dated the first of their month, but a manual run given params is dated when it
was triggered: its note is what names its month in the grid and the runs list. Runs in the scheduler, when a run
starts; a run whose note a user wrote keeps it.
"""

from __future__ import annotations

import re

from airflow.listeners import hookimpl

MONTHLY_DAG_ID = re.compile(r"(?P<color>[a-z]+)_taxi_to_(postgres|gcs)")


def _month_of(dag_id: str, conf: dict, logical_date):
    """The TaxiMonth a run of a monthly DAG loads (raising why it loads none); None for other DAGs."""
    from nyc_taxi.months import month_of_run

    matched = MONTHLY_DAG_ID.fullmatch(dag_id)
    return month_of_run({**conf, "color": matched["color"]}, logical_date) if matched else None


def month_label_of_run(dag_id: str, conf: dict, logical_date) -> str | None:
    """`"2021-02"`, or None for a run that loads no month of the release or is not of a monthly DAG."""
    try:
        month = _month_of(dag_id, conf, logical_date)
    except (ValueError, TypeError):
        return None
    return month.label if month else None


def note_of_run(dag_id: str, conf: dict, logical_date) -> str | None:
    """`"Loads yellow 2021-02"`, or why the run loads nothing; None for a DAG that is not one of the monthly ones."""
    try:
        month = _month_of(dag_id, conf, logical_date)
    except (ValueError, TypeError) as error:
        return f"Loads nothing: {error}"
    return f"Loads {month}" if month else None


@hookimpl
def on_dag_run_running(dag_run, msg: str) -> None:
    if dag_run.note:
        return
    note = note_of_run(dag_run.dag_id, dag_run.conf or {}, dag_run.logical_date)
    if note:
        dag_run.note = note
