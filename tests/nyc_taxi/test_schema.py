import re
import subprocess
import sys

import pyarrow as pa
import pytest

from nyc_taxi.schema import (
    SOURCE_COLUMNS,
    STORED_TYPES,
    HeaderMismatch,
    Kind,
    arrow_schema,
    check_header,
    check_zone_header,
    loaded_column_names,
    pickup_date_column,
    snake_case,
)


@pytest.mark.parametrize(
    ("source", "loaded"),
    [
        ("VendorID", "vendor_id"),
        ("RatecodeID", "ratecode_id"),
        ("PULocationID", "pu_location_id"),
        ("DOLocationID", "do_location_id"),
        ("tpep_pickup_datetime", "tpep_pickup_datetime"),
    ],
)
def test_camel_case_columns_load_in_snake_case(source, loaded):
    assert snake_case(source) == loaded


def test_loaded_columns_end_with_the_pickup_date():
    assert loaded_column_names("yellow")[-1] == "tpep_pickup_date"
    assert loaded_column_names("green")[-1] == "lpep_pickup_date"
    assert loaded_column_names("fhv")[-1] == pickup_date_column("fhv") == "pickup_date"


def test_fhv_columns_load_under_the_names_the_other_colors_use():
    assert loaded_column_names("fhv") == [
        "dispatching_base_num", "pickup_datetime", "drop_off_datetime", "pu_location_id", "do_location_id",
        "sr_flag", "affiliated_base_number", "pickup_date",
    ]
    schema = arrow_schema("fhv")
    assert schema.field("pu_location_id").type == schema.field("sr_flag").type == pa.int64()
    assert schema.field("dispatching_base_num").type == pa.string()


def test_every_kind_has_a_type_in_every_store():
    assert set(STORED_TYPES) == set(Kind)


def test_the_arrow_schema_is_the_loaded_columns_in_arrow_types():
    schema = arrow_schema("yellow")
    assert schema.names == loaded_column_names("yellow")
    assert schema.field("passenger_count").type == pa.int64()
    assert schema.field("trip_distance").type == pa.float64()
    assert schema.field("tpep_pickup_datetime").type == pa.timestamp("us")
    assert schema.field("store_and_fwd_flag").type == pa.string()
    assert schema.field("tpep_pickup_date").type == pa.date32()


def test_importing_the_schema_costs_no_pyarrow():
    check = "import sys, nyc_taxi.schema; sys.exit('pyarrow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check]).returncode == 0


def test_an_older_file_may_lack_the_congestion_surcharge():
    header = [c.source_name for c in SOURCE_COLUMNS["yellow"] if c.source_name != "congestion_surcharge"]
    assert check_header("yellow", header, "f.csv.gz") == ["congestion_surcharge"]


def test_a_changed_header_lists_every_difference():
    header = [c.source_name for c in SOURCE_COLUMNS["yellow"]]
    header[header.index("VendorID")] = "vendor"
    header.append("airport_fee")
    with pytest.raises(HeaderMismatch) as caught:
        check_header("yellow", header, "yellow_tripdata_2021-01.csv.gz")
    message = str(caught.value)
    assert "yellow_tripdata_2021-01.csv.gz" in message
    assert "missing columns: VendorID" in message
    assert "unexpected columns: vendor, airport_fee" in message


def test_a_changed_fhv_header_names_the_columns():
    header = [c.source_name for c in SOURCE_COLUMNS["fhv"]]
    header[header.index("PUlocationID")] = "PULocationID"  # the spelling of the other colors
    with pytest.raises(HeaderMismatch, match=r"fhv taxi layout \(missing columns: PUlocationID; "
                                              r"unexpected columns: PULocationID\)"):
        check_header("fhv", header, "fhv_tripdata_2019-01.csv.gz")


