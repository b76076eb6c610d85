"""Wait in the triggerer for a live source's month to be published, then hand on what the server says of the file.

The TLC publishes a month about two months after it ends. A run for a month not yet published does not fail: its
first task asks once (HEAD), and if the file is not there and the month is one of the last two due (an older
month that is missing fails at once: `TripSource.may_still_appear`) defers to a trigger that asks again every
`nyc_taxi_tlc_poll_minutes` (60) from the triggerer, holding no worker slot, until it is, or until
`nyc_taxi_tlc_wait_days` (40) have passed, when the task fails saying the month is not published yet. The file's
ETag, size and Last-Modified go to the load's audit row, which is how a re-published month is told apart
(nyc_taxi/republished.py).

Why our own trigger and not the HTTP provider's deferrable `HttpSensor`: the provider is not installed here, its
trigger needs a connection per base URL, and it treats only 404 as "not yet", while CloudFront answers 403 for a
month the TLC has not published.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

log = logging.getLogger(__name__)

PUBLISHED = "published"
NOT_PUBLISHED_YET = "not published yet"


def file_facts(status: int, headers) -> dict:
    """What a HEAD answer says of a published file."""
    size = headers.get("Content-Length")
    return {"status": PUBLISHED, "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
            "bytes": int(size) if size is not None else None, "http_status": status}


class MonthFileTrigger(BaseTrigger):
    """Asks `url` with HEAD every `poll_seconds` until it answers 200 or `give_up_at` (ISO, UTC) passes. 403 and 404
    mean "not published yet"; any other answer, or no answer, is logged and asked again: the source may be down."""

    def __init__(self, url: str, poll_seconds: float, give_up_at: str) -> None:
        super().__init__()
        self.url = url
        self.poll_seconds = float(poll_seconds)
        self.give_up_at = give_up_at

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("nyc_taxi.sensors.MonthFileTrigger",
                {"url": self.url, "poll_seconds": self.poll_seconds, "give_up_at": self.give_up_at})

    async def run(self):
        import aiohttp

        from nyc_taxi.source import NOT_PUBLISHED_STATUSES

        give_up_at = dt.datetime.fromisoformat(self.give_up_at)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                try:
                    async with session.head(self.url, allow_redirects=True) as response:
                        if response.status == 200:
                            yield TriggerEvent(file_facts(response.status, response.headers))
                            return
                        if response.status not in NOT_PUBLISHED_STATUSES:
                            self.log.warning("%s answered HTTP %s; asking again", self.url, response.status)
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    self.log.warning("%s could not be asked (%s); asking again", self.url, error)
                left = (give_up_at - dt.datetime.now(dt.timezone.utc)).total_seconds()
                if left <= 0:
                    yield TriggerEvent({"status": NOT_PUBLISHED_YET, "give_up_at": self.give_up_at})
                    return
                await asyncio.sleep(min(self.poll_seconds, left))


class WaitForMonthFile(BaseOperator):
    """The run's month's file on a live source: returns its ETag, size and Last-Modified once published, after
    waiting in the triggerer if it is not yet; fails with "not published yet" after `nyc_taxi_tlc_wait_days`."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("task_id", "wait_for_month_file")
        # The wait has its own bound: a retry would only wait that long again (under `dag.test()` a run that had
        # given up was retried twice, 30 s apart, though it raised AirflowFailException).
        kwargs["retries"] = 0
        super().__init__(**kwargs)

    def execute(self, context):
        import requests

        from nyc_taxi.settings import setting_from_airflow
        from nyc_taxi.source import NOT_PUBLISHED_STATUSES, http_session

        from airflow.sdk.exceptions import AirflowFailException

        month, url, source = _month_and_url(context)
        wait_days = float(setting_from_airflow("tlc_wait_days"))
        poll_seconds = float(setting_from_airflow("tlc_poll_minutes")) * 60
        try:
            response = http_session(retries=2).head(url, allow_redirects=True, timeout=30)
        except requests.exceptions.RequestException as error:
            log.warning("%s could not be asked (%s); waiting in the triggerer", url, error)
        else:
            if response.status_code == 200:
                facts = file_facts(response.status_code, response.headers)
                log.info("%s is published: %s", month, facts)
                return {**facts, "url": url}
            if response.status_code not in NOT_PUBLISHED_STATUSES:
                log.warning("%s answered HTTP %s; waiting in the triggerer", url, response.status_code)
            elif not source.may_still_appear(month.first_day):
                raise AirflowFailException(
                    f"no data for {month} at {url} (HTTP {response.status_code}: not published); a month this old "
                    f"is not waited for")
        give_up_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=wait_days)
        log.info("%s is not published at %s yet: asking every %.0f s until %s", month, url, poll_seconds,
                 f"{give_up_at:%Y-%m-%d %H:%M} UTC")
        self.defer(trigger=MonthFileTrigger(url, poll_seconds, give_up_at.isoformat()),
                   method_name="execute_complete")

    def execute_complete(self, context, event: dict, **_):
        # The month, its URL and the bound from the run again, not from the deferral's kwargs: dag.test() resumed
        # a task without them (a TypeError that a retry then hid).
        from nyc_taxi.settings import setting_from_airflow

        from airflow.sdk.exceptions import AirflowFailException

        month, url, _ = _month_and_url(context)
        if event.get("status") != PUBLISHED:
            wait_days = float(setting_from_airflow("tlc_wait_days"))
            raise AirflowFailException(
                f"{month} is not published yet at {url}: waited {wait_days:g} days (nyc_taxi_tlc_wait_days); the "
                f"TLC publishes a month about two months after it ends. Clear this task to wait again"
            )
        log.info("%s is published: %s", month, event)
        return {**event, "url": url}


def _month_and_url(context):
    from nyc_taxi.settings import setting_from_airflow
    from nyc_taxi.tasks import source_of_run, _failing_without_retries
    from nyc_taxi.months import NotAMonthOfTheRelease, month_of_run

    source = source_of_run()
    with _failing_without_retries(NotAMonthOfTheRelease):
        month = month_of_run(context["params"], context.get("logical_date"), source)
    url = source.url(month.color, month.label, setting_from_airflow(source.base_url_setting))
    return month, url, source
