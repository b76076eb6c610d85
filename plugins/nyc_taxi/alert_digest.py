"""One digest per backfill instead of a mail per month: a listener in the scheduler that, when a backfill's last run
of a monthly DAG ends, sends one alert naming every month that failed (task and error) and every month that
recovered.

Why at the end of the backfill: a backfill is one request for many months, often made to repair them, and its
months fail together for one cause (a source down, a wrong setting); thirty mails bury the one that matters. The
months' own callbacks (alerts.py) record each failure as they come but leave backfill runs to this digest. The
scheduler knows when a backfill has no run left, so the listener runs there; it sends from a thread, so a slow
mail server never holds the scheduler up.
"""

from __future__ import annotations

import json
import logging
import threading

from airflow.listeners import hookimpl

from nyc_taxi.run_notes import MONTHLY_DAG_ID

log = logging.getLogger(__name__)
UNFINISHED = ("queued", "running")


@hookimpl
def on_dag_run_success(dag_run, msg: str) -> None:
    _on_run_finished(dag_run)


@hookimpl
def on_dag_run_failed(dag_run, msg: str) -> None:
    _on_run_finished(dag_run)


def _on_run_finished(dag_run) -> None:
    # Plain values first: the listener must not make the scheduler's session load, expire or commit anything.
    dag_id, run_id, backfill_id = dag_run.dag_id, dag_run.run_id, getattr(dag_run, "backfill_id", None)
    if backfill_id is None or not MONTHLY_DAG_ID.fullmatch(dag_id):
        return
    try:
        runs = finished_backfill_runs(dag_run, run_id, backfill_id)
    except Exception:
        log.exception("could not read backfill %s of %s", backfill_id, dag_id)
        return
    if runs is not None:
        # Its own thread, and so its own session for the Variables: a slow mail server never holds the scheduler.
        threading.Thread(target=send_digest, args=(dag_id, runs), name="nyc-taxi-backfill-digest", daemon=True).start()


def finished_backfill_runs(dag_run, run_id: str, backfill_id: int):
    """[(run_id, state, logical_date, conf)] of the backfill once none of its runs is queued or running; else None.
    Reads the scheduler's own session, so that a run it has finished in this loop counts as finished."""
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from airflow.models.dagrun import DagRun

    this_state = str(getattr(dag_run.state, "value", dag_run.state))
    rows = object_session(dag_run).execute(
        select(DagRun.run_id, DagRun.state, DagRun.logical_date, DagRun.conf)
        .where(DagRun.backfill_id == backfill_id).order_by(DagRun.logical_date)
    ).all()
    runs = [(row_run_id, this_state if row_run_id == run_id else str(getattr(state, "value", state)), logical_date,
             conf or {}) for row_run_id, state, logical_date, conf in rows]
    return None if any(state in UNFINISHED for _, state, _, _ in runs) else runs


def send_digest(dag_id: str, runs) -> None:
    try:
        digest = backfill_digest(dag_id, runs)
        if digest is not None:
            from nyc_taxi.alerts import send

            send(digest)
    except Exception:
        log.exception("could not send the digest of a backfill of %s", dag_id)


def backfill_digest(dag_id: str, runs):
    """The digest Alert of a finished backfill's runs; None when every month loaded and none had been failing."""
    from airflow.models.variable import Variable

    from nyc_taxi.alerts import Alert, failing_variable, month_of_context

    failed, recovered = [], []
    for run_id, state, logical_date, conf in runs:
        month = month_of_context(dag_id, conf, logical_date) or f"run {run_id}"
        recorded = Variable.get(failing_variable(dag_id, month), default_var=None)
        if state == "failed":
            why = json.loads(recorded) if recorded else {}
            failed.append(f"failed: {month}: {why.get('task') or 'a task'}: {why.get('error') or 'see its log'}")
        elif recorded is not None:
            Variable.delete(failing_variable(dag_id, month))
            recovered.append(f"recovered: {month}")
    if not failed and not recovered:
        return None
    months = [f"{logical_date:%Y-%m}" for _, _, logical_date, _ in runs if logical_date]
    color = MONTHLY_DAG_ID.fullmatch(dag_id)["color"]
    span = f"{color} {months[0]}..{months[-1]}" if months else f"{len(runs)} runs"
    summary = f"{len(failed)} of {len(runs)} months failed" + (f", {len(recovered)} recovered" if recovered else "")
    return Alert("backfill", dag_id, span, summary, items=tuple(failed + recovered))
