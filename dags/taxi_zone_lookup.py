"""
### NYC taxi zone lookup → Postgres, or GCS and BigQuery

The release's `misc/taxi_zone_lookup.csv` (265 zones: `LocationID, Borough, Zone, service_zone`), typed and checked
(each id once; the unknown zones `NV` and `NA` stay text, not NULL), as the table `zones`, replaced whole:

- `taxi_zones_to_postgres`: `ny_taxi.zones`, in one transaction;
- `taxi_zones_to_bigquery`: `gs://<bucket>/<prefix>/zones/taxi_zone_lookup.parquet`, then `<dataset>.zones` in one
  load job.

Each runs once when unpaused; trigger it again when the release's lookup changes.

**Location ids the lookup lacks warn, they do not fail a month.** The monthly DAGs' checks, in Postgres and in
BigQuery, look every pickup and dropoff location id up in `zones` and log as a warning how many name an id it lacks,
and which (the check task's return value lists them too). The trip is no less a trip for it: its zone is this
table's to name, so a reload of the month would not change it while a newer lookup would, and failing would hold
back every other row of the month over reference data the month does not own. Before the lookup is loaded, the
checks warn that it is not.

Source, Postgres, bucket and dataset come from the same Variables and connections as the trips'.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from nyc_taxi.dag_settings import DEFAULT_ARGS
from nyc_taxi.tasks import (
    download_zone_lookup,
    load_zones_to_bigquery,
    load_zones_to_postgres,
    remove_zone_staging_files,
    write_zones_to_gcs,
)


def zone_lookup_dag(destination: str, description: str) -> dict:
    """What both zone DAGs share: run once when unpaused, then on demand."""
    return {
        "dag_id": f"taxi_zones_to_{destination}",
        "description": description,
        "doc_md": __doc__,
        "schedule": "@once",
        "start_date": pendulum.datetime(2019, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["nyc-taxi", "zones", destination],
        "default_args": DEFAULT_ARGS,
    }


@dag(**zone_lookup_dag("postgres", "Replace ny_taxi.zones with the release's taxi zone lookup"))
def zones_to_postgres():
    downloaded = download_zone_lookup()
    load_zones_to_postgres(downloaded) >> remove_zone_staging_files().as_teardown(setups=[downloaded])


@dag(**zone_lookup_dag("bigquery", "Replace the taxi zone lookup in GCS and <dataset>.zones in BigQuery"))
def zones_to_bigquery():
    downloaded = download_zone_lookup()
    written = write_zones_to_gcs(downloaded)
    load_zones_to_bigquery(written) >> remove_zone_staging_files().as_teardown(setups=[downloaded])


zones_to_postgres()
zones_to_bigquery()
