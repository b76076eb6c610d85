import datetime as dt
import threading

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from nyc_taxi.gcs import (
    MonthLayout,
    MonthNotInGcs,
    publish_month,
    read_manifest,
    upload_run_date_object,
    upload_to_staging,
    write_month_partitions,
)
from nyc_taxi.months import TaxiMonth

from tests.nyc_taxi.trip_files import cleaned_batches_of, cleaned_synthetic_month, read_cleaned

JANUARY = TaxiMonth("green", 2021, 1)
FEBRUARY = TaxiMonth("green", 2021, 2)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cleaned")
    months = ((JANUARY, 15_000), (FEBRUARY, 9_000))
    return {month: cleaned_synthetic_month(folder, month, rows)[0] for month, rows in months}


def batches(cleaned):
    return cleaned_batches_of(cleaned, 4_000)


def trips_per_day(cleaned, column="lpep_pickup_date"):
    counts = read_cleaned(cleaned, [column]).group_by(column).aggregate([([], "count_all")])
    return {str(day): rows for day, rows in zip(counts[column].to_pylist(), counts["count_all"].to_pylist())}


def read_back(layout, manifest, gcs):
    """The month as any reader of the bucket sees it: hive partitions under the color's prefix."""
    files = [entry["uri"].removeprefix("gs://") for entry in manifest["objects"]]
    dataset = ds.dataset(files, format="parquet", filesystem=gcs.arrow_filesystem(),
                         partitioning=ds.HivePartitioning.discover(), partition_base_dir=f"{layout.bucket}/{layout.color_prefix}")
    table = dataset.to_table()
    counts = table.group_by(layout.partition_column).aggregate([([], "count_all")])
    return table, {str(day): rows for day, rows in zip(counts[layout.partition_column].to_pylist(),
                                                        counts["count_all"].to_pylist())}


def test_a_month_lands_partitioned_by_pickup_date_with_a_manifest(cleaned, bucket, gcs_client, write, gcp):
    layout = MonthLayout(bucket, "nyc_taxi", JANUARY)
    manifest = write(cleaned[JANUARY], layout)
    assert manifest["rows"] == read_cleaned(cleaned[JANUARY]).num_rows
    assert read_manifest(gcs_client, layout) == manifest
    table, per_day = read_back(layout, manifest, gcp)
    assert per_day == trips_per_day(cleaned[JANUARY])
    assert all(uri.startswith(f"gs://{bucket}/nyc_taxi/green/lpep_pickup_date=") for uri in
               (entry["uri"] for entry in manifest["objects"]))
    assert str(table.schema.field("lpep_pickup_datetime").type) == "timestamp[us]"
    assert str(table.schema.field("vendor_id").type) == "int64"
    assert list(gcs_client.list_blobs(bucket, prefix="nyc_taxi/_staging/")) == []


def test_rewriting_a_month_leaves_identical_objects_and_other_months_alone(cleaned, bucket, gcs_client, write, gcp):
    january, february = MonthLayout(bucket, "nyc_taxi", JANUARY), MonthLayout(bucket, "nyc_taxi", FEBRUARY)
    write(cleaned[JANUARY], january)
    before = {blob.name: blob.md5_hash for blob in gcs_client.bucket(bucket).list_blobs()}
    write(cleaned[JANUARY], january, run_id="run_2")
    after = {blob.name: blob.md5_hash for blob in gcs_client.bucket(bucket).list_blobs()}
    assert after == before

    write(cleaned[FEBRUARY], february)
    assert read_back(january, read_manifest(gcs_client, january), gcp)[1] == trips_per_day(cleaned[JANUARY])
    assert read_back(february, read_manifest(gcs_client, february), gcp)[1] == trips_per_day(cleaned[FEBRUARY])


def test_objects_a_month_no_longer_produces_are_removed(cleaned, bucket, gcs_client, write, gcp):
    layout = MonthLayout(bucket, "nyc_taxi", JANUARY)
    write(cleaned[JANUARY], layout)
    first_week = read_cleaned(cleaned[JANUARY]).filter(
        pc.less(pc.field("lpep_pickup_date"), dt.date(2021, 1, 8))).to_batches(max_chunksize=4_000)
    manifest = write(None, layout, run_id="run_2", batch_source=iter(first_week))
    remaining = [blob.name for blob in gcs_client.list_blobs(bucket, prefix="nyc_taxi/green/lpep_pickup_date=")]
    assert sorted(remaining) == sorted(entry["uri"].removeprefix(f"gs://{bucket}/") for entry in manifest["objects"])
    assert max(read_back(layout, manifest, gcp)[1]) < "2021-01-08"


