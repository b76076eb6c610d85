"""Where the trips come from: the course's CSV release or the TLC's own Parquet files, chosen by one Variable.

A source says which services it holds and from which month, up to which month, what a month's file is called and
where it is, and in what format. Tasks and destinations ask it; none of them knows which source it reads. The choice
is the Variable `nyc_taxi_source`; the DAG files read it from the environment (`AIRFLOW_VAR_NYC_TAXI_SOURCE`) when
they are parsed, since the months of the timetable and the services follow it, and parsing must not call the
metadata database. Facts about the TLC's files, and where each is from: docs/parquet-eras.md.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

from nyc_taxi.settings import DEFAULT_SOURCE_BASE_URL, DEFAULT_TLC_BASE_URL, variable_name

SOURCE_SETTING = "source"
SOURCE_ENV = f"AIRFLOW_VAR_{variable_name(SOURCE_SETTING).upper()}"
RELEASE_CSV = "release-csv"
TLC_PARQUET = "tlc-parquet"


@dataclass(frozen=True)
class TripSource:
    name: str
    title: str
    # The setting holding the base URL (its Variable overrides it for a mirror or the local source server).
    base_url_setting: str
    default_base_url: str
    suffix: str  # ".csv.gz" or ".parquet"
    # Each service it holds, and its first month.
    first_months: Mapping[str, dt.date]
    # The last month it holds; None for a live source, whose last is the latest month due by `publication_lag_months`.
    fixed_last_month: dt.date | None = None
    publication_lag_months: int = 0
    # Folder per service (`<base>/<color>/<file>`, the release) or one flat folder (`<base>/<file>`, the TLC).
    folder_per_service: bool = True

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.first_months)

    @property
    def live(self) -> bool:
        return self.fixed_last_month is None

    def first_month(self, service: str) -> dt.date:
        self._check_service(service)
        return self.first_months[service]

    def last_month(self, service: str, today: dt.date | None = None) -> dt.date:
        """The last month it holds; for a live source, the latest month due by now: `today` less the lag. That
        month may not be published yet: a run for it waits for the file (nyc_taxi/sensors.py)."""
        self._check_service(service)
        if self.fixed_last_month is not None:
            return self.fixed_last_month
        today = today or dt.datetime.now(dt.timezone.utc).date()
        return add_months(today.replace(day=1), -self.publication_lag_months)

    def may_still_appear(self, month: dt.date, today: dt.date | None = None) -> bool:
        """Whether a month not there yet may still be published: on a live source, one of the last two due (due
        `publication_lag_months` after it, and allowed a month more). An older month that is missing is missing: a
        run fails at once rather than waiting weeks for it (the TLC's files list has gaps, docs/parquet-eras.md)."""
        today = today or dt.datetime.now(dt.timezone.utc).date()
        return self.live and add_months(month, self.publication_lag_months + 2) > today.replace(day=1)

    def file_name(self, service: str, label: str) -> str:
        return f"{service}_tripdata_{label}{self.suffix}"

    def url(self, service: str, label: str, base_url: str | None = None) -> str:
        base = (base_url or self.default_base_url).rstrip("/")
        folder = f"/{service}" if self.folder_per_service else ""
        return f"{base}{folder}/{self.file_name(service, label)}"

    def months_text(self, service: str) -> str:
        last = "the latest published month" if self.live else f"{self.last_month(service):%Y-%m}"
        return f"{self.first_month(service):%Y-%m}..{last}"

    def _check_service(self, service: str) -> None:
        if service not in self.first_months:
            raise UnknownService(f"the {self.title} holds no {service!r} trips; it holds {', '.join(self.services)}")


class UnknownSource(ValueError):
    """`nyc_taxi_source` names no source."""


class UnknownService(ValueError):
    """The source does not publish the service."""


SOURCES: dict[str, TripSource] = {
    # The course's frozen copy: three services, 2019-01..2021-07, gzip CSV, a release tag per color.
    RELEASE_CSV: TripSource(
        name=RELEASE_CSV,
        title="DataTalksClub nyc-tlc-data release",
        base_url_setting="source_base_url",
        default_base_url=DEFAULT_SOURCE_BASE_URL,
        suffix=".csv.gz",
        first_months={service: dt.date(2019, 1, 1) for service in ("yellow", "green", "fhv")},
        fixed_last_month=dt.date(2021, 7, 1),
    ),
    # The TLC's trip record files, one flat folder behind CloudFront. First months: yellow 2009-01, FHV 2015-01,
    # fhvhv 2019-02 (files' metadata, docs/parquet-eras.md); green 2013-08 (public code names that file; the
    # metadata we could read begins 2014-01). Monthly, "with two months delay" (the TLC's note of 2022).
    TLC_PARQUET: TripSource(
        name=TLC_PARQUET,
        title="TLC trip record data (Parquet)",
        base_url_setting="tlc_base_url",
        default_base_url=DEFAULT_TLC_BASE_URL,
        suffix=".parquet",
        first_months={"yellow": dt.date(2009, 1, 1), "green": dt.date(2013, 8, 1), "fhv": dt.date(2015, 1, 1),
                      "fhvhv": dt.date(2019, 2, 1)},
        publication_lag_months=2,
        folder_per_service=False,
    ),
}


def source_named(name: str) -> TripSource:
    try:
        return SOURCES[name.strip()]
    except KeyError:
        raise UnknownSource(
            f"{variable_name(SOURCE_SETTING)}={name!r} names no source: set it to one of {', '.join(SOURCES)}"
        ) from None


def source_of_dags(environ: Mapping[str, str] = os.environ) -> TripSource:
    """The source the DAG files are parsed for: `AIRFLOW_VAR_NYC_TAXI_SOURCE`, else the release."""
    return source_named(environ.get(SOURCE_ENV, "").strip() or RELEASE_CSV)


def source_of_file(file_name: str) -> TripSource:
    """The source whose files end as `file_name` does."""
    for source in SOURCES.values():
        if file_name.endswith(source.suffix):
            return source
    raise UnknownSource(f"{file_name} is a file of no source: expected {' or '.join(s.suffix for s in SOURCES.values())}")


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)
