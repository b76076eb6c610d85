"""Alerts and lineage on a running scheduler: a month that fails (404) mails and posts to Slack once, a run that
loads it again sends "recovered", and a month still loading past its deadline sends "late"; every task's
OpenLineage events reach an HTTP receiver, naming the source file and the Postgres table with its rows.

One stack for the module, with the alert connections pointed at the session's SMTP server and webhook receiver,
OpenLineage's HTTP transport at the same receiver, and a deadline of 15 s (`NYC_TAXI_LATE_AFTER`).
"""

import json
import re

import psycopg
import pytest

from tests.dags.conftest import unpause, wait_for

DAG_ID = "yellow_taxi_to_postgres"
SCHEMA = "alerts_test"
FAILING, LATE = "2020-06", "2020-07"
SLACK_PATH = "/services/T000/B000/alerts"
LINEAGE_PATH = "/api/v1/lineage"
LATE_AFTER_SECONDS = 15


@pytest.fixture(scope="module")
def stack(airflow_stack, mail_server, json_receiver):
    env = {
        **mail_server.environment(),
        "AIRFLOW_CONN_NYC_TAXI_ALERTS_SLACK": json.dumps(
            {"conn_type": "slackwebhook", "password": json_receiver.url + SLACK_PATH}),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "http", "url": json_receiver.url, "endpoint": LINEAGE_PATH.lstrip("/")}),
        "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": SCHEMA,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "NYC_TAXI_LATE_AFTER": f"{LATE_AFTER_SECONDS}s",
    }
    with airflow_stack("alerts", env) as running:
        unpause(running, DAG_ID)
        yield running


def trigger(stack, month: str, run_id: str) -> None:
    conf = {"year": int(month[:4]), "month": int(month[5:])}
    stack.cli("dags", "trigger", DAG_ID, "--run-id", run_id, "--conf", json.dumps(conf))


