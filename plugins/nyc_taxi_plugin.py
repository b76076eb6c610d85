"""The project's Airflow plugin: the monthly DAGs' timetable, the notes naming each run's month, the digest a
backfill's failures send, and the page "NYC taxi loads" in the UI's navigation.

Airflow imports this file in every process, so it stays light: the page's app (FastAPI, the clients) is
imported on its first request, by the api-server only.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from nyc_taxi import alert_digest, run_notes
from nyc_taxi.timetable import ReleaseMonthsTimetable

LOADS_PAGE_PREFIX = "/nyc-taxi"


class _LoadsPageOnFirstRequest:
    """An ASGI app that imports the page's FastAPI app when first called."""

    app = None

    async def __call__(self, scope, receive, send):
        if self.app is None:
            from nyc_taxi.coverage_page import app

            type(self).app = app
        await self.app(scope, receive, send)


class NycTaxiPlugin(AirflowPlugin):
    name = "nyc_taxi"
    timetables = [ReleaseMonthsTimetable]
    listeners = [run_notes, alert_digest]
    fastapi_apps = [{"app": _LoadsPageOnFirstRequest(), "url_prefix": LOADS_PAGE_PREFIX, "name": "NYC taxi loads"}]
    external_views = [{
        "name": "NYC taxi loads",
        "href": f"{LOADS_PAGE_PREFIX}/",
        "destination": "nav",
        "url_route": "nyc-taxi-loads",
        "category": "browse",
    }]
