"""The clients of the Airflow connections the pipeline uses, built at the edge: by the tasks and the coverage page."""

from __future__ import annotations

from nyc_taxi.settings import GCP_CONN_ID, POSTGRES_CONN_ID, Settings


def postgres_connection():
    """A connection of `ny_taxi_postgres`, in autocommit: the load functions open their own transactions."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID).get_conn()
    conn.autocommit = True
    return conn


def gcs_client():
    """The `google.cloud.storage.Client` of the `google_cloud_default` connection."""
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    return GCSHook(gcp_conn_id=GCP_CONN_ID).get_conn()


def bigquery_target(settings: Settings):
    """(hook, project, dataset, location) of the `google_cloud_default` connection and the BigQuery Variables."""
    from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook

    hook = BigQueryHook(gcp_conn_id=GCP_CONN_ID, location=settings.bigquery_location)
    return hook, settings.bigquery_project or hook.project_id, settings.bigquery_dataset, settings.bigquery_location
