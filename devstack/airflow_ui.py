"""A running stack's UI in headless Chromium, and its REST API as admin: for the browser tests and `./dev screenshots`.

Debian's chromium (`./dev` installs it), driven by Playwright with no browser download. The flags keep it off a
network this machine may not have: without them it tries Google's hosts at every start.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def admin_password(password_file: Path) -> str:
    """The admin's password that the simple auth manager generated for the stack."""
    return json.loads(password_file.read_text())["admin"]


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def logged_in_page(browser, url: str, password: str, width: int = 1400, height: int = 1000):
    """A page of the Airflow UI at `url`, signed in as admin through the login form."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    page.goto(f"{url}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    return page


def open_trigger_form(page, url: str, dag_id: str):
    """The DAG's Trigger dialog, open on its default single run (logical date: now)."""
    page.goto(f"{url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Run Parameters").wait_for()
    return dialog


def fill_month_params(dialog, year: int, month: int) -> None:
    dialog.locator("input[name=element_year]").fill(str(year))
    dialog.locator("input[name=element_month]").fill(str(month))


def choose_backfill_months(page, dialog, first_month: str, last_month: str) -> None:
    """Switch the Trigger dialog to Backfill, from the first of `first_month` to the first of `last_month` (YYYY-MM)."""
    dialog.get_by_text("Backfill", exact=True).click()
    for index, month in enumerate((first_month, last_month)):
        dialog.get_by_test_id("datetime-input").nth(index).click()
        picker = page.locator("[data-scope=popover][data-part=content][data-state=open]")
        picker.get_by_placeholder("YYYY/MM/DD").fill(f"{month.replace('-', '/')}/01")
        picker.get_by_placeholder("HH:mm").fill("00:00")
        page.keyboard.press("Escape")


class AirflowApi:
    """The REST API with the admin's token: what the tests check behind what the browser shows."""

    def __init__(self, stack) -> None:
        self.url = stack.url
        password = admin_password(stack.password_file)
        token = requests.post(f"{self.url}/auth/token", json={"username": "admin", "password": password},
                              timeout=30).json()["access_token"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.password = password

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.url}/api/v2/{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def unpause(self, dag_id: str) -> None:
        self.session.patch(f"{self.url}/api/v2/dags/{dag_id}", params={"update_mask": "is_paused"},
                           json={"is_paused": False}, timeout=30).raise_for_status()

    def backfill(self, dag_id: str, first_month: str, last_month: str) -> None:
        """A backfill of the months (YYYY-MM), rerunning those already done, two at a time."""
        self.session.post(f"{self.url}/api/v2/backfills", timeout=30, json={
            "dag_id": dag_id, "from_date": f"{first_month}-01T00:00:00Z", "to_date": f"{last_month}-01T00:00:00Z",
            "reprocess_behavior": "completed", "max_active_runs": 2,
        }).raise_for_status()

    def wait_for_backfill(self, dag_id: str, timeout_seconds: float = 600) -> None:
        """Until the DAG's newest backfill has completed."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            backfills = self.get("backfills", dag_id=dag_id, order_by="-id", limit=1)["backfills"]
            if backfills and backfills[0]["completed_at"]:
                return
            time.sleep(2)
        raise TimeoutError(f"the backfill of {dag_id} did not complete within {timeout_seconds} s")

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """A manual run with no logical date; returns its id."""
        response = self.session.post(f"{self.url}/api/v2/dags/{dag_id}/dagRuns", timeout=30,
                                     json={"logical_date": None, "conf": conf or {}})
        response.raise_for_status()
        return response.json()["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        """The DAG's latest 100 runs, oldest first."""
        return self.get(f"dags/{dag_id}/dagRuns", order_by="-id", limit=100)["dag_runs"][::-1]

    def wait_for_run(self, dag_id: str, run_id: str, timeout_seconds: float = 300) -> dict:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            response = self.session.get(f"{self.url}/api/v2/dags/{dag_id}/dagRuns/{run_id}", timeout=30)
            if response.status_code != 404:  # a backfill creates its runs a moment after it is made
                response.raise_for_status()
                if response.json()["state"] in ("success", "failed"):
                    return response.json()
            time.sleep(2)
        raise TimeoutError(f"{dag_id} {run_id} did not finish within {timeout_seconds} s")

    def wait_for_task(self, dag_id: str, run_id: str, task_id: str, *states: str, timeout_seconds: float = 300):
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            response = self.session.get(
                f"{self.url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}", timeout=30)
            if response.ok and response.json()["state"] in states:
                return response.json()["state"]
            time.sleep(0.5)
        raise TimeoutError(f"{dag_id} {run_id} {task_id} was not {' or '.join(states)} within {timeout_seconds} s")

    def new_run(self, dag_id: str, known: set[str], timeout_seconds: float = 30) -> str:
        """The id of a run of the DAG that is not in `known`, once the UI has created it."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            new = [run["dag_run_id"] for run in self.runs(dag_id) if run["dag_run_id"] not in known]
            if new:
                return new[-1]
            time.sleep(1)
        raise TimeoutError(f"no new run of {dag_id} within {timeout_seconds} s")
