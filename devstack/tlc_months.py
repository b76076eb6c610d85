"""Print the backfill range of a service's last N published months of a live source, for `airflow backfill create`:

    ./dev airflow backfill create --dag-id yellow_taxi_to_postgres $(./dev tlc-months yellow 12)

The latest published month is found by asking (HEAD) the latest due month's file, then the one before, and so on: the
TLC publishes about two months late, and a month's file may not be there on the first of the month it is due.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from nyc_taxi.sources import TLC_PARQUET, add_months, source_named

MOST_MONTHS_LOOKED_BACK = 6


def latest_published(service: str, head, source=None, today: dt.date | None = None) -> dt.date:
    """The newest month whose file answers 200 to `head(url)` (a status), looking back from the latest due."""
    source = source or source_named(TLC_PARQUET)
    month = source.last_month(service, today)
    for _ in range(MOST_MONTHS_LOOKED_BACK):
        url = source.url(service, f"{month:%Y-%m}", _base_url(source))
        status = head(url)
        if status == 200:
            return month
        month = add_months(month, -1)
    raise SystemExit(f"no {service} month of the last {MOST_MONTHS_LOOKED_BACK} before "
                     f"{source.last_month(service, today):%Y-%m} is published at {_base_url(source)}")


def _base_url(source) -> str:
    import os

    from nyc_taxi.settings import variable_name

    return os.environ.get(f"AIRFLOW_VAR_{variable_name(source.base_url_setting).upper()}", source.default_base_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev tlc-months", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=("yellow", "green", "fhv", "fhvhv"))
    parser.add_argument("months", type=int, nargs="?", default=12, help="how many months, the latest published last")
    args = parser.parse_args(argv)
    import requests

    def head(url: str) -> int:
        return requests.head(url, allow_redirects=True, timeout=30).status_code

    last = latest_published(args.service, head)
    first = max(add_months(last, 1 - args.months), source_named(TLC_PARQUET).first_month(args.service))
    print(f"--from-date {first:%Y-%m-%d} --to-date {last:%Y-%m-%d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
