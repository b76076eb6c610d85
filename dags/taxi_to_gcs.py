"""
### NYC taxi trips → GCS, partitioned Parquet

One DAG per taxi color (yellow, green, fhv); each run puts **one month** in the bucket (Variable
`nyc_taxi_gcs_bucket`, connection `google_cloud_default`) under `<prefix>/<color>/`:

- `<pickup date>=YYYY-MM-DD/YYYY-MM-<n>.parquet`: the month partitioned by pickup date (hive layout; the column is
  `tpep_pickup_date`, `lpep_pickup_date` or, for FHV, `pickup_date`), replaced whole on a re-run, with
  `_manifests/YYYY-MM.json` written last;
- `by_run_date/YYYY/MM/DD/daily-trips.parquet`: the module's single object of the run, named by its date.

`download_month` is the Postgres DAG's task, and `clean_month` cleans by the same rules, into a staging file (Arrow
IPC) that both writes read. When a month has landed, the asset
`<color>_taxi_trips_in_gcs` is updated with the month in its extra, which starts `<color>_taxi_gcs_to_bigquery`.
Months, params, catchup, backfills and the source (`nyc_taxi_source`, with its wait for a month's file) work as in
`<color>_taxi_to_postgres`.
"""

from __future__ import annotations

from airflow.sdk import dag

from nyc_taxi.dag_settings import DEFAULT_ARGS, month_in_gcs, month_params, monthly_schedule
from nyc_taxi.sensors import WaitForMonthFile
from nyc_taxi.sources import source_of_dags
from nyc_taxi.tasks import (
    clean_month,
    download_month,
    remove_staging_files,
    write_month_to_gcs,
    write_run_date_object_to_gcs,
)


def taxi_to_gcs(color: str):
    @dag(
        dag_id=f"{color}_taxi_to_gcs",
        description=f"Write a month of {color} taxi trips to GCS as partitioned Parquet",
        doc_md=__doc__,
        **monthly_schedule(color=color, source=SOURCE),
        tags=["nyc-taxi", color, "gcs"],
        default_args=DEFAULT_ARGS,
        params=month_params(color, source=SOURCE),
    )
    def write_taxi_month():
        downloaded = download_month()
        if SOURCE.live:
            WaitForMonthFile() >> downloaded
        cleaned = clean_month(downloaded)
        written = [
            write_month_to_gcs.override(outlets=[month_in_gcs(color)])(cleaned),
            write_run_date_object_to_gcs(cleaned),
        ]
        # As setups, clearing a failed write after its retries re-runs the steps that make the staging files.
        written >> remove_staging_files().as_teardown(setups=[downloaded, cleaned])

    return write_taxi_month()


SOURCE = source_of_dags()
for taxi_color in SOURCE.services:
    taxi_to_gcs(taxi_color)
