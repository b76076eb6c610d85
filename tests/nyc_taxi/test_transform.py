import datetime as dt

import pytest

from nyc_taxi.schema import HeaderMismatch, SOURCE_COLUMNS, arrow_schema, loaded_column_names
from nyc_taxi.transform import TransformError, transform_month_file

from tests.nyc_taxi.trip_files import read_cleaned, trip


def clean(path, color, tmp_path):
    destination = tmp_path / "cleaned.arrow"
    stats = transform_month_file(path, color, destination)
    return stats, read_cleaned(destination)


@pytest.mark.parametrize("color", ["yellow", "green"])
def test_a_typical_trip_loads_typed_and_renamed(color, write_trips, tmp_path):
    stats, table = clean(write_trips(color, [trip(color)]), color, tmp_path)
    assert stats.rows_read == stats.rows_kept == 1
    assert table.schema == arrow_schema(color)
    assert table.column_names == loaded_column_names(color)
    row = table.to_pylist()[0]
    assert row["vendor_id"] in (1, 2) and isinstance(row["passenger_count"], int)
    assert row[f"{'tpep' if color == 'yellow' else 'lpep'}_pickup_date"] == dt.date(2021, 1, 1)


def test_trips_without_passengers_or_distance_are_dropped_and_counted(write_trips, tmp_path):
    trips = [
        trip("yellow"),
        trip("yellow", passenger_count="0.0"),
        trip("yellow", passenger_count=""),
        trip("yellow", trip_distance="0"),
        trip("yellow", passenger_count="0", trip_distance="0"),
    ]
    stats, table = clean(write_trips("yellow", trips), "yellow", tmp_path)
    assert stats.rows_read == 5
    assert stats.rows_kept == table.num_rows == 1
    # A trip breaking both rules counts against the first.
    assert stats.dropped == {"passenger_count > 0": 3, "trip_distance > 0": 1}


def test_an_fhv_trip_loads_its_float_and_empty_ids_as_nullable_integers(write_trips, tmp_path):
    trips = [trip("fhv"), trip("fhv", PUlocationID="1.0", DOlocationID="", SR_Flag="1.0", Affiliated_base_number="")]
    stats, table = clean(write_trips("fhv", trips), "fhv", tmp_path)
    assert stats.rows_read == stats.rows_kept == 2
    assert table.schema == arrow_schema("fhv")
    assert table.to_pylist() == [
        {"dispatching_base_num": "B00037", "pickup_datetime": dt.datetime(2021, 1, 1, 0, 13, 9),
         "drop_off_datetime": dt.datetime(2021, 1, 1, 0, 21, 26), "pu_location_id": None, "do_location_id": 72,
         "sr_flag": None, "affiliated_base_number": "B00037", "pickup_date": dt.date(2021, 1, 1)},
        {"dispatching_base_num": "B00037", "pickup_datetime": dt.datetime(2021, 1, 1, 0, 13, 9),
         "drop_off_datetime": dt.datetime(2021, 1, 1, 0, 21, 26), "pu_location_id": 1, "do_location_id": None,
         "sr_flag": 1, "affiliated_base_number": None, "pickup_date": dt.date(2021, 1, 1)},
    ]


def test_fhv_drops_trips_without_base_or_pickup_and_counts_odd_times_it_keeps(write_trips, tmp_path):
    trips = [
        trip("fhv"),
        trip("fhv", dispatching_base_num=""),
        trip("fhv", pickup_datetime=""),
        trip("fhv", dropOff_datetime="2021-01-01 00:13:09"),  # not after the pickup
        trip("fhv", dropOff_datetime=""),
        trip("fhv", pickup_datetime="2008-12-31 23:59:00"),
    ]
    stats, table = clean(write_trips("fhv", trips), "fhv", tmp_path)
    assert (stats.rows_read, stats.rows_kept, table.num_rows) == (6, 4, 4)
    assert stats.dropped == {"dispatching_base_num is present": 1, "pickup_datetime is present": 1}
    assert stats.flagged == {"drop_off_datetime > pickup_datetime": 2, "pickup_datetime in 2019-01..2021-07": 1}


def test_yellow_flags_nothing(write_trips, tmp_path):
    stats, _ = clean(write_trips("yellow", [trip("yellow")]), "yellow", tmp_path)
    assert stats.flagged == {}


