"""Who is told when a month fails, recovers or is late: Airflow callbacks that send one message through the SMTP
provider's and the Slack provider's notifiers. `dag_settings.py` attaches them; no task knows they exist.

Each channel is off until its connection exists: `nyc_taxi_alerts_smtp` (mail to the Variable
`nyc_taxi_alert_email_to`) and `nyc_taxi_alerts_slack` (an incoming webhook). A channel that cannot be reached is
logged and skipped: a callback never changes a month's result, and none runs inside a load (a task's failure
callback runs after its last try, the success and deadline callbacks in the dag-processor and the executor).

Which months are failing is kept in one Variable per DAG and month, `nyc_taxi_alert_failing__<dag>__<month>`, set
by the failure alert and deleted by the run that loads the month again, which sends "recovered". The Variables
list in the UI thus shows every month that is failing now.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from nyc_taxi.settings import VARIABLE_PREFIX, setting_from_airflow

SMTP_CONN_ID = "nyc_taxi_alerts_smtp"
SLACK_CONN_ID = "nyc_taxi_alerts_slack"
FAILING_VARIABLE_PREFIX = f"{VARIABLE_PREFIX}alert_failing__"
# An alert is worth less than the load: a channel that does not answer in this long is given up.
CHANNEL_TIMEOUT_SECONDS = 10

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """One message: what happened (`failed`, `recovered`, `late`) to which month of which DAG."""

    kind: str
    dag_id: str
    month: str  # "green 2021-06", or the run id when the run names no month
    detail: str
    task_id: str | None = None
    log_url: str | None = None
    items: tuple[str, ...] = ()  # a digest's one line per month

    @property
    def subject(self) -> str:
        task = f", task {self.task_id}" if self.task_id else ""
        summary = f": {self.detail}" if self.items else ""
        return f"[nyc-taxi] {self.kind}: {self.month}{summary} ({self.dag_id}{task})"

    @property
    def lines(self) -> list[str]:
        lines = [f"DAG: {self.dag_id}", f"{'months' if self.items else 'month'}: {self.month}"]
        if self.task_id:
            lines.append(f"task: {self.task_id}")
        lines.append(f"{'error' if self.kind == 'failed' else 'what'}: {self.detail}")
        if self.log_url:
            lines.append(f"log: {self.log_url}")
        return lines + list(self.items)

    @property
    def text(self) -> str:
        return "\n".join([self.subject, *self.lines])


def failing_variable(dag_id: str, month: str) -> str:
    return f"{FAILING_VARIABLE_PREFIX}{dag_id}__{month.replace(' ', '_')}"


def month_of_context(dag_id: str, params: dict, logical_date) -> str | None:
    """`"green 2021-06"` for a run of a monthly DAG, or of any DAG given year and month; None otherwise."""
    from nyc_taxi.months import month_of_run
    from nyc_taxi.run_notes import month_label_of_run

    label = month_label_of_run(dag_id, params or {}, logical_date)
    if label:
        return f"{params.get('color') or dag_id.split('_', 1)[0]} {label}"
    if params and params.get("color") and params.get("year") is not None:
        try:
            return str(month_of_run(params, None))
        except (ValueError, TypeError):
            return None
    return None


def one_line(error: BaseException | None) -> str:
    """The error's own message, first line only: what a reader sees in a subject or a Slack preview."""
    if error is None:
        return "no error recorded"
    message = str(error).strip() or type(error).__name__
    return message.splitlines()[0]


def task_failed(context) -> None:
    """`on_failure_callback` of every task: Airflow calls it after the task's last try only, never on a retry."""
    try:
        ti = context["ti"]
        month = month_of_context(ti.dag_id, context.get("params") or {}, context.get("logical_date"))
        alert = Alert("failed", ti.dag_id, month or f"run {ti.run_id}", one_line(context.get("exception")),
                      task_id=ti.task_id, log_url=ti.log_url)
        if month:
            try:
                _remember_failing(ti.dag_id, month, alert)
            except Exception:
                log.exception("could not record %s as failing; the alert goes out all the same", month)
        if is_backfill(context["dag_run"]):
            log.info("%s failed in a backfill: its digest names it when the backfill ends", month)
            return
        send(alert)
    except Exception:
        log.exception("could not send the failure alert; the task's result stands")


def is_backfill(dag_run) -> bool:
    run_type = dag_run.get("run_type") if isinstance(dag_run, dict) else getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "backfill"


def run_succeeded(context) -> None:
    """`on_success_callback` of every DAG (run by the dag-processor): "recovered" if the run's month was failing."""
    try:
        dag_run = context["dag_run"]
        if is_backfill(dag_run):
            return  # the backfill's digest says which months recovered
        month = month_of_context(dag_run.dag_id, context.get("params") or {}, context.get("logical_date"))
        if not month or _forget_failing(dag_run.dag_id, month) is None:
            return
        send(Alert("recovered", dag_run.dag_id, month, f"loaded by run {dag_run.run_id} after failing"))
    except Exception:
        log.exception("could not send the recovered alert; the run's result stands")


