"""The backfill range of the last N published months, found by asking the source server as CloudFront answers."""

import datetime as dt
import urllib.error
import urllib.request

from devstack.tlc_months import latest_published
from nyc_taxi.sources import TLC_PARQUET, SOURCES


def head(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_latest_published_month_is_the_newest_due_one_whose_file_is_there(source, monkeypatch):
    source.missing_status = 403
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_BASE_URL", f"{source.base_url}/trip-data")
    folder = source.root / "trip-data"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "yellow_tripdata_2031-09.parquet").write_bytes(b"PAR1")
    try:
        # On 2031-12-07 the latest due is 2031-10, which is not published yet; 2031-09 is.
        assert latest_published("yellow", head, SOURCES[TLC_PARQUET], dt.date(2031, 12, 7)) == dt.date(2031, 9, 1)
        assert [status for _, path, status in source.requests if "2031-1" in path or "2031-09" in path][-2:] == \
            [403, 200]
    finally:
        source.missing_status = 404
