import itertools
from pathlib import Path

import pytest

from nyc_taxi.gcs import publish_month, upload_to_staging, write_month_partitions
from tests.nyc_taxi.trip_files import cleaned_batches_of, write_trip_file

_buckets = itertools.count(1)


@pytest.fixture
def write_trips(tmp_path: Path):
    """Write trips to `<tmp>/<color>_tripdata_2021-01.csv.gz` (or `name`); see `write_trip_file`."""

    def write(color: str, trips: list[dict], header: list[str] | None = None, line_end: str = "\n",
              name: str | None = None) -> Path:
        path = tmp_path / (name or f"{color}_tripdata_2021-01.csv.gz")
        return write_trip_file(path, color, trips, header, line_end)

    return write


@pytest.fixture
def bucket(gcp):
    name = f"lake-{next(_buckets)}"
    gcp.create_bucket(name)
    return name


@pytest.fixture
def gcs_client(gcp):
    """The storage client the DAG's tasks get from GCSHook(gcp_conn_id).get_conn()."""
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    return GCSHook().get_conn()


@pytest.fixture
def write(gcs_client, tmp_path):
    """Write a month the way the DAG does: partitions on local disk, uploaded to staging, published."""

    def write_month_objects(cleaned, layout, run_id="run_1", batch_source=None):
        local_dir = tmp_path / run_id
        written = write_month_partitions(batch_source or cleaned_batches_of(cleaned, 4_000), layout.month,
                                         local_dir)
        return publish_month(gcs_client, layout, upload_to_staging(gcs_client, layout, local_dir, written, run_id))

    return write_month_objects
