import datetime as dt

import pytest

from nyc_taxi.months import NotAMonthOfTheRelease, TaxiMonth, month_of_run


def test_a_month_knows_its_file_and_url():
    month = TaxiMonth("green", 2020, 3)
    assert month.label == "2020-03"
    assert month.file_name == "green_tripdata_2020-03.csv.gz"
    assert month.source_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/green/green_tripdata_2020-03.csv.gz"
    assert month.source_url() == (
        "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/green/green_tripdata_2020-03.csv.gz"
    )
    assert TaxiMonth.parse("green", "2020-03") == month


@pytest.mark.parametrize(("color", "year", "month"), [("purple", 2021, 1), ("yellow", 2021, 13), ("yellow", 1, 1)])
def test_an_impossible_month_is_refused(color, year, month):
    with pytest.raises(ValueError):
        TaxiMonth(color, year, month)


def test_a_scheduled_run_loads_the_month_of_its_logical_date():
    params = {"color": "yellow", "year": None, "month": None}
    assert month_of_run(params, dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)) == TaxiMonth("yellow", 2021, 1)


def test_params_choose_the_month_of_a_manual_run():
    params = {"color": "green", "year": 2020, "month": 7}
    assert month_of_run(params, dt.datetime(2021, 1, 1)) == TaxiMonth("green", 2020, 7)
    assert month_of_run(params, None) == TaxiMonth("green", 2020, 7)


@pytest.mark.parametrize(
    ("params", "logical_date", "named"),
    [
        ({"year": None, "month": None}, dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc), "yellow 2026-11"),
        ({"year": 2021, "month": 12}, dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc), "yellow 2021-12"),
        ({"year": None, "month": None}, dt.datetime(2018, 12, 1, tzinfo=dt.timezone.utc), "yellow 2018-12"),
    ],
)
def test_a_month_the_release_does_not_hold_is_named_with_the_months_it_does(params, logical_date, named):
    with pytest.raises(NotAMonthOfTheRelease, match=f"{named} is not a month of the release, which holds 2019-01..2021-07"):
        month_of_run({"color": "yellow", **params}, logical_date)


def test_a_run_without_logical_date_or_params_says_what_to_give():
    with pytest.raises(ValueError, match="params year and month"):
        month_of_run({"color": "yellow", "year": None, "month": None}, None)
    with pytest.raises(ValueError, match="both params"):
        month_of_run({"color": "yellow", "year": 2021, "month": None}, None)
