"""What the monthly taxi DAGs share: schedule, dates, retries, the params of a manual run, and their assets."""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param

from nyc_taxi.months import FIRST_MONTH, LAST_MONTH

DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
}


def monthly_schedule() -> dict:
    """Monthly runs over the months the release publishes; the run due on 1 February loads January."""
    return {
        "schedule": CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
        "start_date": pendulum.datetime(FIRST_MONTH.year, FIRST_MONTH.month, 1, tz="UTC"),
        "end_date": pendulum.datetime(LAST_MONTH.year, LAST_MONTH.month, 1, tz="UTC"),
        "catchup": True,
        # A month's load keeps a core busy; two at once fill a 2-core machine.
        "max_active_runs": 2,
    }


def month_params(color: str) -> dict:
    return {
        "color": Param(color, type="string", enum=[color], description="The taxi color this DAG loads."),
        "year": Param(
            None, type=["null", "integer"], minimum=FIRST_MONTH.year, maximum=LAST_MONTH.year,
            description="Manual runs: the year to load. Leave empty to load the run's logical month.",
        ),
        "month": Param(
            None, type=["null", "integer"], minimum=1, maximum=12,
            description="Manual runs: the month (1-12) to load, with year.",
        ),
    }


def month_in_gcs(color: str) -> Asset:
    """Updated each time a month of this color lands in GCS; the event's extra names the month.

    Named, not given a URI: a URI with a scheme makes Airflow import every provider's URI handlers at parse time.
    """
    return Asset(name=f"{color}_taxi_trips_in_gcs")