def test_empty_integer_fields_stay_null_integers(write_trips, tmp_path):
    fhv_like = trip("green", VendorID="", RatecodeID="", payment_type="", trip_type="", passenger_count="1")
    _, table = clean(write_trips("green", [fhv_like, trip("green")]), "green", tmp_path)
    assert table.column("vendor_id").to_pylist() == [None, 2]
    assert str(table.schema.field("vendor_id").type) == "int64"
    assert table.column("trip_type").to_pylist() == [None, 1]


def test_integers_written_as_floats_load_as_integers(write_trips, tmp_path):
    _, table = clean(write_trips("yellow", [trip("yellow", passenger_count="3.0", RatecodeID="5")]), "yellow", tmp_path)
    assert table.column("passenger_count").to_pylist() == [3]
    assert table.column("ratecode_id").to_pylist() == [5]


def test_crlf_line_ends_load(write_trips, tmp_path):
    stats, table = clean(write_trips("yellow", [trip("yellow")] * 3, line_end="\r\n"), "yellow", tmp_path)
    assert table.num_rows == 3
    assert table.column("congestion_surcharge").to_pylist() == [2.5] * 3


def test_a_file_without_congestion_surcharge_loads_it_as_null(write_trips, tmp_path):
    header = [c.source_name for c in SOURCE_COLUMNS["yellow"] if c.source_name != "congestion_surcharge"]
    _, table = clean(write_trips("yellow", [trip("yellow")], header=header), "yellow", tmp_path)
    assert table.column("congestion_surcharge").to_pylist() == [None]


def test_a_non_numeric_value_names_file_column_line_and_value(write_trips, tmp_path):
    trips = [trip("yellow")] * 5 + [trip("yellow", trip_distance="2,1".replace(",", ";"))]
    with pytest.raises(TransformError, match=r"yellow_tripdata_2021-01.csv.gz: column trip_distance .* '2;1' on line 7"):
        clean(write_trips("yellow", trips), "yellow", tmp_path)


def test_a_fractional_integer_names_its_line(write_trips, tmp_path):
    trips = [trip("yellow"), trip("yellow", passenger_count="1.5")]
    with pytest.raises(TransformError, match="column passenger_count holds integers, but line 3 has 1.5"):
        clean(write_trips("yellow", trips), "yellow", tmp_path)


def test_a_bad_timestamp_names_its_line(write_trips, tmp_path):
    trips = [trip("yellow", tpep_pickup_datetime="yesterday")]
    with pytest.raises(TransformError, match="tpep_pickup_datetime .* 'yesterday' on line 2"):
        clean(write_trips("yellow", trips), "yellow", tmp_path)


def test_a_changed_header_fails_before_anything_is_written(write_trips, tmp_path):
    header = [c.source_name for c in SOURCE_COLUMNS["yellow"]][:-2] + ["total", "congestion_surcharge"]
    with pytest.raises(HeaderMismatch, match="missing columns: total_amount; unexpected columns: total"):
        clean(write_trips("yellow", [trip("yellow")], header=header), "yellow", tmp_path)
    assert list(tmp_path.glob("cleaned*")) == []


def test_a_failure_mid_file_leaves_no_staging_file(write_trips, tmp_path, monkeypatch):
    monkeypatch.setattr("nyc_taxi.transform.CSV_BLOCK_BYTES", 4096)
    trips = [trip("yellow")] * 2000 + [trip("yellow", fare_amount="n/a")]
    with pytest.raises(TransformError, match="line 2002"):
        clean(write_trips("yellow", trips), "yellow", tmp_path)
    assert list(tmp_path.glob("cleaned*")) == []


# --- The TLC's Parquet files ----------------------------------------------------------------------------------------

import itertools  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.compute  # noqa: E402, F401
import pyarrow.parquet as pq  # noqa: E402

from devstack.synthetic_parquet import write_parquet_month  # noqa: E402
from nyc_taxi.schema import pickup_date_column  # noqa: E402
from nyc_taxi.transform import (  # noqa: E402
    PARQUET_BATCH_ROWS,
    TransformStats,
    clean_month_batches,
    read_parquet_batches,
)


def _parquet(tmp_path, service, year, month, rows=3_000, **kwargs):
    path = tmp_path / f"{service}_tripdata_{year:04d}-{month:02d}.parquet"
    return write_parquet_month(path, service, year, month, rows, row_group_rows=1_000, **kwargs)


