"""
### NYC taxi trips → Postgres

One DAG per taxi color (yellow, green and for-hire vehicles, `fhv`; with the TLC's own files also high-volume FHV,
`fhvhv`). Each run loads **one month** of the source that the Variable `nyc_taxi_source` names (the DataTalksClub
`nyc-tlc-data` release, `release-csv`, by default; `tlc-parquet`: the TLC's Parquet files, 2009 to the latest
published month) into the month's own partition of `ny_taxi.<color>_tripdata`:

0. with `tlc-parquet` only, `wait_for_month_file` asks whether the month's file is published, and if not waits for
   it in the triggerer (every `nyc_taxi_tlc_poll_minutes`, 60), failing with "not published yet" after
   `nyc_taxi_tlc_wait_days` (40);

1. `download_month` streams `<color>_tripdata_YYYY-MM.csv.gz` (or `.parquet`) to a staging file and checks it is
   whole gzip (or whole Parquet);
2. `clean_and_load_month_to_postgres` types every column, renames columns to snake_case and adds the pickup date,
   applying the color's rules and counting the rows each drops or flags (a Parquet file's columns are mapped era
   by era, and a column a newer month brings is added to the table), and copies the trips as they are cleaned
   into the month's partition, replacing its rows in one transaction with a row in `ny_taxi.load_audit`. A value
   that is not what its column says fails the task at once, naming the file, column and line, and leaves the
   month's previous rows as they were. The rules:
   - yellow and green keep trips with `passenger_count > 0` and `trip_distance > 0`;
   - FHV drops trips without a dispatching base or a pickup time, and keeps but counts (`rows_flagged` in the
     audit) dropoffs not after the pickup and pickups outside the release's months: the trip happened, and the
     course counts every FHV trip;
3. `check_month_in_postgres` fails, naming the rule, on rows the color's rules drop (zero passengers or
   distances, unknown vendors; FHV: no base or pickup) or a row count that differs from the transform's; it
   warns, without failing, of pickup or dropoff location ids that `ny_taxi.zones` lacks (loaded by
   `taxi_zones_to_postgres`; its doc says why a warning).

**Which month:** every run is dated the first of the month it loads: the January 2021 run is
`scheduled__2021-01` (or `backfill__2021-01-01...`), labelled "Jan 01" in the grid. Catchup runs each month
of the release (2019-01..2021-07) once the DAG is unpaused.
From **Trigger**, give the params `year` and `month` (the form's default date is today, which the release does
not hold: without params that run fails at once, naming the months it does). The run's note names its month.
Re-running a month replaces it exactly.

**Where:** Postgres comes from the connection `ny_taxi_postgres`; the source's base URL from the Variable
`nyc_taxi_source_base_url` (default: the GitHub release).
"""

from __future__ import annotations

from airflow.sdk import dag

from nyc_taxi.dag_settings import DEFAULT_ARGS, month_params, monthly_schedule
from nyc_taxi.sensors import WaitForMonthFile
from nyc_taxi.sources import source_of_dags
from nyc_taxi.tasks import (
    check_month_in_postgres,
    clean_and_load_month_to_postgres,
    download_month,
    remove_staging_files,
)


def taxi_to_postgres(color: str):
    @dag(
        dag_id=f"{color}_taxi_to_postgres",
        description=f"Load a month of {color} taxi trips into Postgres",
        doc_md=__doc__,
        **monthly_schedule(color=color, source=SOURCE),
        tags=["nyc-taxi", color, "postgres"],
        default_args=DEFAULT_ARGS,
        params=month_params(color, source=SOURCE),
    )
    def load_taxi_month():
        downloaded = download_month()
        if SOURCE.live:
            WaitForMonthFile() >> downloaded
        checked = check_month_in_postgres(clean_and_load_month_to_postgres(downloaded))
        # As a setup, clearing a failed load after its retries re-runs the download it reads.
        checked >> remove_staging_files().as_teardown(setups=[downloaded])

    return load_taxi_month()


# The source's services and months are read when the file is parsed: AIRFLOW_VAR_NYC_TAXI_SOURCE (nyc_taxi/sources.py).
SOURCE = source_of_dags()
for taxi_color in SOURCE.services:
    taxi_to_postgres(taxi_color)
