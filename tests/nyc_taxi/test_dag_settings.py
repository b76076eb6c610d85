import datetime as dt

import pytest

from nyc_taxi.dag_settings import monthly_schedule, scheduled_months


def test_the_schedule_covers_the_release_unless_narrowed():
    assert scheduled_months({}) == (dt.date(2019, 1, 1), dt.date(2021, 7, 1))
    narrowed = monthly_schedule({"NYC_TAXI_SCHEDULE_START": "2021-01", "NYC_TAXI_SCHEDULE_END": "2021-03"})
    assert narrowed["schedule"].catchup_months == ("2021-01", "2021-03")
    assert narrowed["schedule"].release_months == ("2019-01", "2021-07")
    assert scheduled_months({"NYC_TAXI_SCHEDULE_START": "2021-05"}) == (dt.date(2021, 5, 1), dt.date(2021, 7, 1))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NYC_TAXI_SCHEDULE_START": "2021-13"}, "NYC_TAXI_SCHEDULE_START='2021-13' is not a month: write YYYY-MM"),
        ({"NYC_TAXI_SCHEDULE_END": "2021-08"}, "NYC_TAXI_SCHEDULE_END=2021-08 is outside the months the release"),
        ({"NYC_TAXI_SCHEDULE_START": "2021-03", "NYC_TAXI_SCHEDULE_END": "2021-02"},
         "NYC_TAXI_SCHEDULE_START=2021-03 is after NYC_TAXI_SCHEDULE_END=2021-02"),
    ],
)
def test_a_bad_schedule_bound_is_named(environ, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        scheduled_months(environ)
