"""What a user does in the Airflow UI, by clicking: find the DAGs and their docs, trigger a month from the form,
backfill months, read a failed task's log, and see what landed on the page "NYC taxi loads".

The browser acts; the REST API and Postgres say what happened behind it.
"""

import re
import time

import psycopg
import pytest
from playwright.sync_api import expect

from devstack.airflow_ui import choose_backfill_months, fill_month_params, open_trigger_form
from nyc_taxi.months import TAXI_COLORS
from tests.ui.conftest import SCHEMA

DAG_ID = "green_taxi_to_postgres"
BIG_MONTH_ROWS = 1_100_000  # the transform logs its progress every 500,000 rows read


def trigger_month_from_the_form(ui, api, url: str, year: int, month: int) -> str:
    """Fill the params and press Trigger, leaving the form's default logical date (now); returns the new run's id."""
    known = {run["dag_run_id"] for run in api.runs(DAG_ID)}
    dialog = open_trigger_form(ui, url, DAG_ID)
    fill_month_params(dialog, year, month)
    dialog.get_by_role("button", name="Trigger").click()
    return api.new_run(DAG_ID, known)


def on_the_loads_page(ui, url: str, selector: str, text: str, timeout_seconds: float = 60):
    """The page "NYC taxi loads", reloaded until `selector` shows `text`: the page reuses its reads for a few
    seconds."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        ui.goto(f"{url}/nyc-taxi/")
        element = ui.locator(selector)
        if text in element.inner_text() or time.monotonic() > deadline:
            expect(element).to_contain_text(text)
            return element
        time.sleep(3)


def rows_in_postgres(postgres_dsn, month: str) -> int:
    with psycopg.connect(postgres_dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM {SCHEMA}.green_tripdata WHERE source_month = %s",
                            (f"{month}-01",)).fetchone()[0]


@pytest.fixture(scope="module")
def months(publish):
    return {
        "2021-01": publish("green", 2021, 1),
        "2021-02": publish("green", 2021, 2),
        "2021-03": publish("green", 2021, 3, rows=BIG_MONTH_ROWS),
    }


def test_every_dag_is_listed_with_its_tags_and_its_docs_render(ui, ui_stack):
    ui.goto(f"{ui_stack.url}/dags")
    for color in TAXI_COLORS:
        for dag_id in (f"{color}_taxi_to_postgres", f"{color}_taxi_to_gcs", f"{color}_taxi_gcs_to_bigquery"):
            expect(ui.get_by_role("link", name=dag_id, exact=True)).to_be_visible()
    expect(ui.get_by_text("nyc-taxi").first).to_be_visible()

    ui.goto(f"{ui_stack.url}/dags/{DAG_ID}")
    ui.get_by_role("button", name="Dag Docs").click()
    docs = ui.get_by_role("dialog")
    expect(docs.get_by_role("heading", name="NYC taxi trips → Postgres")).to_be_visible()
    expect(docs.locator("strong", has_text="Which month:")).to_be_visible()


def test_a_month_triggered_from_the_form_loads_named_by_its_month(ui, ui_stack, api, months, postgres_dsn):
    run_id = trigger_month_from_the_form(ui, api, ui_stack.url, 2021, 3)

    # The cleaning's log shows its progress while it runs (or once it has, on a machine faster than the poll).
    api.wait_for_task(DAG_ID, run_id, "clean_and_load_month_to_postgres", "running", "success")
    ui.goto(f"{ui_stack.url}/dags/{DAG_ID}/runs/{run_id}/tasks/clean_and_load_month_to_postgres")
    expect(ui.get_by_text(re.compile(r"green_tripdata_2021-03\.csv\.gz: [\d,]+ rows read, [\d,]+ kept")).first
           ).to_be_visible(timeout=120_000)

    run = api.wait_for_run(DAG_ID, run_id)
    assert run["state"] == "success"
    assert run["note"] == "Loads green 2021-03"
    assert rows_in_postgres(postgres_dsn, "2021-03") == months["2021-03"]

    ui.goto(f"{ui_stack.url}/dags/{DAG_ID}/runs/{run_id}")
    expect(ui.get_by_text("Loads green 2021-03").first).to_be_visible()

    cell = on_the_loads_page(ui, ui_stack.url,
                             "table[data-destination=Postgres] td[data-color=green][data-month='2021-03']",
                             f"{months['2021-03']:,}")
    expect(cell).to_have_class("loaded")
    expect(cell.get_by_role("link")).to_have_attribute("title", run_id)


def test_month_13_cannot_be_triggered(ui, ui_stack, api):
    runs_before = len(api.runs(DAG_ID))
    dialog = open_trigger_form(ui, ui_stack.url, DAG_ID)
    month = dialog.locator("input[name=element_month]")
    month.fill("13")
    dialog.locator("input[name=element_year]").fill("2021")
    # The form holds the param's maximum: it will not send 13.
    expect(month).not_to_have_value("13")
    ui.keyboard.press("Escape")

    refused = api.session.post(f"{api.url}/api/v2/dags/{DAG_ID}/dagRuns",
                               json={"logical_date": None, "conf": {"year": 2021, "month": 13}}, timeout=30)
    assert refused.status_code == 400
    assert "month" in refused.text and "13" in refused.text
    assert len(api.runs(DAG_ID)) == runs_before


def test_a_backfill_from_the_form_runs_each_month_named_by_it(ui, ui_stack, api, months, postgres_dsn):
    known = {run["dag_run_id"] for run in api.runs(DAG_ID)}
    dialog = open_trigger_form(ui, ui_stack.url, DAG_ID)
    choose_backfill_months(ui, dialog, "2021-01", "2021-02")
    expect(dialog.get_by_text("2 runs will be triggered")).to_be_visible()
    dialog.get_by_role("button", name="Run Backfill").click()

    runs = ["backfill__2021-01-01T00:00:00+00:00", "backfill__2021-02-01T00:00:00+00:00"]
    api.new_run(DAG_ID, known)
    for run_id in runs:
        assert api.wait_for_run(DAG_ID, run_id)["state"] == "success"
    for month in ("2021-01", "2021-02"):
        assert rows_in_postgres(postgres_dsn, month) == months[month]

    ui.goto(f"{ui_stack.url}/dags/{DAG_ID}/runs")
    for run_id in runs:
        expect(ui.get_by_role("link", name=run_id)).to_be_visible()


def test_a_month_the_source_lacks_fails_with_one_line_in_the_task_log(ui, ui_stack, api, source):
    run_id = trigger_month_from_the_form(ui, api, ui_stack.url, 2021, 6)
    run = api.wait_for_run(DAG_ID, run_id)
    assert run["state"] == "failed"
    assert run["note"] == "Loads green 2021-06"

    ui.goto(f"{ui_stack.url}/dags/{DAG_ID}/runs/{run_id}/tasks/download_month")
    expect(ui.get_by_text(re.compile(
        r"no data for green 2021-06 at http://\S+/green/green_tripdata_2021-06\.csv\.gz \(HTTP 404: not published\)"
    )).first).to_be_visible(timeout=60_000)

    on_the_loads_page(ui, ui_stack.url, "p.gaps[data-destination=Postgres]", "Latest run failed: green 2021-06")


def test_a_trigger_with_the_default_date_and_no_params_fails_at_once_naming_the_release(ui, ui_stack, api):
    known = {run["dag_run_id"] for run in api.runs(DAG_ID)}
    open_trigger_form(ui, ui_stack.url, DAG_ID).get_by_role("button", name="Trigger").click()
    run = api.wait_for_run(DAG_ID, api.new_run(DAG_ID, known))
    assert run["state"] == "failed"
    assert re.fullmatch(r"Loads nothing: green \d{4}-\d\d is not a month of the release, which holds "
                        r"2019-01\.\.2021-07: .*", run["note"])
