"""The monthly DAGs' timetable: one run per month of the source, dated the first of the month it loads.

A live source's last month is written `latest-2`: the month two months before the current one, worked out each time
the scheduler asks, so the timetable gains a month on the first of each month and that month's run waits for its
file (nyc_taxi/sensors.py).

A run's logical date, its "run after" and its run id (`scheduled__2021-01`, `backfill__2021-01-01T00:00:00+00:00`)
all name the month it loads, so the grid labels the January load "Jan 01"; its data interval is that month.
The timetable bounds catchup itself, so the DAGs need no `end_date` and only an epoch `start_date`: Airflow
creates no task for a manual run dated outside those, and reports the empty run a success.
Registered by the plugin `nyc_taxi_plugin`, as Airflow requires of a timetable of our own.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction
from airflow.timetables.trigger import CronTriggerTimetable
from airflow.utils.types import DagRunType

MONTH_FORMAT = "%Y-%m"
LATEST_PREFIX = "latest-"


class ReleaseMonthsTimetable(CronTriggerTimetable):
    """A run at 00:00 UTC on the first of each month of `release_months` (YYYY-MM, both ends included).

    Catchup runs `catchup_months` (default: all of them); a backfill runs the months of its range that the release
    holds.
    """

    def __init__(self, release_months: tuple[str, str], catchup_months: tuple[str, str] | None = None) -> None:
        super().__init__("0 0 1 * *", timezone="UTC")
        self.release_months = tuple(release_months)
        self.catchup_months = tuple(catchup_months or release_months)
        self._release_first = _month_start(self.release_months[0])
        self._catchup_first = _month_start(self.catchup_months[0])
        for label in (*self.release_months, *self.catchup_months):
            _month_start(label)  # a bad label fails here, when the DAG is parsed
        self.description = (
            f"One run per month, on the 1st, loading that month; catchup {'..'.join(self.catchup_months)}, "
            f"backfills within {'..'.join(self.release_months)}"
        )

    @property
    def _release_last(self) -> pendulum.DateTime:
        return _month_start(self.release_months[1])

    @property
    def _catchup_last(self) -> pendulum.DateTime:
        return _month_start(self.catchup_months[1])

    @property
    def summary(self) -> str:
        return f"Monthly {'..'.join(self.catchup_months)}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReleaseMonthsTimetable):
            return NotImplemented
        return (self.release_months, self.catchup_months) == (other.release_months, other.catchup_months)

    def __hash__(self) -> int:
        return hash((self.release_months, self.catchup_months))

    def serialize(self) -> dict:
        return {"release_months": list(self.release_months), "catchup_months": list(self.catchup_months)}

    @classmethod
    def deserialize(cls, data: dict) -> ReleaseMonthsTimetable:
        return cls(tuple(data["release_months"]), tuple(data["catchup_months"]))

    def generate_run_id(self, *, run_type, run_after, data_interval, **extra) -> str:
        """A scheduled run is named by its month, `scheduled__2021-01`: a name no run of the former data-interval
        timetable had (its January run was `scheduled__2021-02-01T00:00:00+00:00`), so a metadata database that
        holds those takes these without a clash."""
        if run_type == DagRunType.SCHEDULED and data_interval is not None:
            return run_type.generate_run_id(suffix=f"{data_interval.start:{MONTH_FORMAT}}")
        return super().generate_run_id(run_type=run_type, run_after=run_after, data_interval=data_interval, **extra)

    def infer_manual_data_interval(self, *, run_after: pendulum.DateTime) -> DataInterval:
        return _month_of(run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction: TimeRestriction):
        if restriction.latest is None:
            # The scheduler, bounded by the DAG's dates: it has no end_date, and an epoch start_date.
            earliest = max(restriction.earliest or self._catchup_first, self._catchup_first)
            latest = self._catchup_last
            if last_automated_data_interval is not None and last_automated_data_interval.start < earliest:
                last_automated_data_interval = None  # catchup narrowed to later months: start at its first
        else:
            # A backfill's range.
            earliest = max(restriction.earliest, self._release_first)
            latest = min(restriction.latest, self._release_last)
        if last_automated_data_interval is not None:
            # Our intervals end where the next month starts; the parent's end at the run's tick.
            last_automated_data_interval = DataInterval.exact(last_automated_data_interval.start)
        info = super().next_dagrun_info(
            last_automated_data_interval=last_automated_data_interval,
            restriction=TimeRestriction(earliest=earliest, latest=latest, catchup=restriction.catchup),
        )
        if info is None:
            return None
        return DagRunInfo(run_after=info.run_after, data_interval=_month_of(info.run_after))


def _month_start(label: str, now: dt.datetime | None = None) -> pendulum.DateTime:
    """`2021-07` -> 2021-07-01; `latest-2` -> the first of the month two months before now."""
    if label.startswith(LATEST_PREFIX):
        lag = int(label.removeprefix(LATEST_PREFIX))
        now = now or pendulum.now("UTC")
        return pendulum.datetime(now.year, now.month, 1, tz="UTC").subtract(months=lag)
    month = dt.datetime.strptime(label, MONTH_FORMAT)
    return pendulum.datetime(month.year, month.month, 1, tz="UTC")


def _month_of(moment: dt.datetime) -> DataInterval:
    start = pendulum.datetime(moment.year, moment.month, 1, tz="UTC")
    return DataInterval(start, start.add(months=1))