def test_the_zone_lookup_header_is_checked_like_the_trips():
    check_zone_header(["LocationID", "Borough", "Zone", "service_zone"], "taxi_zone_lookup.csv")
    with pytest.raises(HeaderMismatch, match="zone lookup layout .missing columns: service_zone"):
        check_zone_header(["LocationID", "Borough", "Zone"], "taxi_zone_lookup.csv")


# --- The TLC's Parquet eras -----------------------------------------------------------------------------------------

from nyc_taxi.schema import ParquetSchemaRefused, parquet_eras, parquet_month_columns  # noqa: E402


def _loaded(service, label, file_columns):
    return {c.loaded_as: (c.source_name, c.new) for c in parquet_month_columns(service, label, file_columns, "f")}


def test_each_era_maps_its_names_to_the_tables_columns():
    y2009 = _loaded("yellow", "2009-06", {"Trip_Pickup_DateTime": "string", "Trip_Dropoff_DateTime": "string",
                                          "vendor_name": "string", "Payment_Type": "string"})
    assert y2009["tpep_pickup_datetime"] == ("Trip_Pickup_DateTime", False)
    assert y2009["payment_type_name"] == ("Payment_Type", False)  # words, not the later integer codes
    assert "vendor_id" not in y2009  # not a column of the era: NULL in the table for these months
    times = {"tpep_pickup_datetime": "timestamp[us]", "tpep_dropoff_datetime": "timestamp[us]"}
    assert _loaded("yellow", "2022-01", {**times, "airport_fee": "double"})["airport_fee"] == ("airport_fee", False)
    assert _loaded("yellow", "2023-02", {**times, "Airport_fee": "double"})["airport_fee"] == ("Airport_fee", False)
    assert _loaded("yellow", "2025-01", {**times, "cbd_congestion_fee": "double"})["cbd_congestion_fee"] == \
        ("cbd_congestion_fee", False)


def test_a_column_no_era_names_is_new_and_loads_under_its_snake_case_name():
    times = {"tpep_pickup_datetime": "timestamp[us]", "tpep_dropoff_datetime": "timestamp[us]"}
    assert _loaded("yellow", "2026-06", {**times, "request_source": "large_string"})["request_source"] == \
        ("request_source", True)
    assert "__index_level_0__" not in _loaded("yellow", "2011-01", {**times, "__index_level_0__": "int64"})


@pytest.mark.parametrize("file_columns, problem", [
    ({"tpep_pickup_datetime": "timestamp[us]", "tpep_dropoff_datetime": "timestamp[us]", "VendorID": "string"},
     "column VendorID is string, which is not a integer like vendor_id in the table: its meaning changed"),
    ({"tpep_pickup_datetime": "timestamp[us]"}, "required column tpep_dropoff_datetime is missing"),
    ({"tpep_pickup_datetime": "timestamp[us]", "tpep_dropoff_datetime": "timestamp[us]", "Extra_Fee": "null"},
     "new column Extra_Fee is null: no table type to add it with"),
    ({"tpep_pickup_datetime": "timestamp[us]", "tpep_dropoff_datetime": "timestamp[us]", "airport_fee": "double",
      "Airport_fee": "double"}, "new column airport_fee would load as airport_fee, which another column already fills"),
])
def test_a_month_whose_columns_changed_meaning_is_refused_naming_month_and_column(file_columns, problem):
    with pytest.raises(ParquetSchemaRefused, match=r"yellow_tripdata_2024-01.parquet \(yellow 2024-01\) refused: .*"
                                                   + re.escape(problem)):
        parquet_month_columns("yellow", "2024-01", file_columns, "yellow_tripdata_2024-01.parquet")


def test_the_eras_are_runs_of_months_with_the_same_columns():
    assert [(first, last) for first, last, _ in parquet_eras("yellow")] == [
        ("2009-01", "2009-12"), ("2010-01", "2010-12"), ("2011-01", "2023-01"), ("2023-02", "2024-12"),
        ("2025-01", None)]
    assert [(first, last) for first, last, _ in parquet_eras("fhvhv")] == [("2019-02", "2024-12"), ("2025-01", None)]
