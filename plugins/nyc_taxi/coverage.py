"""What each destination holds, month by month and color by color: the model of the page "NYC taxi loads".

Read from the audit tables and the GCS manifests through the DAGs' own connections, and from Airflow's runs for
the months whose latest run failed. A destination that can't be reached is reported as unavailable, with why.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from nyc_taxi.months import FIRST_MONTH, LAST_MONTH, TAXI_COLORS


@dataclass(frozen=True)
class MonthLoad:
    """The latest load of one month of one color into one destination."""

    rows: int
    loaded_at: dt.datetime | None
    run_id: str | None = None
    rows_dropped: dict[str, int] = field(default_factory=dict)
    generation: int | None = None  # GCS: the manifest's; BigQuery: that of the manifest it was loaded from
    rows_read: int | None = None  # Postgres: the rows the source file had, before the rules dropped any


@dataclass(frozen=True)
class Destination:
    """One place the DAGs load into, and the DAG that loads each color there."""

    name: str
    dag_id_format: str  # "{color}_taxi_to_postgres"

    def dag_id(self, color: str) -> str:
        return self.dag_id_format.format(color=color)


POSTGRES = Destination("Postgres", "{color}_taxi_to_postgres")
GCS = Destination("GCS", "{color}_taxi_to_gcs")
BIGQUERY = Destination("BigQuery", "{color}_taxi_gcs_to_bigquery")
DESTINATIONS = (POSTGRES, GCS, BIGQUERY)


@dataclass
class Coverage:
    """A destination's months: `loads[(color, "2021-01")]`, or why it could not be read."""

    destination: Destination
    loads: dict[tuple[str, str], MonthLoad] = field(default_factory=dict)
    unavailable: str | None = None
    failed_runs: dict[tuple[str, str], str] = field(default_factory=dict)  # (color, month) -> run id
    behind: set[tuple[str, str]] = field(default_factory=set)  # months a newer write upstream has not reached
    runs_unavailable: str | None = None  # why Airflow's runs, and so the failed months, could not be read

    def gaps(self, months: Iterable[str] = ()) -> list[tuple[str, str]]:
        """(color, month) never loaded, or whose latest run failed."""
        return [(color, month) for month in (months or release_months()) for color in TAXI_COLORS
                if (color, month) not in self.loads or (color, month) in self.failed_runs]


@dataclass(frozen=True)
class YearTotal:
    """How far a destination has got with one color's year: "yellow 2020: 12 of 12 months, 24,648,499 read"."""

    color: str
    year: str
    months_loaded: int
    months_published: int
    rows: int  # loaded
    rows_read: int | None  # Postgres: what the source files held; None where the destination does not know


def year_totals(coverage: Coverage, months: Iterable[str] = ()) -> list[YearTotal]:
    """Per color and year of the months (default: the release's), the months loaded and their rows."""
    months = list(months or release_months())
    totals = []
    for year in sorted({month[:4] for month in months}):
        in_year = [month for month in months if month.startswith(year)]
        for color in TAXI_COLORS:
            loads = [coverage.loads[(color, month)] for month in in_year if (color, month) in coverage.loads]
            read = [load.rows_read for load in loads]
            totals.append(YearTotal(color, year, len(loads), len(in_year), sum(load.rows for load in loads),
                                    sum(read) if loads and None not in read else None))
    return totals


def release_months() -> list[str]:
    months, month = [], FIRST_MONTH
    while month <= LAST_MONTH:
        months.append(f"{month:%Y-%m}")
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def postgres_loads(conn, schema: str) -> dict[tuple[str, str], MonthLoad]:
    """The latest audit row of each month in `<schema>.load_audit`; none before the first load."""
    from nyc_taxi.sql_files import statement

    if conn.execute("SELECT to_regclass(%s)", (f"{schema}.load_audit",)).fetchone()[0] is None:
        return {}
    rows = conn.execute(statement("latest_loads", schema=schema)).fetchall()
    return {(color, month): MonthLoad(rows=loaded, loaded_at=at, run_id=run_id, rows_dropped=dropped or {},
                                      rows_read=read)
            for color, month, loaded, dropped, at, run_id, read in rows}


def gcs_loads(client, bucket: str, prefix: str) -> dict[tuple[str, str], MonthLoad]:
    from nyc_taxi.gcs import published_months

    return {(color, month): MonthLoad(rows=written.rows, loaded_at=written.written_at, run_id=written.run_id,
                                      generation=written.generation)
            for color in TAXI_COLORS
            for month, written in published_months(client, bucket, prefix, color).items()}


def bigquery_loads(hook, project: str, dataset: str, location: str) -> dict[tuple[str, str], MonthLoad]:
    from nyc_taxi.bigquery import loaded_months

    return {(color, month): MonthLoad(rows=loaded["rows"], loaded_at=loaded["loaded_at"],
                                      generation=loaded["manifest_generation"])
            for color in TAXI_COLORS
            for month, loaded in loaded_months(hook, project, dataset, location, color).items()}


def behind_gcs(in_bigquery: dict[tuple[str, str], MonthLoad], in_gcs: dict[tuple[str, str], MonthLoad]) -> set:
    """(color, month) whose latest GCS write BigQuery does not hold (yet): the BigQuery DAG's next run loads them."""
    return {key for key, written in in_gcs.items()
            if key not in in_bigquery or in_bigquery[key].generation != written.generation}


def latest_run_failures(runs: Iterable[tuple[str, str | None, str, str]]) -> dict[tuple[str, str], str]:
    """(dag id, month, run id, state) of runs, oldest first -> {(dag id, month): run id} where the latest failed."""
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for dag_id, month, run_id, state in runs:
        if month:
            latest[(dag_id, month)] = (run_id, state)
    return {key: run_id for key, (run_id, state) in latest.items() if state == "failed"}


def read_within(seconds: float, readers: dict[str, Callable[[], object]]) -> dict[str, object | Exception]:
    """Run each reader in a thread of its own; a reader that raises or takes longer gives its exception instead.

    A destination that is down can make its client retry for minutes: the page must not wait for it, and a daemon
    thread left retrying never holds up the process's exit.
    """
    results: dict[str, object | Exception] = {}

    def read(name: str, reader: Callable[[], object]) -> None:
        try:
            results[name] = reader()
        except Exception as error:  # noqa: BLE001 - any failure of a destination is shown, not raised
            results[name] = error

    threads = [threading.Thread(target=read, args=item, name=f"coverage-{item[0]}", daemon=True)
               for item in readers.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return {name: results.get(name, TimeoutError(f"no answer within {seconds:g} s")) for name in readers}