def run_state(stack, run_id: str) -> str | None:
    with psycopg.connect(stack.metadata_dsn) as conn:
        row = conn.execute("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (DAG_ID, run_id)).fetchone()
    return row[0] if row else None


def finished(stack, run_id: str, timeout_seconds: float = 180) -> str:
    return wait_for(lambda: (state := run_state(stack, run_id)) in ("success", "failed") and state,
                    timeout_seconds, f"{run_id} to finish")


def runs_unfinished_at_deadline(stack) -> set[str]:
    """The runs that had neither succeeded nor failed `LATE_AFTER_SECONDS` after they were queued."""
    with psycopg.connect(stack.metadata_dsn) as conn:
        rows = conn.execute("SELECT run_id FROM dag_run WHERE dag_id = %s AND coalesce(end_date, now()) - queued_at"
                            " > make_interval(secs => %s)", (DAG_ID, LATE_AFTER_SECONDS)).fetchall()
    return {run_id for (run_id,) in rows}


def late_run_named(mail) -> str:
    return re.search(r"after its run (\S+) was queued", mail.get_body().get_content()).group(1)


def mails_about(mail_server, kind: str, month: str):
    return [mail for mail in mail_server.messages() if mail["Subject"].startswith(f"[nyc-taxi] {kind}: yellow {month}")]


def slack_posts_about(json_receiver, kind: str, month: str):
    return [body for body in json_receiver.bodies(SLACK_PATH) if body["text"].startswith(f"[nyc-taxi] {kind}: yellow {month}")]


def test_a_failed_month_alerts_once_a_reload_recovers_it_and_a_slow_one_is_late(
        stack, source, publish, mail_server, json_receiver):
    publish("yellow", 2020, 7, rows=5_000)
    # Slow enough that the run is still loading when its 15 s deadline passes.
    source.delay(f"/yellow/yellow_tripdata_{LATE}.csv.gz", seconds=LATE_AFTER_SECONDS + 10)
    trigger(stack, FAILING, "failing")  # not published: the download gets a 404 and fails without retrying
    trigger(stack, LATE, "late")

    assert finished(stack, "failing") == "failed"
    failed = wait_for(lambda: mails_about(mail_server, "failed", FAILING), 60, "the failure mail")
    assert len(failed) == 1
    body = failed[0].get_body().get_content()
    assert f"DAG: {DAG_ID}" in body and "task: download_month" in body
    assert f"no data for yellow {FAILING} at {source.base_url}/yellow/yellow_tripdata_{FAILING}.csv.gz" in body
    assert f"{stack.url}/dags/{DAG_ID}/runs/failing/tasks/download_month" in body
    [post] = slack_posts_about(json_receiver, "failed", FAILING)
    assert post["text"].splitlines()[0] == failed[0]["Subject"]
    assert [block["type"] for block in post["blocks"]] == ["section", "section"]

    # Published now: a new run of the month loads it, and the month's failure is answered once.
    publish("yellow", 2020, 6, rows=5_000)
    trigger(stack, FAILING, "recovered")
    assert finished(stack, "recovered") == "success"
    recovered = wait_for(lambda: mails_about(mail_server, "recovered", FAILING), 60, "the recovered mail")
    assert len(recovered) == 1 and "loaded by run recovered after failing" in recovered[0].get_body().get_content()
    assert len(slack_posts_about(json_receiver, "recovered", FAILING)) == 1

    late = wait_for(lambda: mails_about(mail_server, "late", LATE), 90, "the late mail")
    assert len(late) == 1 and f"not loaded 0:00:{LATE_AFTER_SECONDS} after its run late was queued" in (
        late[0].get_body().get_content())
    assert finished(stack, "late") == "success"  # the alert changed nothing: the month still loads
    # The failed run missed its deadline too, but its failure has already told; on a loaded machine a run of the
    # month may really still be going at its deadline, and then its "late" is right.
    for mail in mails_about(mail_server, "late", FAILING):
        assert late_run_named(mail) in runs_unfinished_at_deadline(stack), mail.get_body().get_content()
    assert mails_about(mail_server, "failed", LATE) == [] and mails_about(mail_server, "recovered", LATE) == []
    assert len(mails_about(mail_server, "failed", FAILING)) == 1


def test_each_task_sends_lineage_naming_the_file_the_table_and_the_rows(stack, json_receiver, postgres_dsn):
    from tests.openlineage_events import validate_run_event

    # The first test's runs have finished; their COMPLETE events leave the task processes as they end.
    def complete_events():
        return {event["job"]["name"]: event for event in json_receiver.bodies(LINEAGE_PATH)
                if event["eventType"] == "COMPLETE" and event["job"]["name"].startswith(f"{DAG_ID}.")
                and any(d["name"].endswith(f"yellow_tripdata_{LATE}.csv.gz") for d in event.get("inputs", []))}

    events = wait_for(lambda: (found := complete_events()) and len(found) >= 2 and found, 60, "the lineage events")
    for event in json_receiver.bodies(LINEAGE_PATH):
        validate_run_event(event)

    download = events[f"{DAG_ID}.download_month"]
    [source_file] = download["inputs"]
    assert source_file["namespace"].startswith("http://127.0.0.1:")
    assert source_file["name"] == f"yellow/yellow_tripdata_{LATE}.csv.gz"

    load = events[f"{DAG_ID}.clean_and_load_month_to_postgres"]
    assert load["inputs"][0]["name"] == source_file["name"]
    [table] = load["outputs"]
    assert table["name"] == f"ny_taxi.{SCHEMA}.yellow_tripdata"
    assert table["namespace"].startswith("postgres://127.0.0.1:")
    assert table["facets"]["nycTaxiMonth"]["month"] == LATE
    assert table["facets"]["nycTaxiMonth"]["part"] == f"{SCHEMA}.yellow_tripdata_2020_07"
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {SCHEMA}.yellow_tripdata WHERE source_month = '2020-07-01'"
                            ).fetchone()[0]
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == rows > 0


def test_a_backfill_of_failing_months_sends_one_digest(stack, publish, mail_server, json_receiver):
    from tests.dags.conftest import latest_backfill

    publish("yellow", 2019, 4, rows=3_000)  # 2019-03 and 2019-05 are not published: 404s
    stack.cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", "2019-03-01", "--to-date", "2019-05-01",
              "--max-active-runs", "2")
    _, runs = wait_for(lambda: (backfill := latest_backfill(stack, DAG_ID))[0] and backfill, 180,
                       "the backfill to complete")
    assert sorted(runs.values()) == ["failed", "failed", "success"]

    [digest] = wait_for(lambda: mails_about(mail_server, "backfill", "2019-03..2019-05"), 60, "the digest")
    assert digest["Subject"] == f"[nyc-taxi] backfill: yellow 2019-03..2019-05: 2 of 3 months failed ({DAG_ID})"
    body = digest.get_body().get_content()
    for month in ("2019-03", "2019-05"):
        assert f"failed: yellow {month}: download_month: no data for yellow {month} at " in body
        assert mails_about(mail_server, "failed", month) == []  # no mail per month
    assert "yellow 2019-04" not in body
    assert len(slack_posts_about(json_receiver, "backfill", "2019-03..2019-05")) == 1
