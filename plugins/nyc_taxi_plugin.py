"""The project's Airflow plugin: the monthly DAGs' timetable, and the notes naming each run's month.

Airflow imports this file in every process, so it stays light.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from nyc_taxi import run_notes
from nyc_taxi.timetable import ReleaseMonthsTimetable


class NycTaxiPlugin(AirflowPlugin):
    name = "nyc_taxi"
    timetables = [ReleaseMonthsTimetable]
    listeners = [run_notes]
