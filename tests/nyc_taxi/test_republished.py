"""A loaded month whose file the source re-published (another ETag) is found, from the audit and a HEAD."""

import urllib.error
import urllib.request

import pyarrow as pa  # noqa: F401

from devstack.source_server import etag_of
from devstack.synthetic_parquet import tlc_path, write_parquet_month
from nyc_taxi.months import TaxiMonth
from nyc_taxi.postgres import LoadAudit, replace_month
from nyc_taxi.republished import loaded_files, republished
from nyc_taxi.source import download_month_file
from nyc_taxi.transform import TransformStats, clean_month_batches


def head(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def load(conn, schema, source, tmp_path, year, month):
    path = tlc_path(source.root, "green", year, month)
    url = f"{source.base_url}/trip-data/{path.name}"
    download = download_month_file(url, tmp_path / path.name)
    stats = TransformStats.for_color("green")
    audit = LoadAudit(f"run_{year}_{month}", url, download.bytes_downloaded, download.seconds, stats,
                      source_etag=download.etag, source_last_modified=download.last_modified)
    replace_month(conn, TaxiMonth("green", year, month), clean_month_batches(download.path, "green", stats), audit,
                  schema=schema)
    return path


def test_a_re_published_file_is_told_by_its_etag_and_only_its_month_is_named(pg_conn, pg_schema, source, tmp_path):
    for month in (4, 5):
        write_parquet_month(tlc_path(source.root, "green", 2022, month), "green", 2022, month, 1_000, seed=month)
    april = load(pg_conn, pg_schema, source, tmp_path, 2022, 4)
    load(pg_conn, pg_schema, source, tmp_path, 2022, 5)
    files = loaded_files(pg_conn, "green", pg_schema)
    assert [(file.month, file.etag) for file in files][0] == ("2022-04", etag_of(april))
    assert republished(files, head) == []
    write_parquet_month(april, "green", 2022, 4, 1_001, seed=99)  # the TLC rewrites April
    assert republished(loaded_files(pg_conn, "green", pg_schema), head) == ["2022-04"]
