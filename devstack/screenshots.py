"""`./dev screenshots`: the README's pictures of the UI, taken anew on the local stack.

Starts the stack of `./dev stack` on a port and a metadata database of its own (a running stack is left alone),
backfills green 2021-01..03 from the UI's Backfill form into Postgres and through the API into GCS (BigQuery
follows from the asset events), and saves the trigger form, the finished backfill, the graph and the page
"NYC taxi loads" in docs/screenshots/.
"""

from __future__ import annotations

import argparse
import sys

from devstack.airflow_stack import local_stack
from devstack.airflow_ui import (
    AirflowApi,
    choose_backfill_months,
    chromium,
    fill_month_params,
    logged_in_page,
    open_trigger_form,
)
from devstack.local_env import REPO

SHOTS = REPO / "docs" / "screenshots"
DAG_ID = "green_taxi_to_postgres"
MONTHS = ["2021-01", "2021-02", "2021-03"]


def take_screenshots(stack, api: AirflowApi) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = logged_in_page(browser, stack.url, api.password, width=1400, height=900)

        dialog = open_trigger_form(page, stack.url, DAG_ID)
        fill_month_params(dialog, 2021, 2)
        dialog.get_by_text("Run Parameters").scroll_into_view_if_needed()
        save(page, "trigger-form")

        print(f"==> backfilling {DAG_ID} {MONTHS[0]}..{MONTHS[-1]} from the Backfill form")
        choose_backfill_months(page, dialog, MONTHS[0], MONTHS[-1])
        dialog.get_by_text("All Runs", exact=True).click()
        dialog.get_by_role("button", name="Run Backfill").click()

        print("==> and green_taxi_to_gcs through the API, then green_taxi_gcs_to_bigquery")
        api.unpause("green_taxi_to_gcs")  # a paused DAG's backfill runs wait
        api.backfill("green_taxi_to_gcs", MONTHS[0], MONTHS[-1])
        for dag_id in (DAG_ID, "green_taxi_to_gcs"):
            api.wait_for_backfill(dag_id)
        # With no scheduled runs, no asset-triggered ones either: a run with no params loads what GCS holds.
        api.unpause("green_taxi_gcs_to_bigquery")
        bigquery_run = api.trigger("green_taxi_gcs_to_bigquery")
        if api.wait_for_run("green_taxi_gcs_to_bigquery", bigquery_run, timeout_seconds=600)["state"] != "success":
            raise RuntimeError(f"green_taxi_gcs_to_bigquery {bigquery_run} failed; see the stack's logs")

        page.goto(f"{stack.url}/dags/{DAG_ID}/runs")
        page.get_by_role("link", name=f"backfill__{MONTHS[-1]}-01T00:00:00+00:00").wait_for()
        save(page, "backfill")

        page.goto(f"{stack.url}/dags/{DAG_ID}")
        page.get_by_role("button", name="Show Graph (Press g)").click()
        page.wait_for_timeout(2_000)
        save(page, "graph")

        page.set_viewport_size({"width": 1400, "height": 1250})
        page.goto(f"{stack.url}/plugin/nyc-taxi-loads")
        page.frame_locator("iframe").locator("h1", has_text="NYC taxi loads").wait_for()
        save(page, "loads-page")


def save(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1_000)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"==> {path.relative_to(REPO)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8089, help="the stack's port while the pictures are taken")
    args = parser.parse_args(argv)
    # A metadata database of its own, made anew, and its own schema, prefix and dataset: the pictures show only
    # what this command did, and a stack the user runs keeps its runs and data.
    isolated = {f"AIRFLOW_VAR_NYC_TAXI_{name}": "screenshots"
                for name in ("POSTGRES_SCHEMA", "GCS_PREFIX", "BIGQUERY_DATASET")}
    # No scheduled runs: a backfill that unpauses a DAG can race catchup's run of the same month, and Airflow
    # 3.3.2's scheduler exits on the duplicate it then inserts.
    isolated["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    with local_stack(port=args.port, months=MONTHS, metadata_db="airflow_screenshots", fresh=True,
                     extra_env=isolated) as stack:
        take_screenshots(stack, AirflowApi(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