def test_a_publish_cut_off_midway_hides_the_month_until_the_next_write(cleaned, bucket, gcs_client, gcp, write, tmp_path):
    layout = MonthLayout(bucket, "nyc_taxi", JANUARY)
    local_dir = tmp_path / "run_2"
    complete = write(cleaned[JANUARY], layout)
    written = write_month_partitions(batches(cleaned[JANUARY]), JANUARY, local_dir)
    staged = upload_to_staging(gcs_client, layout, local_dir, written, "run_2")

    class GcsGoesDownMidCopy:
        """The storage client, with the emulator stopped after a few objects are copied into place.

        Its copies run one at a time, so the stop never lands inside a request: fake-gcs-server, unlike GCS,
        leaves a half-written temporary file when stopped mid-write, and listing the bucket then fails.
        """

        copies = 0
        one_request_at_a_time = threading.Lock()

        def __getattr__(self, name):
            return getattr(gcs_client, name)

        def bucket(self, name):
            real = gcs_client.bucket(name)
            client = self

            class Bucket:
                def __getattr__(self, attribute):
                    return getattr(real, attribute)

                def copy_blob(self, *args, **kwargs):
                    with client.one_request_at_a_time:
                        client.copies += 1
                        if client.copies == 5:
                            gcp.stop()
                        return real.copy_blob(*args, **kwargs)

            return Bucket()

    try:
        with pytest.raises(Exception):
            publish_month(GcsGoesDownMidCopy(), layout, staged)
    finally:
        gcp.start()
    with pytest.raises(MonthNotInGcs, match="the last write failed halfway"):
        read_manifest(gcs_client, layout)
    rewritten = write(cleaned[JANUARY], layout, run_id="run_3")
    assert rewritten.pop("generation") > complete.pop("generation")
    assert rewritten == complete


def test_a_month_never_written_completely_cannot_be_read(bucket, gcs_client):
    with pytest.raises(MonthNotInGcs, match="green 2021-02 has no complete write in gs://.*/nyc_taxi/green"):
        read_manifest(gcs_client, MonthLayout(bucket, "nyc_taxi", FEBRUARY))


def test_the_run_date_object_holds_the_whole_month(cleaned, bucket, gcs_client, gcp, tmp_path):
    layout = MonthLayout(bucket, "nyc_taxi", JANUARY)
    uri, rows = upload_run_date_object(gcs_client, batches(cleaned[JANUARY]), layout, tmp_path / "daily.parquet",
                                       dt.date(2021, 2, 1))
    assert uri == f"gs://{bucket}/nyc_taxi/green/by_run_date/2021/02/01/daily-trips.parquet"
    assert pq.read_table(uri.removeprefix("gs://"), filesystem=gcp.arrow_filesystem()).num_rows == rows
    assert rows == read_cleaned(cleaned[JANUARY]).num_rows


def test_a_tlc_parquet_month_is_partitioned_by_pickup_date_with_its_own_columns(tmp_path):
    """The TLC's 2025 file has cbd_congestion_fee, which the release's schema lacks: the partitions keep it."""
    from devstack.synthetic_parquet import write_parquet_month
    from nyc_taxi.transform import cleaned_batches, transform_month_file

    source = tmp_path / "yellow_tripdata_2025-02.parquet"
    written = write_parquet_month(source, "yellow", 2025, 2, 3_000, row_group_rows=1_000)
    staged = tmp_path / "yellow_tripdata_2025-02.arrow"
    stats = transform_month_file(source, "yellow", staged)
    assert stats.rows_kept == written.kept
    partitions = write_month_partitions(cleaned_batches(staged), TaxiMonth("yellow", 2025, 2), tmp_path / "out")
    assert sum(info["rows"] for info in partitions.values()) == written.kept
    assert {info["pickup_date"][:7] for info in partitions.values()} == {"2025-02"}
    table = ds.dataset(tmp_path / "out", format="parquet", partitioning="hive").to_table()
    assert "cbd_congestion_fee" in table.column_names and table.num_rows == written.kept
