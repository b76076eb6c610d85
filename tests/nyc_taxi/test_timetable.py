import pendulum
from airflow.timetables.base import DataInterval, TimeRestriction

from nyc_taxi.timetable import ReleaseMonthsTimetable

RELEASE = ("2019-01", "2021-07")
EPOCH = pendulum.datetime(1970, 1, 1, tz="UTC")


def scheduled_months(timetable, restriction=TimeRestriction(earliest=EPOCH, latest=None, catchup=True)):
    """What the scheduler would create, run after run: (run after, data interval start, end) as YYYY-MM."""
    months, info = [], None
    while info := timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction):
        assert info.run_after == info.logical_date, "a run is dated by the month it loads"
        months.append(f"{info.logical_date:%Y-%m}..{info.data_interval.end:%Y-%m}")
    return months


def test_catchup_runs_each_month_of_the_release_once_dated_by_its_month():
    months = scheduled_months(ReleaseMonthsTimetable(RELEASE))
    assert len(months) == 31
    assert months[0] == "2019-01..2019-02"
    assert months[-1] == "2021-07..2021-08"


def test_catchup_can_be_narrowed():
    assert scheduled_months(ReleaseMonthsTimetable(RELEASE, ("2021-01", "2021-03"))) == [
        "2021-01..2021-02", "2021-02..2021-03", "2021-03..2021-04"]


def test_a_backfill_runs_the_months_of_its_range_the_release_holds():
    timetable = ReleaseMonthsTimetable(RELEASE, ("2021-01", "2021-03"))
    backfill = TimeRestriction(pendulum.datetime(2018, 11, 1, tz="UTC"), pendulum.datetime(2019, 2, 1, tz="UTC"), True)
    assert scheduled_months(timetable, backfill) == ["2019-01..2019-02", "2019-02..2019-03"]
    beyond = TimeRestriction(pendulum.datetime(2021, 6, 1, tz="UTC"), pendulum.datetime(2022, 3, 1, tz="UTC"), True)
    assert scheduled_months(timetable, beyond) == ["2021-06..2021-07", "2021-07..2021-08"]


def test_a_manual_run_has_the_month_of_its_logical_date_as_data_interval():
    interval = ReleaseMonthsTimetable(RELEASE).infer_manual_data_interval(run_after=pendulum.datetime(2021, 3, 17, 9))
    assert interval == DataInterval(pendulum.datetime(2021, 3, 1, tz="UTC"), pendulum.datetime(2021, 4, 1, tz="UTC"))


def test_it_survives_serialization():
    timetable = ReleaseMonthsTimetable(RELEASE, ("2021-01", "2021-03"))
    assert ReleaseMonthsTimetable.deserialize(timetable.serialize()) == timetable
    assert timetable.summary == "Monthly 2021-01..2021-03"


def test_catchup_narrowed_to_later_months_starts_at_them_after_earlier_runs():
    timetable = ReleaseMonthsTimetable(RELEASE, ("2021-01", "2021-03"))
    march_2019 = DataInterval(pendulum.datetime(2019, 3, 1, tz="UTC"), pendulum.datetime(2019, 4, 1, tz="UTC"))
    restriction = TimeRestriction(earliest=EPOCH, latest=None, catchup=True)
    info = timetable.next_dagrun_info(last_automated_data_interval=march_2019, restriction=restriction)
    assert f"{info.logical_date:%Y-%m}" == "2021-01"


def test_a_scheduled_run_is_named_by_its_month_and_a_backfill_or_manual_run_as_airflow_names_them():
    from airflow.utils.types import DagRunType

    timetable = ReleaseMonthsTimetable(RELEASE)
    january = DataInterval(pendulum.datetime(2021, 1, 1, tz="UTC"), pendulum.datetime(2021, 2, 1, tz="UTC"))
    run_after = pendulum.datetime(2021, 1, 1, tz="UTC")
    assert timetable.generate_run_id(run_type=DagRunType.SCHEDULED, run_after=run_after,
                                     data_interval=january) == "scheduled__2021-01"
    assert timetable.generate_run_id(run_type=DagRunType.MANUAL, run_after=run_after,
                                     data_interval=january) == "manual__2021-01-01T00:00:00+00:00"
