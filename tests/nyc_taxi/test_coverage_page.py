import datetime as dt

from nyc_taxi import coverage_page
from nyc_taxi.coverage import BIGQUERY, GCS, POSTGRES, Coverage, MonthLoad, release_months
from nyc_taxi.coverage_page import read_coverage, render_page
from tests.dags.conftest import postgres_conn_uri

AT = dt.datetime(2026, 11, 30, 22, 25, tzinfo=dt.timezone.utc)


def page_of(*coverages: Coverage) -> str:
    return render_page(list(coverages), release_months())


def test_a_loaded_month_shows_its_rows_what_each_rule_dropped_when_and_its_run():
    run_id = "backfill__2021-01-01T00:00:00+00:00"
    html = page_of(Coverage(POSTGRES, loads={
        ("yellow", "2021-01"): MonthLoad(1_229_772, AT, run_id, {"passenger_count > 0": 139_993})}))
    assert "1,229,772" in html and "passenger_count &gt; 0: −139,993" in html and "2026-11-30 22:25 UTC" in html
    assert "href='/dags/yellow_taxi_to_postgres/runs/backfill__2021-01-01T00%3A00%3A00%2B00%3A00'" in html
    assert "<b>Never loaded:</b> yellow 2019-01..2020-12, 2021-02..2021-07; green 2019-01..2021-07" in html


def test_each_destination_says_how_far_it_has_got_with_each_year():
    loads = {("yellow", f"2020-{month:02d}"): MonthLoad(2_000_000, AT, rows_read=2_054_041) for month in range(1, 13)}
    loads[("green", "2020-03")] = MonthLoad(200_000, AT, rows_read=223_406)
    html = page_of(Coverage(POSTGRES, loads=loads))
    assert ("<td class='loaded' data-color='yellow' data-year='2020'>12 of 12 months"
            "<div class='small'>24,648,492 read, 24,000,000 loaded</div></td>") in html
    assert "<td class='behind' data-color='green' data-year='2020'>1 of 12 months" in html
    assert "<td class='missing' data-color='fhv' data-year='2021'>0 of 7 months" in html


def test_a_month_whose_latest_run_failed_is_a_gap_linked_to_that_run():
    html = page_of(Coverage(GCS, failed_runs={("green", "2021-04"): "manual__x"}))
    assert "<b>Latest run failed:</b> green 2021-04" in html
    assert "green 2019-01..2021-03, 2021-05..2021-07" in html
    assert "class='failed' data-color='green' data-month='2021-04'" in html


def test_an_unreachable_destination_is_shown_as_unavailable_with_why():
    html = page_of(Coverage(POSTGRES), Coverage(BIGQUERY, unavailable="TimeoutError: no answer within 10 s"))
    assert "BigQuery is unavailable: TimeoutError: no answer within 10 s" in html
    assert "data-destination='Postgres'" in html


def test_with_bigquery_down_the_page_still_shows_postgres_and_gcs(
        gcp, postgres_dsn, airflow_db, monkeypatch):
    from devstack.server_process import free_port

    monkeypatch.setenv("AIRFLOW_CONN_NY_TAXI_POSTGRES", postgres_conn_uri(postgres_dsn))
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "nyc-taxi-local")
    monkeypatch.setattr(coverage_page, "READ_TIMEOUT_SECONDS", 3)
    gcp.create_bucket("coverage-page-lake")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET", "coverage-page-lake")

    by_name = {coverage.destination.name: coverage for coverage in read_coverage()}
    assert by_name["Postgres"].unavailable is None
    assert by_name["GCS"].unavailable is None
    assert by_name["BigQuery"].unavailable
    assert "BigQuery is unavailable" in render_page(list(by_name.values()), release_months())
