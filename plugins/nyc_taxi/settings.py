"""Where the pipeline reads from and writes to: Airflow Variables and Connections, with local defaults.

Every Variable is `nyc_taxi_<field of Settings>` (in the environment `AIRFLOW_VAR_NYC_TAXI_<FIELD>`), and its
default is the field's default below, the only one. Read only inside tasks, so parsing a DAG file never touches
the metadata database.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

POSTGRES_CONN_ID = "ny_taxi_postgres"
GCP_CONN_ID = "google_cloud_default"
VARIABLE_PREFIX = "nyc_taxi_"
DEFAULT_SOURCE_BASE_URL = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"


@dataclass(frozen=True)
class Settings:
    source_base_url: str = DEFAULT_SOURCE_BASE_URL
    # Where a run's tasks leave files for each other (nyc_taxi/staging.py): a file:// directory when all tasks run on
    # one machine, object storage every worker reaches (gs://<bucket>/_staging) when they run on several.
    staging_url: str = field(default_factory=lambda: (Path(tempfile.gettempdir()) / "nyc_taxi").as_uri())
    postgres_schema: str = "ny_taxi"
    gcs_bucket: str = "nyc-taxi-lake"
    gcs_prefix: str = "nyc_taxi"
    bigquery_project: str | None = None  # None: the project of the google_cloud_default connection
    bigquery_dataset: str = "ny_taxi"
    bigquery_location: str = "US"
    # Who the failure, recovered and late alerts mail (comma-separated), once the SMTP connection is set (alerts.py).
    alert_email_to: str = ""


def variable_name(setting: str) -> str:
    """`variable_name("postgres_schema")` is `nyc_taxi_postgres_schema`."""
    return VARIABLE_PREFIX + setting


def settings_from_airflow() -> Settings:
    """Every setting: one Variable read each, and each read the execution API answers when the environment does not
    set it. A task that needs one or two settings reads them with `setting_from_airflow`."""
    return Settings(**{setting.name: setting_from_airflow(setting.name) for setting in fields(Settings)})


def setting_from_airflow(name: str):
    """One setting: its Variable, or the field's default (one request to the execution API at most)."""
    from airflow.sdk import Variable

    if name not in {setting.name for setting in fields(Settings)}:
        raise KeyError(f"{name!r} is not a setting: {[setting.name for setting in fields(Settings)]}")
    return Variable.get(variable_name(name), default=getattr(Settings(), name))
