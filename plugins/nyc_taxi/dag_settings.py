"""What the monthly taxi DAGs share: schedule, dates, retries, alerts, the params of a manual run, and their assets."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import re

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    SyncCallback,
)

from nyc_taxi import alerts
from nyc_taxi.sources import TripSource, source_of_dags
from nyc_taxi.timetable import LATEST_PREFIX, ReleaseMonthsTimetable

# Environment variables, read when a DAG file is parsed (no database call): narrow catchup to these months.
SCHEDULE_START_ENV = "NYC_TAXI_SCHEDULE_START"
SCHEDULE_END_ENV = "NYC_TAXI_SCHEDULE_END"
# How long after its run is queued a month may take to load before the late alert: `3d`, `12h`, `90s`; `off`.
# Off unless set: Airflow 3.3.2's `dag.test()` (and so `airflow dags test` and ./dev demo) fails on a DAG with a
# deadline when the run ends (DeadlineAlertModel.get_by_id is given the alert's dict, not its id). The stack,
# compose and the Helm values set 3d.
LATE_AFTER_ENV = "NYC_TAXI_LATE_AFTER"
DEFAULT_LATE_AFTER = "off"
# When the BigQuery DAGs also run without an event, to load any month they missed.
BIGQUERY_CATCH_UP_CRON = "0 6 * * *"

DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    # After the last try only: a retry sends nothing (nyc_taxi/alerts.py).
    "on_failure_callback": alerts.task_failed,
}


def monthly_schedule(environ: Mapping[str, str] = os.environ, color: str = "yellow",
                     source: TripSource | None = None) -> dict:
    """One run per month of the source (the DAG files' source, `AIRFLOW_VAR_NYC_TAXI_SOURCE`) for the color, dated
    the first of the month it loads; catchup over the scheduled months. A live source's last month is the latest
    due (`latest-2`), so the schedule gains a month each month.

    The timetable bounds catchup. Airflow creates no task at all for a manual run dated outside the DAG's
    `start_date`..`end_date` (a green run that loaded nothing), so the DAG has no end date and starts at the epoch:
    a run dated today, or in 2018, then runs, and fails at once naming the months the release holds.
    With the schedule come the run-level alerts (nyc_taxi/alerts.py); the task-level one is in DEFAULT_ARGS.
    """
    source = source or source_of_dags(environ)
    release_months = _source_months(source, color)
    first, last = scheduled_months(environ, color, source)
    catchup_last = release_months[1] if last is None else f"{last:%Y-%m}"
    return {
        "schedule": ReleaseMonthsTimetable(
            release_months=release_months,
            catchup_months=(f"{first:%Y-%m}", catchup_last),
        ),
        "start_date": dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
        "catchup": True,
        # A month's load keeps a core busy; two at once fill a 2-core machine.
        "max_active_runs": 2,
        # A run that loads a failing month again sends "recovered"; one still unloaded long after it was queued, "late".
        "on_success_callback": alerts.run_succeeded,
        **late_month_deadline(environ),
    }


def late_month_deadline(environ: Mapping[str, str] = os.environ) -> dict:
    """Airflow's deadline alert for a month not loaded `NYC_TAXI_LATE_AFTER` (e.g. `3d`) after its run was queued;
    `{}` when it is `off`, the default.

    Measured from the queue, not from the logical date: a scheduled run is queued when its month is due, and a
    backfill of 2019 is not 'late' the moment it is created. A run that succeeds in time drops its deadline.
    """
    late_after = parse_duration(environ.get(LATE_AFTER_ENV, "").strip() or DEFAULT_LATE_AFTER, LATE_AFTER_ENV)
    if late_after is None:
        return {}
    return {"deadline": DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=late_after,
        callback=SyncCallback(alerts.month_late, kwargs={"late_after_seconds": late_after.total_seconds()}),
        name="month not loaded in time",
    )}


_DURATION = re.compile(r"(?P<amount>\d+(\.\d+)?)\s*(?P<unit>[smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str, name: str) -> dt.timedelta | None:
    """`3d`, `12h`, `30m` or `90s` as a timedelta; None for `off`."""
    if value.lower() == "off":
        return None
    matched = _DURATION.fullmatch(value)
    if not matched or float(matched["amount"]) <= 0:
        raise ValueError(f"{name}={value!r} is not a duration: write e.g. 3d, 12h, 30m, 90s, or off")
    return dt.timedelta(seconds=float(matched["amount"]) * _UNIT_SECONDS[matched["unit"]])


def _source_months(source: TripSource, color: str) -> tuple[str, str]:
    first = f"{source.first_month(color):%Y-%m}"
    if source.live:
        return first, f"{LATEST_PREFIX}{source.publication_lag_months}"
    return first, f"{source.last_month(color):%Y-%m}"


def scheduled_months(environ: Mapping[str, str] = os.environ, color: str = "yellow",
                     source: TripSource | None = None) -> tuple[dt.date, dt.date | None]:
    """The first and last month that catchup runs: every month the source publishes, unless narrowed by
    `NYC_TAXI_SCHEDULE_START` and `NYC_TAXI_SCHEDULE_END` (YYYY-MM). For a live source the last is None (the latest
    due) unless narrowed."""
    source = source or source_of_dags(environ)
    first_month = source.first_month(color)
    last_month = None if source.live else source.last_month(color)
    first = _month_from_environment(environ, SCHEDULE_START_ENV, first_month, source, color)
    last = _month_from_environment(environ, SCHEDULE_END_ENV, last_month, source, color)
    if last is not None and first > last:
        raise ValueError(f"{SCHEDULE_START_ENV}={first:%Y-%m} is after {SCHEDULE_END_ENV}={last:%Y-%m}")
    return first, last


def _month_from_environment(environ: Mapping[str, str], name: str, default: dt.date | None, source: TripSource,
                            color: str) -> dt.date | None:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        month = dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a month: write YYYY-MM, e.g. 2021-01") from None
    first = source.first_month(color)
    last = None if source.live else source.last_month(color)
    if month < first or (last is not None and month > last):
        what = "the release publishes" if not source.live else f"the {source.title} holds for {color}"
        raise ValueError(f"{name}={value} is outside the months {what}, {source.months_text(color)}")
    return month


def month_params(color: str, when_empty: str = "load the month of the run's logical date",
                 source: TripSource | None = None) -> dict:
    source = source or source_of_dags()
    first = source.first_month(color)
    # A live source's last year is this one's; the run itself refuses a month not yet due.
    last_year = dt.date.today().year if source.live else source.last_month(color).year
    return {
        "color": Param(color, type="string", enum=[color], description="The taxi color this DAG loads."),
        "year": Param(
            None, type=["null", "integer"], minimum=first.year, maximum=last_year,
            description=f"Manual runs: the year to load. Leave year and month empty to {when_empty}.",
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


def month_in_gcs_or_daily(color: str) -> AssetOrTimeSchedule:
    """The BigQuery DAG's schedule: each month written to GCS, and once a day to load any month it missed (one
    whose load failed every try, or whose event Airflow dropped because the DAG was paused)."""
    return AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(BIGQUERY_CATCH_UP_CRON, timezone="UTC"), assets=month_in_gcs(color)
    )
