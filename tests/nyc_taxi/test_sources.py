"""The two sources, as the DAGs and tasks ask them: services, months, file names and URLs."""

import datetime as dt

import pytest

from nyc_taxi.months import NotAMonthOfTheRelease, month_of_run
from nyc_taxi.sources import RELEASE_CSV, SOURCES, TLC_PARQUET, UnknownSource, source_named, source_of_dags

RELEASE, TLC = SOURCES[RELEASE_CSV], SOURCES[TLC_PARQUET]


def test_the_release_is_the_default_and_keeps_its_layout():
    assert source_of_dags({}) is RELEASE
    assert RELEASE.services == ("yellow", "green", "fhv")
    assert RELEASE.url("green", "2021-01") == ("https://github.com/DataTalksClub/nyc-tlc-data/releases/download/"
                                               "green/green_tripdata_2021-01.csv.gz")
    assert (RELEASE.first_month("fhv"), RELEASE.last_month("fhv")) == (dt.date(2019, 1, 1), dt.date(2021, 7, 1))


def test_the_tlc_holds_four_services_in_one_flat_folder_up_to_two_months_back():
    tlc = source_of_dags({"AIRFLOW_VAR_NYC_TAXI_SOURCE": "tlc-parquet"})
    assert tlc is TLC
    assert tlc.services == ("yellow", "green", "fhv", "fhvhv")
    assert tlc.url("fhvhv", "2019-02") == "https://d37ci6vzurychx.cloudfront.net/trip-data/fhvhv_tripdata_2019-02.parquet"
    assert tlc.url("yellow", "2024-01", "http://127.0.0.1:9/trip-data/") == \
        "http://127.0.0.1:9/trip-data/yellow_tripdata_2024-01.parquet"
    assert [f"{tlc.first_month(s):%Y-%m}" for s in tlc.services] == ["2009-01", "2013-08", "2015-01", "2019-02"]
    assert tlc.last_month("yellow", today=dt.date(2026, 12, 7)) == dt.date(2026, 10, 1)
    assert tlc.last_month("yellow", today=dt.date(2027, 1, 1)) == dt.date(2026, 11, 1)


def test_an_unknown_source_is_refused_naming_the_known_ones():
    with pytest.raises(UnknownSource, match="nyc_taxi_source='tlc-csv' names no source: set it to one of "
                                            "release-csv, tlc-parquet"):
        source_named("tlc-csv")


def test_a_run_names_a_month_of_its_source():
    today = dt.date(2026, 12, 7)
    assert month_of_run({"color": "yellow", "year": 2009, "month": 1}, None, TLC, today).label == "2009-01"
    with pytest.raises(NotAMonthOfTheRelease, match=r"yellow 2026-11 is not a month of the TLC trip record data "
                                                     r"\(Parquet\), which holds 2009-01..2026-10 \(the latest due, 2 "
                                                     r"months back\)"):
        month_of_run({"color": "yellow", "year": 2026, "month": 11}, None, TLC, today)
    with pytest.raises(NotAMonthOfTheRelease, match="holds 2019-02.."):
        month_of_run({"color": "fhvhv", "year": 2019, "month": 1}, None, TLC, today)
    with pytest.raises(NotAMonthOfTheRelease, match="the DataTalksClub nyc-tlc-data release holds no fhvhv trips"):
        month_of_run({"color": "fhvhv", "year": 2020, "month": 1}, None, RELEASE)


def test_only_the_last_two_due_months_of_a_live_source_are_waited_for():
    today = dt.date(2026, 12, 7)
    assert [TLC.may_still_appear(dt.date(2026, month, 1), today) for month in (8, 9, 10)] == [False, True, True]
    assert not RELEASE.may_still_appear(dt.date(2021, 7, 1), today)
