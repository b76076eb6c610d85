"""
### NYC taxi zone lookup → Postgres

The release's `misc/taxi_zone_lookup.csv` (265 zones: `LocationID, Borough, Zone, service_zone`), typed and checked
(each id once; the unknown zones `NV` and `NA` stay text, not NULL), replaces the table `ny_taxi.zones` whole, in
one transaction. It runs once when unpaused; trigger it again when the release's lookup changes.

**Location ids the lookup lacks warn, they do not fail a month.** Each monthly DAG's check looks every pickup and
dropoff location id up in this table and logs, as a warning, how many name an id it lacks and which (the check
task's return value lists them too). The trip is no less a trip for it: its zone is this table's to name, so a
reload of the month would not change it while a newer lookup would, and failing would hold back every other row of
the month over reference data the month does not own. Before this DAG has run, the checks warn that the lookup is
not loaded.

The source's base URL comes from the Variable `nyc_taxi_source_base_url`, Postgres from the connection
`ny_taxi_postgres`, as for the trips.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from nyc_taxi.dag_settings import DEFAULT_ARGS
from nyc_taxi.tasks import download_zone_lookup, load_zones_to_postgres, remove_zone_staging_files


@dag(
    dag_id="taxi_zones_to_postgres",
    description="Replace ny_taxi.zones with the release's taxi zone lookup",
    doc_md=__doc__,
    schedule="@once",
    start_date=pendulum.datetime(2019, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["nyc-taxi", "zones", "postgres"],
    default_args=DEFAULT_ARGS,
)
def load_zone_lookup():
    downloaded = download_zone_lookup()
    load_zones_to_postgres(downloaded) >> remove_zone_staging_files().as_teardown(setups=[downloaded])


load_zone_lookup()
