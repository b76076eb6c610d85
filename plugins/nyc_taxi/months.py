"""Which month of which taxi color a run loads, and where that month's file is published."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nyc_taxi.settings import DEFAULT_SOURCE_BASE_URL

# The release's trip files: yellow and green taxis, and for-hire vehicles (FHV), each in its own folder.
TAXI_COLORS = ("yellow", "green", "fhv")
# Every service a source may hold: the TLC also publishes high-volume for-hire vehicles (Uber, Lyft...) from 2019-02.
SERVICES = (*TAXI_COLORS, "fhvhv")
# The months the release publishes: the bounds of the DAGs' timetable, of a run's month and of the params.
FIRST_MONTH = dt.date(2019, 1, 1)
LAST_MONTH = dt.date(2021, 7, 1)


@dataclass(frozen=True, order=True)
class TaxiMonth:
    color: str
    year: int
    month: int

    def __post_init__(self) -> None:
        if self.color not in SERVICES:
            raise ValueError(f"unknown taxi color {self.color!r}; expected one of {', '.join(SERVICES)}")
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")
        if not 2000 <= self.year <= 2100:
            raise ValueError(f"year out of range: {self.year}")

    @classmethod
    def parse(cls, color: str, label: str) -> TaxiMonth:
        """`TaxiMonth.parse("yellow", "2021-01")`."""
        year, month = label.split("-")
        return cls(color, int(year), int(month))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def file_name(self) -> str:
        return f"{self.color}_tripdata_{self.label}.csv.gz"

    def source_url(self, base_url: str = DEFAULT_SOURCE_BASE_URL) -> str:
        return f"{base_url.rstrip('/')}/{self.color}/{self.file_name}"

    def __str__(self) -> str:
        return f"{self.color} {self.label}"


class NotAMonthOfTheRelease(ValueError):
    """The run names no month, or one the release does not hold: it fails at once, saying what to give."""


def month_of_run(params: dict, logical_date: dt.datetime | None, source=None,
                 today: dt.date | None = None) -> TaxiMonth:
    """The month a run loads: the params' year and month when given, else the month of the run's logical date.

    Scheduled runs and backfills are dated the first of the month they load. A manual run dated today, with no
    params, names a month the source does not hold (the release's end in 2021; the TLC's latest, two months back),
    and fails here with the months it does. `source` is a `sources.TripSource`, the release by default.
    """
    from nyc_taxi.sources import RELEASE_CSV, SOURCES

    source = source or SOURCES[RELEASE_CSV]
    color = params["color"]
    year, month = params.get("year"), params.get("month")
    if color not in source.services:
        raise NotAMonthOfTheRelease(f"the {source.title} holds no {color} trips; it holds {', '.join(source.services)}")
    first, last = source.first_month(color), source.last_month(color, today)
    if (year is None) != (month is None):
        raise NotAMonthOfTheRelease("give both params 'year' and 'month', or neither to load the run's logical month")
    if year is not None:
        chosen = TaxiMonth(color, int(year), int(month))
    elif logical_date is not None:
        chosen = TaxiMonth(color, logical_date.year, logical_date.month)
    else:
        raise NotAMonthOfTheRelease(
            f"this run names no month: give the params year and month, {first:%Y-%m}..{last:%Y-%m}"
        )
    if not first <= chosen.first_day <= last:
        what = "the release" if not source.live else f"the {source.title}"
        due = "" if not source.live else f" (the latest due, {source.publication_lag_months} months back)"
        raise NotAMonthOfTheRelease(
            f"{chosen} is not a month of {what}, which holds {first:%Y-%m}..{last:%Y-%m}{due}: "
            f"trigger with the params year and month (e.g. {last.year} and {last.month}), "
            f"or with a logical date inside those months"
        )
    return chosen


def path_safe(name: str) -> str:
    """A run id as a path or object-name part: `manual__2021-01-01T00:00:00+00:00` -> `manual__2021-01-01T00_00_00_00_00`."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
