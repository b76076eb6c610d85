"""
### NYC taxi trips, GCS → BigQuery

One DAG per taxi color (yellow, green, fhv), started by the asset `<color>_taxi_trips_in_gcs` each time
`<color>_taxi_to_gcs` has written a month, and once a day at 06:00 UTC. A run loads every month whose latest GCS
write BigQuery does not hold yet (the table `<dataset>.<color>_load_audit` records which write each month came
from), so months written while a run was busy are loaded by the next, and the daily run loads any month a failed
run or a pause missed. Each month is loaded from the objects its GCS manifest lists into
`<dataset>.<color>_tripdata`, partitioned by pickup date and clustered by pickup location, replacing that month
only; then its rows per pickup date are checked against GCS, and its location ids looked up in `<dataset>.zones`
(ids it lacks warn, see `taxi_zones_to_bigquery`).

Trigger it with no params to bring BigQuery up to date with GCS, or with `year` and `month` to reload one month.
Project, dataset and location come from the Variables `nyc_taxi_bigquery_project` (default: the connection's
project), `nyc_taxi_bigquery_dataset` and `nyc_taxi_bigquery_location`; credentials from the connection
`google_cloud_default`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from nyc_taxi.dag_settings import DEFAULT_ARGS, month_in_gcs_or_daily, month_params
from nyc_taxi.sources import source_of_dags
from nyc_taxi.tasks import check_month_in_bigquery, load_month_to_bigquery, months_to_load_into_bigquery


def gcs_to_bigquery(color: str):
    @dag(
        dag_id=f"{color}_taxi_gcs_to_bigquery",
        description=f"Load months of {color} taxi trips from GCS into BigQuery",
        doc_md=__doc__,
        schedule=month_in_gcs_or_daily(color),
        start_date=pendulum.datetime(2019, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["nyc-taxi", color, "bigquery"],
        default_args=DEFAULT_ARGS,
        params=month_params(color, when_empty="load every month whose latest GCS write BigQuery lacks", source=SOURCE),
    )
    def load_taxi_months():
        loaded = load_month_to_bigquery.expand(month=months_to_load_into_bigquery())
        check_month_in_bigquery.expand(loaded=loaded)

    return load_taxi_months()


SOURCE = source_of_dags()
for taxi_color in SOURCE.services:
    gcs_to_bigquery(taxi_color)
