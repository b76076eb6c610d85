"""Where the pipeline reads from and writes to: Airflow Variables and Connections, with local defaults.

Read only inside tasks, so parsing a DAG file never touches the metadata database.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from nyc_taxi.months import DEFAULT_SOURCE_BASE_URL

POSTGRES_CONN_ID = "ny_taxi_postgres"
GCP_CONN_ID = "google_cloud_default"


@dataclass(frozen=True)
class Settings:
    source_base_url: str
    staging_dir: Path
    postgres_schema: str
    gcs_bucket: str
    gcs_prefix: str
    bigquery_project: str | None  # None: the project of the google_cloud_default connection
    bigquery_dataset: str
    bigquery_location: str


def settings_from_airflow() -> Settings:
    from airflow.sdk import Variable

    return Settings(
        source_base_url=Variable.get("nyc_tlc_base_url", default=DEFAULT_SOURCE_BASE_URL),
        staging_dir=Path(Variable.get("nyc_taxi_staging_dir", default=str(Path(tempfile.gettempdir()) / "nyc_taxi"))),
        postgres_schema=Variable.get("ny_taxi_postgres_schema", default="ny_taxi"),
        gcs_bucket=Variable.get("nyc_taxi_gcs_bucket", default="nyc-taxi-lake"),
        gcs_prefix=Variable.get("nyc_taxi_gcs_prefix", default="nyc_taxi"),
        bigquery_project=Variable.get("nyc_taxi_bigquery_project", default=None),
        bigquery_dataset=Variable.get("nyc_taxi_bigquery_dataset", default="ny_taxi"),
        bigquery_location=Variable.get("nyc_taxi_bigquery_location", default="US"),
    )
