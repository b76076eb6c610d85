"""The wait for a live source's month, its trigger run as the triggerer runs it, against the local source server."""

import asyncio
import datetime as dt

import pytest

from devstack.source_server import etag_of
from nyc_taxi.sensors import NOT_PUBLISHED_YET, PUBLISHED, MonthFileTrigger


def first_event(trigger):
    async def run():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(asyncio.wait_for(run(), timeout=30))


@pytest.fixture
def cloudfront(source):
    source.missing_status = 403
    yield source
    source.missing_status = 404


def test_a_published_file_is_reported_with_its_etag_and_size(cloudfront):
    file = cloudfront.root / "trip-data" / "green_tripdata_2022-02.parquet"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    give_up_at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=20)).isoformat()
    event = first_event(MonthFileTrigger(f"{cloudfront.base_url}/trip-data/{file.name}", 0.2, give_up_at))
    assert event["status"] == PUBLISHED
    assert (event["etag"], event["bytes"]) == (etag_of(file), 108)


def test_a_file_still_missing_at_the_bound_is_not_published_yet(cloudfront):
    give_up_at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)).isoformat()
    url = f"{cloudfront.base_url}/trip-data/green_tripdata_2031-01.parquet"
    event = first_event(MonthFileTrigger(url, 0.5, give_up_at))
    assert event == {"status": NOT_PUBLISHED_YET, "give_up_at": give_up_at}
    assert [status for method, path, status in cloudfront.requests if path.endswith("2031-01.parquet")][:2] == \
        [403, 403]


def test_the_trigger_serializes_to_what_the_triggerer_imports():
    classpath, kwargs = MonthFileTrigger("http://x/f.parquet", 60, "2027-01-01T00:00:00+00:00").serialize()
    assert classpath == "nyc_taxi.sensors.MonthFileTrigger"
    assert MonthFileTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.fixture
def tlc_settings(cloudfront, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_SOURCE", "tlc-parquet")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_BASE_URL", f"{cloudfront.base_url}/trip-data")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_WAIT_DAYS", "40")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_TLC_POLL_MINUTES", "60")
    return cloudfront


def test_giving_up_says_the_month_is_not_published_yet(tlc_settings):
    from airflow.sdk.exceptions import AirflowFailException

    from nyc_taxi.sensors import WaitForMonthFile

    context = {"params": {"color": "green", "year": 2021, "month": 3}, "logical_date": None}
    # Without the deferral's kwargs, as dag.test() once resumed it: the month, URL and bound come from the run.
    with pytest.raises(AirflowFailException, match=r"green 2021-03 is not published yet at http://\S+/trip-data/"
                                                   r"green_tripdata_2021-03.parquet: waited 40 days "
                                                   r"\(nyc_taxi_tlc_wait_days\)"):
        WaitForMonthFile().execute_complete(context, {"status": NOT_PUBLISHED_YET})


def test_an_old_missing_month_fails_at_once_naming_the_answer(tlc_settings):
    from airflow.sdk.exceptions import AirflowFailException

    from nyc_taxi.sensors import WaitForMonthFile

    context = {"params": {"color": "green", "year": 2013, "month": 8}, "logical_date": None}
    with pytest.raises(AirflowFailException, match=r"no data for green 2013-08 at http://\S+/trip-data/"
                                                   r"green_tripdata_2013-08.parquet \(HTTP 403: not published\)"):
        WaitForMonthFile().execute(context)
