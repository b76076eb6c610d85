"""
### NYC taxi trips → Postgres

One DAG per taxi color. Each run loads **one month** of the DataTalksClub `nyc-tlc-data` release into the
month's own partition of `ny_taxi.<color>_tripdata`:

1. `download_month` streams `<color>_tripdata_YYYY-MM.csv.gz` to a staging file and checks it is whole gzip;
2. `clean_month` types every column, keeps trips with `passenger_count > 0` and `trip_distance > 0`,
   renames columns to snake_case and adds the pickup date, counting the rows each rule drops;
3. `load_month_to_postgres` replaces that month's rows in one transaction (COPY, streamed), writing a row to
   `ny_taxi.load_audit`;
4. `check_month_in_postgres` fails, naming the rule, on zero passengers or distances, unknown vendors or a
   row count that differs from the transform's.

**Which month:** a scheduled run loads its data interval (the January run, due on 1 February, loads January).
A manual run loads the month given in the params `year` and `month`. Re-running a month replaces it exactly.

**Where:** Postgres comes from the connection `ny_taxi_postgres`; the source's base URL from the Variable
`nyc_tlc_base_url` (default: the GitHub release).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag

from nyc_taxi.months import FIRST_MONTH, LAST_MONTH, TAXI_COLORS
from nyc_taxi.tasks import (
    check_month_in_postgres,
    clean_month,
    download_month,
    load_month_to_postgres,
    remove_staging_files,
)


def taxi_to_postgres(color: str):
    @dag(
        dag_id=f"{color}_taxi_to_postgres",
        description=f"Load a month of {color} taxi trips into Postgres",
        doc_md=__doc__,
        schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
        start_date=pendulum.datetime(FIRST_MONTH.year, FIRST_MONTH.month, 1, tz="UTC"),
        end_date=pendulum.datetime(LAST_MONTH.year, LAST_MONTH.month, 1, tz="UTC"),
        catchup=True,
        max_active_runs=2,
        tags=["nyc-taxi", color, "postgres"],
        default_args={
            "retries": 2,
            "retry_delay": dt.timedelta(seconds=30),
            "retry_exponential_backoff": 2.0,
        },
        params={
            "color": Param(color, type="string", enum=[color], description="The taxi color this DAG loads."),
            "year": Param(
                None, type=["null", "integer"], minimum=FIRST_MONTH.year, maximum=LAST_MONTH.year,
                description="Manual runs: the year to load. Leave empty to load the run's data interval.",
            ),
            "month": Param(
                None, type=["null", "integer"], minimum=1, maximum=12,
                description="Manual runs: the month (1-12) to load, with year.",
            ),
        },
    )
    def load_taxi_month():
        cleaned = clean_month(download_month())
        checked = check_month_in_postgres(load_month_to_postgres(cleaned))
        checked >> remove_staging_files().as_teardown()

    return load_taxi_month()


for taxi_color in TAXI_COLORS:
    taxi_to_postgres(taxi_color)
