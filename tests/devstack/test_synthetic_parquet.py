"""Generated TLC months have each era's real column names and Arrow types, written a row group at a time."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from devstack.synthetic_parquet import file_schema, tlc_path, write_parquet_month


def types(service, year, month):
    return {field.name: str(field.type) for field in file_schema(service, year, month)}


def test_the_eras_names_and_types_are_the_tlcs():
    assert list(types("yellow", 2009, 1))[:3] == ["vendor_name", "Trip_Pickup_DateTime", "Trip_Dropoff_DateTime"]
    assert types("yellow", 2009, 1)["Trip_Pickup_DateTime"] == "string"
    old, new = types("yellow", 2022, 6), types("yellow", 2023, 2)
    assert (old["passenger_count"], new["passenger_count"]) == ("double", "int64")
    assert (old["VendorID"], new["VendorID"]) == ("int64", "int32")
    assert ("airport_fee" in old, "Airport_fee" in new) == (True, True)
    assert "cbd_congestion_fee" in types("yellow", 2025, 1) and "cbd_congestion_fee" not in new
    assert types("fhv", 2020, 1)["SR_Flag"] == "null" and types("green", 2020, 1)["ehail_fee"] == "null"
    assert len(types("fhvhv", 2019, 2)) == 24


def test_the_2010_yellow_types_are_not_guessed():
    with pytest.raises(ValueError, match="not confirmed"):
        file_schema("yellow", 2010, 5)


def test_a_month_is_written_in_row_groups_under_the_tlcs_layout(tmp_path):
    path = tlc_path(tmp_path, "fhvhv", 2021, 2)
    written = write_parquet_month(path, "fhvhv", 2021, 2, rows=2_500, row_group_rows=1_000,
                                  extra_columns={"new_fee": pa.float64()})
    assert path == tmp_path / "trip-data" / "fhvhv_tripdata_2021-02.parquet"
    metadata = pq.ParquetFile(path).metadata
    assert (metadata.num_rows, metadata.num_row_groups) == (2_500, 3)
    assert pq.read_schema(path).names[-1] == "new_fee" and written.schema == pq.read_schema(path)
