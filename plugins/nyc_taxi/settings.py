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
# The TLC's trip record files (`<base>/yellow_tripdata_2024-01.parquet`), as its trip record page links them.
DEFAULT_TLC_BASE_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data"


@dataclass(frozen=True)
class Settings:
    # Which source the DAGs read (nyc_taxi/sources.py): `release-csv`, the course's release, or `tlc-parquet`, the
    # TLC's own files. The DAG files read it from the environment when parsed; a task refuses to run if the Variable
    # says otherwise.
    source: str = "release-csv"
    source_base_url: str = DEFAULT_SOURCE_BASE_URL
    tlc_base_url: str = DEFAULT_TLC_BASE_URL
    # How long a run of tlc-parquet waits for its month's file before it fails with "not published yet" (days), and
    # how often it looks (minutes); the waiting is deferred to the triggerer (nyc_taxi/sensors.py).
    tlc_wait_days: float = 40.0
    tlc_poll_minutes: float = 60.0
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
