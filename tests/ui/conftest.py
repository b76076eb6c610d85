"""The Airflow UI as a user meets it: the local stack with the emulators, and headless Chromium logged in."""

import pytest
from playwright.sync_api import expect

from devstack.airflow_ui import AirflowApi, chromium, logged_in_page
from tests.dags.conftest import airflow_stack, publish  # noqa: F401 - the fixtures, shared with the DAG tests

SCHEMA = "ui_test"
BUCKET = "ui-lake"
# The UI renders a page within Playwright's default 5 s, but not always while the suite's other servers keep both
# cores busy: a slow page is not what these tests look for.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="package")
def ui_stack(airflow_stack, gcs_emulator, bigquery_emulator):  # noqa: F811
    """The stack every DAG runs on, as `./dev stack` gives it; scheduled runs off, so only the tests' runs run."""
    gcs_emulator.create_bucket(BUCKET)
    with airflow_stack("ui", {
        **gcs_emulator.environment(),
        **bigquery_emulator.environment(),
        "AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET": BUCKET,
        "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": SCHEMA,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }) as stack:
        yield stack


@pytest.fixture(scope="package")
def api(ui_stack) -> AirflowApi:
    return AirflowApi(ui_stack)


@pytest.fixture(scope="package")
def ui(ui_stack, api):
    """A page logged in as admin through the login form."""
    with chromium() as browser:
        yield logged_in_page(browser, ui_stack.url, api.password)
