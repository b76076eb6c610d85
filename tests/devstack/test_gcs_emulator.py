"""The GCS emulator's contract, tested with the real clients: the contract the pipeline and its tests rely on,
what else the emulator does, and what it does not do.

- Relied on: clients pointed at it by its variables; google-cloud-storage and Airflow's GCSHook upload, list,
  download and delete; its objects survive a restart on the same port, and a write to it while it is down
  fails, so a test can stop it in the middle of a pipeline; `python -m devstack.gcs_emulator` serves until
  terminated.
- Done, not used by the pipeline today (tests named `test_also_...`): pyarrow's GCS filesystem, which the
  BigQuery emulator's tests use to fill their lake. The pipeline writes its Parquet locally and uploads it:
  pyarrow's writer hangs when the bucket goes away mid-write.
- Not done: files put in its root behind its back (e.g. by a BigQuery extract job) break the bucket's listing;
  see test_bigquery_emulator.py.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
import requests
from airflow.providers.google.cloud.hooks.gcs import GCSHook
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from devstack.gcs_emulator import GcsEmulator

PROJECT = "nyc-taxi-local"
BUCKET = "lake"


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory):
    with GcsEmulator(tmp_path_factory.mktemp("gcs") / "root", project=PROJECT) as emulator:
        emulator.create_bucket(BUCKET)
        yield emulator


@pytest.fixture
def gcs_env(gcs: GcsEmulator, monkeypatch: pytest.MonkeyPatch) -> GcsEmulator:
    """The emulator, with its variables set for this test (clients read them when they are made)."""
    for name, value in gcs.environment().items():
        monkeypatch.setenv(name, value)
    return gcs


def trips(pickup_month: str, rows: int) -> pa.Table:
    """Trips of one month the way the pipeline writes them: microsecond timestamps, nullable integers."""
    start = dt.datetime.strptime(pickup_month, "%Y-%m")
    pickups = [start + dt.timedelta(hours=7 * i) for i in range(rows)]
    return pa.table({
        "vendor_id": pa.array([1 + i % 2 for i in range(rows)], pa.int64()),
        "pickup_datetime": pa.array(pickups, pa.timestamp("us")),
        "passenger_count": pa.array([None if i % 3 == 0 else i % 5 for i in range(rows)], pa.int64()),
        "pickup_month": pa.array([pickup_month] * rows),
    })


def client_for(endpoint: str) -> storage.Client:
    """A client on one emulator, without the variables (tests that start their own emulator)."""
    return storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint}
    )


def test_environment_points_clients_at_the_emulator(gcs: GcsEmulator) -> None:
    assert gcs.endpoint == f"http://127.0.0.1:{gcs.port}"
    environment = gcs.environment()
    assert environment["STORAGE_EMULATOR_HOST"] == gcs.endpoint
    assert environment["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] == "false"
    assert '"is_anonymous": true' in environment["AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT"]


def test_storage_client_uploads_lists_and_deletes(gcs_env: GcsEmulator) -> None:
    client = storage.Client(project=PROJECT)  # anonymous: STORAGE_EMULATOR_HOST is set
    bucket = client.bucket(BUCKET)
    bucket.blob("client/a.txt").upload_from_string(b"first")
    bucket.blob("client/b.txt").upload_from_string(b"second")

    assert [blob.name for blob in client.list_blobs(BUCKET, prefix="client/")] == ["client/a.txt", "client/b.txt"]
    assert bucket.blob("client/b.txt").download_as_bytes() == b"second"

    bucket.blob("client/a.txt").delete()
    assert [blob.name for blob in client.list_blobs(BUCKET, prefix="client/")] == ["client/b.txt"]
    assert BUCKET in [listed.name for listed in client.list_buckets()]


def test_gcs_hook_uploads_lists_downloads_and_deletes(gcs_env: GcsEmulator, tmp_path: Path) -> None:
    hook = GCSHook(gcp_conn_id="google_cloud_default")
    local_file = tmp_path / "month.csv"
    local_file.write_text("vendor_id,passenger_count\n1,2\n")
    hook.upload(BUCKET, "hook/month.csv", filename=str(local_file))
    hook.upload(BUCKET, "hook/note.txt", data="hello")

    assert hook.list(BUCKET, prefix="hook/") == ["hook/month.csv", "hook/note.txt"]
    assert hook.exists(BUCKET, "hook/month.csv")
    assert hook.download(BUCKET, "hook/month.csv") == local_file.read_bytes()

    hook.delete(BUCKET, "hook/note.txt")
    assert hook.list(BUCKET, prefix="hook/") == ["hook/month.csv"]
    assert not hook.exists(BUCKET, "hook/note.txt")


def test_also_arrow_writes_and_reads_a_hive_partitioned_dataset(gcs_env: GcsEmulator) -> None:
    filesystem = gcs_env.arrow_filesystem()
    months = pa.concat_tables([trips("2021-01", 50), trips("2021-02", 40)])
    ds.write_dataset(
        months, f"{BUCKET}/arrow/trips", filesystem=filesystem, format="parquet",
        partitioning=ds.partitioning(pa.schema([("pickup_month", pa.string())]), flavor="hive"),
        basename_template="part-{i}.parquet", existing_data_behavior="delete_matching",
    )

    # The objects are plain GCS objects, laid out the way BigQuery's hive partitioning expects.
    listed = [blob.name for blob in storage.Client(project=PROJECT).list_blobs(BUCKET, prefix="arrow/")]
    assert listed == [
        "arrow/trips/pickup_month=2021-01/part-0.parquet", "arrow/trips/pickup_month=2021-02/part-0.parquet",
    ]

    read = ds.dataset(
        f"{BUCKET}/arrow/trips", filesystem=filesystem, format="parquet",
        partitioning=ds.partitioning(pa.schema([("pickup_month", pa.string())]), flavor="hive"),
    ).to_table()
    assert read.schema.field("pickup_datetime").type == pa.timestamp("us")
    assert read.schema.field("passenger_count").type == pa.int64()
    assert read.sort_by("pickup_datetime").equals(months.sort_by("pickup_datetime"))
    assert read["passenger_count"].null_count == months["passenger_count"].null_count > 0


def test_restart_on_the_same_root_keeps_buckets_and_objects(tmp_path: Path) -> None:
    emulator = GcsEmulator(tmp_path / "root", project=PROJECT).start()
    try:
        emulator.create_bucket("kept")
        endpoint = emulator.endpoint
        client = client_for(endpoint)
        client.bucket("kept").blob("trips/part-0.parquet").upload_from_string(b"PAR1")

        emulator.stop()
        assert not emulator.is_running()
        emulator.start()

        assert emulator.endpoint == endpoint  # the same port, so clients made before the restart still work
        assert [blob.name for blob in client.list_blobs("kept")] == ["trips/part-0.parquet"]
        assert client.bucket("kept").blob("trips/part-0.parquet").download_as_bytes() == b"PAR1"
    finally:
        emulator.stop()


def test_a_write_to_a_stopped_emulator_fails_and_succeeds_after_restart(tmp_path: Path) -> None:
    emulator = GcsEmulator(tmp_path / "root", project=PROJECT).start()
    try:
        emulator.create_bucket("flaky")
        client = client_for(emulator.endpoint)
        blob = client.bucket("flaky").blob("month.parquet")
        blob.upload_from_string(b"before", retry=None)

        emulator.kill()  # like a crash in the middle of a pipeline
        with pytest.raises(requests.exceptions.ConnectionError):
            blob.upload_from_string(b"during", retry=None)
        filesystem = emulator.arrow_filesystem(retry_time_limit=timedelta(seconds=0.5))
        with pytest.raises(OSError, match="UNAVAILABLE"), filesystem.open_output_stream("flaky/other") as stream:
            stream.write(b"during")

        emulator.start()
        assert blob.download_as_bytes() == b"before"
        blob.upload_from_string(b"after", retry=None)
        assert blob.download_as_bytes() == b"after"
    finally:
        emulator.stop()


def test_command_line_serves_until_terminated(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "devstack.gcs_emulator", "--root", str(tmp_path / "root"), "--bucket", "cli-bucket",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]) as process:
        try:
            banner = process.stdout.readline()
            exports = dict(
                process.stdout.readline().removeprefix("export ").strip().split("=", 1) for _ in range(3)
            )
            assert banner.startswith("# fake-gcs-server on http://127.0.0.1:")
            endpoint = exports["STORAGE_EMULATOR_HOST"].strip("'")
            client = client_for(endpoint)
            assert [bucket.name for bucket in client.list_buckets()] == ["cli-bucket"]
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{endpoint}/storage/v1/b", timeout=2)
    assert (tmp_path / "root" / "cli-bucket").is_dir()
