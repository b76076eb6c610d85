import json

import pytest

from nyc_taxi.staging import StagedMonth, open_input, open_output, remove, staging_root, url_of
from nyc_taxi.transform import TransformStats, cleaned_batches, transform_month_file
from tests.nyc_taxi.trip_files import trip


def write_and_fail(path):
    with pytest.raises(RuntimeError, match="the task died"), open_output(path) as out:
        out.write(b"half a month")
        raise RuntimeError("the task died")


def test_a_local_file_appears_only_once_written_whole(tmp_path):
    path = staging_root((tmp_path / "staging").as_uri()) / "dag" / "2021-01" / "run" / "trips.csv.gz"
    write_and_fail(path)
    assert list(tmp_path.rglob("*.csv.gz*")) == []

    with open_output(path) as out:
        out.write(b"a whole month")
    with open_input(staging_root(url_of(path))) as staged:
        assert staged.read() == b"a whole month"
    remove(path.parent)
    assert not (tmp_path / "staging" / "dag" / "2021-01" / "run").exists()
    remove(path.parent)  # gone already: nothing to do


@pytest.fixture
def bucket_staging(gcp):
    gcp.create_bucket("staging-tests")
    return staging_root("gs://staging-tests/_staging")


def object_names(root) -> list[str]:
    return sorted(root.fs.find(root.path))


def test_an_object_appears_only_once_written_whole(bucket_staging):
    path = bucket_staging / "dag" / "2021-01" / "run" / "trips.csv.gz"
    write_and_fail(path)
    assert object_names(path.parent) == []

    with open_output(path) as out:
        out.write(b"a whole month")
    assert url_of(path) == "gs://staging-tests/_staging/dag/2021-01/run/trips.csv.gz"
    with open_input(staging_root(url_of(path))) as staged:
        assert staged.read() == b"a whole month"


def test_a_month_is_cleaned_from_and_to_a_bucket_and_removed_whole(bucket_staging, write_trips):
    """The transform streams from the staged download to the staged cleaned file, both objects."""
    local_csv = write_trips("yellow", [trip("yellow")] * 900 + [trip("yellow", passenger_count="0")] * 100)
    run = bucket_staging / "yellow_taxi_to_postgres" / "2021-01" / "scheduled__2021-01"
    staged_csv = run / local_csv.name
    with open_output(staged_csv) as out:
        out.write(local_csv.read_bytes())
    cleaned = run / "yellow_tripdata_2021-01.arrow"

    stats = transform_month_file(staged_csv, "yellow", cleaned)

    assert sum(batch.num_rows for batch in cleaned_batches(staging_root(url_of(cleaned)))) == stats.rows_kept == 900
    assert len(object_names(run)) == 2
    remove(run)
    assert object_names(run) == []


def test_the_record_travels_as_plain_json_and_refuses_keys_it_does_not_know():
    stats = TransformStats.for_color("yellow")
    stats.rows_read, stats.rows_kept, stats.seconds = 10, 9, 0.5
    stats.dropped["passenger_count > 0"] = 1
    downloaded = StagedMonth(color="yellow", month="2021-01", source_url="http://source/y.csv.gz",
                             download_url="gs://b/_staging/y.csv.gz", bytes_downloaded=100, extract_seconds=0.1)
    cleaned = downloaded.cleaned("gs://b/_staging/y.arrow", stats)

    assert StagedMonth.from_xcom(json.loads(json.dumps(cleaned.as_xcom()))) == cleaned
    assert (cleaned.rows_kept, cleaned.rows_dropped, cleaned.taxi_month.label) == (9, {"passenger_count > 0": 1, "trip_distance > 0": 0},
                                                                                 "2021-01")
    with pytest.raises(ValueError, match=r"unknown keys \['csv_path'\]"):
        StagedMonth.from_xcom({**downloaded.as_xcom(), "csv_path": "/tmp/y.csv.gz"})
