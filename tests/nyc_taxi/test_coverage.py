import datetime as dt
import time


from nyc_taxi.coverage import (
    GCS,
    POSTGRES,
    Coverage,
    MonthLoad,
    YearTotal,
    behind_gcs,
    gcs_loads,
    latest_run_failures,
    postgres_loads,
    read_within,
    release_months,
    year_totals,
)
from nyc_taxi.gcs import MonthLayout
from nyc_taxi.months import TaxiMonth
from nyc_taxi.postgres import create_tables
from nyc_taxi.sql_files import statement
from tests.nyc_taxi.trip_files import cleaned_synthetic_month

AT = dt.datetime(2026, 11, 30, 22, 25, tzinfo=dt.timezone.utc)


def test_the_release_has_31_months():
    months = release_months()
    assert (len(months), months[0], months[12], months[-1]) == (31, "2019-01", "2020-01", "2021-07")


def test_gaps_are_months_never_loaded_or_whose_latest_run_failed():
    coverage = Coverage(POSTGRES, loads={("yellow", "2021-01"): MonthLoad(10, AT), ("yellow", "2021-02"): MonthLoad(9, AT)},
                        failed_runs={("yellow", "2021-02"): "manual__1"})
    gaps = coverage.gaps(["2021-01", "2021-02", "2021-03"])
    assert ("yellow", "2021-01") not in gaps
    assert ("yellow", "2021-02") in gaps and ("yellow", "2021-03") in gaps and ("green", "2021-01") in gaps


def test_only_a_month_whose_latest_run_failed_counts_as_failed():
    runs = [("d", "2021-01", "r1", "failed"), ("d", "2021-01", "r2", "success"),
            ("d", "2021-02", "r3", "success"), ("d", "2021-02", "r4", "failed"), ("d", None, "r5", "failed")]
    assert latest_run_failures(runs) == {("d", "2021-02"): "r4"}


def test_bigquery_is_behind_where_gcs_holds_a_write_it_has_not_loaded():
    in_gcs = {("green", "2021-01"): MonthLoad(5, AT, generation=2), ("green", "2021-02"): MonthLoad(5, AT, generation=7)}
    in_bigquery = {("green", "2021-01"): MonthLoad(5, AT, generation=1), ("green", "2021-03"): MonthLoad(5, AT)}
    assert behind_gcs(in_bigquery, in_gcs) == {("green", "2021-01"), ("green", "2021-02")}


def test_a_reader_that_fails_or_hangs_gives_its_error_without_holding_the_others():
    def hangs():
        time.sleep(5)

    def fails():
        raise ConnectionRefusedError("connection refused")

    started = time.monotonic()
    results = read_within(0.5, {"ok": lambda: 42, "fails": fails, "hangs": hangs})
    assert time.monotonic() - started < 2
    assert results["ok"] == 42
    assert isinstance(results["fails"], ConnectionRefusedError)
    assert isinstance(results["hangs"], TimeoutError) and str(results["hangs"]) == "no answer within 0.5 s"


def test_postgres_coverage_is_the_latest_audit_row_of_each_month(pg_conn, pg_schema):
    assert postgres_loads(pg_conn, pg_schema) == {}  # nothing loaded yet: no audit table
    create_tables(pg_conn, "green", pg_schema)
    record = statement("record_load_audit", schema=pg_schema)
    for run_id, rows in (("scheduled__1", 90), ("manual__2", 95)):
        pg_conn.execute(record, {
            "color": "green", "source_month": dt.date(2021, 1, 1), "run_id": run_id, "source_url": "u",
            "bytes_downloaded": 1, "rows_read": 100, "rows_dropped": '{"passenger_count > 0": 5}', "rows_loaded": rows,
            "extract_seconds": 0, "transform_seconds": 0, "load_seconds": 0, "rows_flagged": "{}",
        })
    [(key, load)] = postgres_loads(pg_conn, pg_schema).items()
    assert key == ("green", "2021-01")
    assert (load.rows, load.run_id, load.rows_dropped) == (95, "manual__2", {"passenger_count > 0": 5})
    assert load.rows_read == 100


def test_a_year_counts_its_months_loaded_of_those_published_and_their_rows():
    loads = {("yellow", f"2020-{month:02d}"): MonthLoad(10 * month, AT, rows_read=11 * month) for month in range(1, 13)}
    loads[("green", "2020-01")] = MonthLoad(5, AT, rows_read=6)
    totals = {(total.color, total.year): total for total in year_totals(Coverage(POSTGRES, loads=loads))}
    assert totals[("yellow", "2020")] == YearTotal("yellow", "2020", 12, 12, 780, 858)
    assert totals[("green", "2020")] == YearTotal("green", "2020", 1, 12, 5, 6)
    assert totals[("fhv", "2020")] == YearTotal("fhv", "2020", 0, 12, 0, None)
    assert totals[("yellow", "2021")].months_published == 7  # the release ends in 2021-07
    in_gcs = year_totals(Coverage(GCS, loads={("green", "2020-01"): MonthLoad(5, AT)}), ["2020-01"])
    assert [(total.color, total.months_loaded, total.rows_read) for total in in_gcs] == \
        [("yellow", 0, None), ("green", 1, None), ("fhv", 0, None)]


def test_gcs_coverage_lists_each_month_with_its_rows_in_one_call(bucket, gcs_client, write, tmp_path):
    month = TaxiMonth("green", 2021, 1)
    cleaned, _ = cleaned_synthetic_month(tmp_path, month, 300)
    written = write(cleaned, MonthLayout(bucket, "nyc_taxi", month))
    [(key, load)] = gcs_loads(gcs_client, bucket, "nyc_taxi").items()
    assert key == ("green", "2021-01")
    assert (load.rows, load.generation) == (written["rows"], written["generation"])