def month_late(context: dict, late_after_seconds: float) -> None:
    """The DAGs' deadline callback (run by the executor): the run has not succeeded `late_after_seconds` after it was
    queued. A run that already failed has said so; this says nothing for it."""
    try:
        dag_run = context["dag_run"]  # the REST API's DAGRunResponse, as JSON
        run_id = dag_run["dag_run_id"]
        if dag_run.get("state") == "failed":
            log.info("%s missed its deadline after failing: the failure alert has told", run_id)
            return
        if is_backfill(dag_run):
            log.info("%s of a backfill missed its deadline: the backfill's digest reports its months", run_id)
            return
        logical_date = dag_run.get("logical_date")
        if isinstance(logical_date, str):
            logical_date = dt.datetime.fromisoformat(logical_date)
        params = {**(dag_run.get("conf") or {})}
        month = month_of_context(dag_run["dag_id"], params, logical_date)
        waited = dt.timedelta(seconds=round(late_after_seconds))
        send(Alert("late", dag_run["dag_id"], month or f"run {run_id}",
                   f"not loaded {waited} after its run {run_id} was queued "
                   f"(state: {dag_run.get('state')})"))
    except Exception:
        log.exception("could not send the late alert")


def _remember_failing(dag_id: str, month: str, alert: Alert) -> None:
    from airflow.sdk import Variable

    Variable.set(failing_variable(dag_id, month), json.dumps({"task": alert.task_id, "error": alert.detail}),
                 description=f"{month} failed in {dag_id}; deleted when a run loads it again")


def _forget_failing(dag_id: str, month: str) -> str | None:
    """The failure recorded for the month (deleted now), or None when it was not failing."""
    from airflow.sdk import Variable

    name = failing_variable(dag_id, month)
    recorded = Variable.get(name, default=None)
    if recorded is not None:
        Variable.delete(name)
    return recorded


def send(alert: Alert, timeout_seconds: float = CHANNEL_TIMEOUT_SECONDS) -> list[str]:
    """Send the alert through each channel whose connection exists, all at once, giving up on any that has not
    answered within `timeout_seconds` (an SMTP hook retries five times by default): a failed task's slot is free
    again within that. Returns the channels that were tried."""
    import threading

    def deliver(channel: str, notifier) -> None:
        try:
            notifier.notify({})
            log.info("sent the %s alert for %s by %s", alert.kind, alert.month, channel)
        except Exception as error:
            log.warning("could not send the %s alert for %s by %s: %s", alert.kind, alert.month, channel, error)

    deliveries = {channel: threading.Thread(target=deliver, args=(channel, notifier), daemon=True,
                                            name=f"nyc-taxi-alert-{channel}")
                  for channel, notifier in _notifiers(alert)}
    if not deliveries:
        log.info("no alert channel is configured (connections %s, %s): %s", SMTP_CONN_ID, SLACK_CONN_ID, alert.subject)
    for delivery in deliveries.values():
        delivery.start()
    give_up_at = time.monotonic() + timeout_seconds
    for channel, delivery in deliveries.items():
        delivery.join(max(give_up_at - time.monotonic(), 0))
        if delivery.is_alive():
            log.warning("gave up on the %s alert for %s by %s after %.0f s", alert.kind, alert.month, channel,
                        timeout_seconds)
    return list(deliveries)


def _notifiers(alert: Alert):
    if _connection_exists(SMTP_CONN_ID):
        recipients = setting_from_airflow("alert_email_to")
        if recipients:
            yield "email", _email_notifier(alert, recipients)
        else:
            log.warning("connection %s is set but the Variable nyc_taxi_alert_email_to is empty: no mail", SMTP_CONN_ID)
    if _connection_exists(SLACK_CONN_ID):
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        yield "slack", SlackWebhookNotifier(
            slack_webhook_conn_id=SLACK_CONN_ID, text=alert.text, timeout=CHANNEL_TIMEOUT_SECONDS,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"*{alert.subject}*"}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(alert.lines)}}],
        )


def _email_notifier(alert: Alert, recipients: str):
    import html

    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    body = "".join(f"<p>{html.escape(line)}</p>" for line in alert.lines)
    if alert.log_url:
        body += f'<p><a href="{html.escape(alert.log_url)}">the task\'s log</a></p>'
    # The connection's extra `from_email` wins; without it the mail still goes, from this address.
    return SmtpNotifier(smtp_conn_id=SMTP_CONN_ID, from_email=_from_email(), to=[address.strip() for address in recipients.split(",")],
                        subject=alert.subject, html_content=body)


def _from_email() -> str:
    from airflow.sdk import Connection

    return Connection.get(SMTP_CONN_ID).extra_dejson.get("from_email") or "nyc-taxi-alerts@localhost"


def _connection_exists(conn_id: str) -> bool:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowRuntimeError

    try:
        Connection.get(conn_id)
    except (AirflowRuntimeError, Exception) as error:  # not found: the channel is off
        log.debug("connection %s: %s", conn_id, error)
        return False
    return True
