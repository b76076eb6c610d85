"""The alerts' messages, and their channels on real servers: aiosmtpd for mail, an HTTP receiver for Slack's webhook,
and a closed port for each when it is down."""

import json
import time

import pytest

from devstack.server_process import free_port
from nyc_taxi.alerts import Alert, failing_variable, month_of_context, one_line, send
from nyc_taxi.dag_settings import late_month_deadline, parse_duration

FAILED = Alert("failed", "green_taxi_to_postgres", "green 2021-06",
               "no data for green 2021-06 at http://source/green/green_tripdata_2021-06.csv.gz (HTTP 404: not published)",
               task_id="download_month", log_url="http://127.0.0.1:8080/dags/green_taxi_to_postgres/runs/r/tasks/download_month")
SLACK_PATH = "/services/T0/B0/x"


@pytest.fixture
def channels(monkeypatch, mail_server, json_receiver):
    for name, value in mail_server.environment("a@localhost, b@localhost").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SLACK",
                       json.dumps({"conn_type": "slackwebhook", "password": json_receiver.url + SLACK_PATH}))
    return mail_server, json_receiver


def test_a_failure_names_the_dag_month_task_error_and_log():
    assert FAILED.subject == "[nyc-taxi] failed: green 2021-06 (green_taxi_to_postgres, task download_month)"
    assert FAILED.lines == [
        "DAG: green_taxi_to_postgres", "month: green 2021-06", "task: download_month",
        "error: no data for green 2021-06 at http://source/green/green_tripdata_2021-06.csv.gz (HTTP 404: not published)",
        "log: http://127.0.0.1:8080/dags/green_taxi_to_postgres/runs/r/tasks/download_month",
    ]
    assert one_line(ValueError("first line\n  Traceback and more")) == "first line"
    assert failing_variable("green_taxi_to_postgres", "green 2021-06") == (
        "nyc_taxi_alert_failing__green_taxi_to_postgres__green_2021-06")


def test_the_month_comes_from_the_params_or_the_logical_date():
    import datetime as dt

    january = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    assert month_of_context("yellow_taxi_to_postgres", {"color": "yellow"}, january) == "yellow 2021-01"
    assert month_of_context("fhv_taxi_to_gcs", {"color": "fhv", "year": 2020, "month": 3}, None) == "fhv 2020-03"
    assert month_of_context("green_taxi_gcs_to_bigquery", {"color": "green", "year": 2020, "month": 3}, None) == (
        "green 2020-03")
    assert month_of_context("taxi_zones_to_postgres", {}, january) is None


def test_an_alert_goes_by_mail_and_to_slack(channels):
    mail_server, json_receiver = channels
    assert send(FAILED) == ["email", "slack"]
    [mail] = [m for m in mail_server.messages() if m["Subject"] == FAILED.subject]
    assert mail["To"] == "a@localhost, b@localhost"
    assert mail["From"] == "nyc-taxi-alerts@localhost"
    assert f'<a href="{FAILED.log_url}">' in mail.get_body().get_content()
    [post] = [body for body in json_receiver.bodies(SLACK_PATH) if body["text"].startswith(FAILED.subject)]
    assert post["text"] == FAILED.text
    assert post["blocks"][0]["text"]["text"] == f"*{FAILED.subject}*"


def test_no_connection_no_alert(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SLACK", raising=False)
    assert send(FAILED) == []


def test_unreachable_channels_are_logged_and_never_raise(monkeypatch, caplog):
    closed = free_port()
    monkeypatch.setenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP",
                       f"smtp://127.0.0.1:{closed}?disable_ssl=true&disable_tls=true&timeout=2&retry_limit=0")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_ALERT_EMAIL_TO", "a@localhost")
    monkeypatch.setenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SLACK",
                       json.dumps({"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{closed}/x"}))
    started = time.monotonic()
    assert send(FAILED) == ["email", "slack"]
    assert time.monotonic() - started < 10
    assert "Connection refused" in caplog.text or "could not send" in caplog.text


def test_mail_without_recipients_is_skipped(monkeypatch, mail_server):
    monkeypatch.setenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP", mail_server.connection_uri())
    monkeypatch.delenv("AIRFLOW_VAR_NYC_TAXI_ALERT_EMAIL_TO", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SLACK", raising=False)
    assert send(FAILED) == []


def test_the_deadline_is_a_setting():
    assert parse_duration("3d", "X").total_seconds() == 3 * 86400
    assert parse_duration("90s", "X").total_seconds() == 90
    assert parse_duration("off", "X") is None
    with pytest.raises(ValueError, match="NYC_TAXI_LATE_AFTER='soon' is not a duration"):
        late_month_deadline({"NYC_TAXI_LATE_AFTER": "soon"})
    assert late_month_deadline({"NYC_TAXI_LATE_AFTER": "off"}) == {}
    assert late_month_deadline({}) == {}
    deadline = late_month_deadline({"NYC_TAXI_LATE_AFTER": "3d"})["deadline"]
    assert type(deadline.reference).__name__ == "DagRunQueuedAtDeadline"
    assert deadline.interval.total_seconds() == 3 * 86400
    assert deadline.callback.path == "nyc_taxi.alerts.month_late"
    assert deadline.callback.kwargs == {"late_after_seconds": 3 * 86400}


def test_a_channel_that_never_answers_is_given_up_on(monkeypatch, caplog):
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        monkeypatch.setenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP", f"smtp://127.0.0.1:{port}?disable_ssl=true&timeout=30")
        monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_ALERT_EMAIL_TO", "a@localhost")
        monkeypatch.delenv("AIRFLOW_CONN_NYC_TAXI_ALERTS_SLACK", raising=False)
        started = time.monotonic()
        assert send(FAILED, timeout_seconds=1) == ["email"]
        assert time.monotonic() - started < 3
    assert "gave up on the failed alert for green 2021-06 by email after 1 s" in caplog.text