@pytest.mark.parametrize("service, year, month", [
    ("yellow", 2009, 5), ("yellow", 2022, 1), ("yellow", 2023, 2), ("yellow", 2025, 1), ("green", 2019, 9),
    ("green", 2024, 4), ("fhv", 2019, 3), ("fhv", 2023, 6), ("fhvhv", 2019, 2), ("fhvhv", 2025, 1),
])
def test_each_eras_file_loads_as_the_tables_types_and_keeps_what_the_rules_keep(tmp_path, service, year, month):
    written = _parquet(tmp_path, service, year, month)
    stats = TransformStats.for_color(service)
    batches = list(clean_month_batches(written.path, service, stats))
    assert stats.rows_read == written.rows and stats.rows_kept == written.kept
    types = {str(field.type) for batch in batches for field in batch.schema}
    assert types <= {"int64", "double", "timestamp[us]", "string", "date32[day]"}
    assert pickup_date_column(service) in batches[0].schema.names


def test_a_column_already_of_the_tables_type_is_passed_on_unconverted(tmp_path):
    written = _parquet(tmp_path, "yellow", 2022, 3)
    raw = next(pq.ParquetFile(written.path).iter_batches(batch_size=PARQUET_BATCH_ROWS))
    [batch] = list(itertools.islice(read_parquet_batches(written.path, "yellow"), 1))
    # The double column is handed on as read: the same values, of the same type, no cast in between.
    assert batch["fare_amount"].type == raw["fare_amount"].type == pa.float64()
    assert batch["fare_amount"].equals(raw["fare_amount"])
    assert batch["passenger_count"].type == pa.int64()  # a double in this era: made an integer, checked whole


def test_a_file_is_read_in_batches_of_bounded_rows_never_whole(tmp_path, monkeypatch):
    import nyc_taxi.transform

    written = _parquet(tmp_path, "fhvhv", 2021, 6, rows=5_000)
    assert pq.ParquetFile(written.path).metadata.num_row_groups == 5
    monkeypatch.setattr(nyc_taxi.transform, "PARQUET_BATCH_ROWS", 700)
    sizes = [batch.num_rows for batch in read_parquet_batches(written.path, "fhvhv")]
    assert sum(sizes) == 5_000 and max(sizes) == 700 and len(sizes) == 8


def test_nanosecond_times_load_as_microseconds_and_a_fraction_of_one_is_refused(tmp_path):
    written = _parquet(tmp_path, "green", 2021, 2, timestamp_unit="ns")
    batch = next(read_parquet_batches(written.path, "green"))
    assert batch["lpep_pickup_datetime"].type == pa.timestamp("us")
    table = pq.read_table(written.path)
    odd = table.set_column(1, "lpep_pickup_datetime",
                           pa.compute.add(table["lpep_pickup_datetime"], pa.scalar(1, pa.duration("ns"))))
    pq.write_table(odd, written.path)
    with pytest.raises(TransformError, match="column lpep_pickup_datetime .* does not convert to timestamp without "
                                             "loss"):
        list(read_parquet_batches(written.path, "green"))


def test_a_double_that_is_not_whole_in_an_integer_column_is_refused_naming_its_row(tmp_path):
    written = _parquet(tmp_path, "yellow", 2021, 5)
    table = pq.read_table(written.path)
    counts = table["passenger_count"].to_pylist()
    counts[1_500] = 1.5
    pq.write_table(table.set_column(3, "passenger_count", pa.array(counts, pa.float64())), written.path)
    with pytest.raises(TransformError, match="column passenger_count holds integers, but row 1,501 has 1.5"):
        list(read_parquet_batches(written.path, "yellow"))


def test_2009s_times_written_as_text_are_parsed(tmp_path):
    written = _parquet(tmp_path, "yellow", 2009, 1)
    batch = next(read_parquet_batches(written.path, "yellow"))
    raw = next(pq.ParquetFile(written.path).iter_batches(batch_size=10, columns=["Trip_Pickup_DateTime"]))
    assert batch["tpep_pickup_datetime"][0].as_py() == dt.datetime.fromisoformat(raw[0][0].as_py())


def test_a_new_column_is_kept_under_its_snake_case_name(tmp_path):
    written = _parquet(tmp_path, "yellow", 2026, 6, extra_columns={"request_source": pa.large_string()})
    batch = next(read_parquet_batches(written.path, "yellow"))
    assert batch.schema.field("request_source").type == pa.string()
