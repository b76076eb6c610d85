"""The synthetic month has the release files' exact header, value shapes, null patterns and determinism."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime
from pathlib import Path

import pytest

from devstack.synthetic_month import HEADERS, main, release_path, write_month

YELLOW_HEADER = (
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,"
    "store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,"
    "tolls_amount,improvement_surcharge,total_amount,congestion_surcharge"
)
GREEN_HEADER = (
    "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID,PULocationID,"
    "DOLocationID,passenger_count,trip_distance,fare_amount,extra,mta_tax,tip_amount,tolls_amount,ehail_fee,"
    "improvement_surcharge,total_amount,payment_type,trip_type,congestion_surcharge"
)
FHV_HEADER = (
    "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,Affiliated_base_number"
)
VENDOR_SIDE = {
    "yellow": ["VendorID", "passenger_count", "RatecodeID", "store_and_fwd_flag", "payment_type", "congestion_surcharge"],
    "green": [
        "VendorID", "passenger_count", "RatecodeID", "store_and_fwd_flag", "payment_type", "trip_type",
        "congestion_surcharge",
    ],
}
MONEY = ["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge"]


def read_rows(path: Path) -> tuple[str, list[dict[str, str]]]:
    with gzip.open(path, "rt", newline="") as handle:
        text = handle.read()
    assert "\r" not in text
    header = text.split("\n", 1)[0]
    return header, list(csv.DictReader(text.splitlines()))


@pytest.fixture(scope="module")
def yellow(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, str]]]:
    path = write_month(tmp_path_factory.mktemp("yellow") / "y.csv.gz", "yellow", 2021, 1, rows=20_000, seed=7)
    return read_rows(path)


@pytest.fixture(scope="module")
def green(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, str]]]:
    path = write_month(tmp_path_factory.mktemp("green") / "g.csv.gz", "green", 2021, 1, rows=20_000, seed=7)
    return read_rows(path)


@pytest.fixture(scope="module")
def fhv(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, str]]]:
    path = write_month(tmp_path_factory.mktemp("fhv") / "f.csv.gz", "fhv", 2021, 1, rows=20_000, seed=7)
    return read_rows(path)


def test_headers_are_exact(yellow, green, fhv) -> None:
    assert yellow[0] == YELLOW_HEADER == ",".join(HEADERS["yellow"])
    assert green[0] == GREEN_HEADER == ",".join(HEADERS["green"])
    assert fhv[0] == FHV_HEADER == ",".join(HEADERS["fhv"])


def test_row_count_and_small_file(tmp_path: Path) -> None:
    path = write_month(tmp_path / "small.csv.gz", "yellow", 2021, 1, rows=2_000)
    header, rows = read_rows(path)
    assert len(rows) == 2_000
    assert all(len(row) == 18 and None not in row for row in rows)
    assert not list(tmp_path.glob("*.partial"))


def test_zero_rows_writes_only_the_header(tmp_path: Path) -> None:
    header, rows = read_rows(write_month(tmp_path / "empty.csv.gz", "green", 2021, 1, rows=0))
    assert header == GREEN_HEADER and rows == []


@pytest.mark.parametrize("color, share", [("yellow", 0.07), ("green", 0.45)])
def test_fhv_like_rows_have_all_vendor_side_columns_empty(color: str, share: float, yellow, green) -> None:
    rows = (yellow if color == "yellow" else green)[1]
    empty_vendor = [row for row in rows if row["VendorID"] == ""]
    assert abs(len(empty_vendor) / len(rows) - share) < 0.02
    for row in empty_vendor:
        assert all(row[column] == "" for column in VENDOR_SIDE[color])
    for row in rows:
        if row["VendorID"] != "":
            assert all(row[column] != "" for column in VENDOR_SIDE[color])


def test_value_shapes(yellow) -> None:
    rows = yellow[1]
    filled = [row for row in rows if row["VendorID"]]
    assert {row["VendorID"] for row in filled} == {"1", "2"}
    assert all(row[c].endswith(".0") for row in filled for c in ("passenger_count", "RatecodeID", "payment_type"))
    assert {row["store_and_fwd_flag"] for row in filled} <= {"N", "Y"}
    for row in rows:
        for column in ("PULocationID", "DOLocationID"):
            assert row[column].isdigit() and 1 <= int(row[column]) <= 265
        float(row["trip_distance"])
    assert any(row["trip_distance"].endswith("0") and "." in row["trip_distance"] for row in filled)  # "2.10"
    assert {row["improvement_surcharge"] for row in rows} == {"0.3"}
    assert "0.5" in {row["mta_tax"] for row in rows}
    assert any(row["fare_amount"].isdigit() for row in rows)  # "8", not "8.0"


def test_zero_passengers_and_zero_distances_are_present(yellow) -> None:
    rows = yellow[1]
    zero_passengers = sum(row["passenger_count"] == "0.0" for row in rows) / len(rows)
    zero_distance = sum(float(row["trip_distance"]) == 0 for row in rows) / len(rows)
    assert 0.01 < zero_passengers < 0.03
    assert 0.008 < zero_distance < 0.025


def test_times_and_totals(yellow) -> None:
    rows = yellow[1]
    inside = 0
    for row in rows:
        pickup = datetime.strptime(row["tpep_pickup_datetime"], "%Y-%m-%d %H:%M:%S")
        dropoff = datetime.strptime(row["tpep_dropoff_datetime"], "%Y-%m-%d %H:%M:%S")
        assert pickup <= dropoff
        inside += datetime(2021, 1, 1) <= pickup < datetime(2021, 2, 1)
        parts = sum(float(row[c]) for c in MONEY) + float(row["congestion_surcharge"] or 0)
        if row["congestion_surcharge"]:
            assert round(parts, 2) == float(row["total_amount"])
    assert inside >= len(rows) - 5


def test_green_specifics(green) -> None:
    rows = green[1]
    assert {row["ehail_fee"] for row in rows} == {""}
    assert {row["trip_type"] for row in rows} <= {"", "1.0", "2.0"}


def test_fhv_ids_are_floats_or_empty_and_sr_flag_mostly_empty(fhv) -> None:
    rows = fhv[1]
    for column, empty_share in (("PUlocationID", 0.20), ("DOlocationID", 0.12)):
        filled = [row[column] for row in rows if row[column]]
        assert abs(1 - len(filled) / len(rows) - empty_share) < 0.02
        assert all(value.endswith(".0") and 1 <= float(value) <= 265 for value in filled)
    assert {row["SR_Flag"] for row in rows} == {"", "1.0"}
    assert sum(row["SR_Flag"] == "" for row in rows) / len(rows) > 0.95
    assert all(row["dispatching_base_num"].startswith("B") and len(row["dispatching_base_num"]) == 6 for row in rows)
    assert 0 < sum(row["Affiliated_base_number"] == "" for row in rows) < len(rows) * 0.05
    not_after = sum(row["dropOff_datetime"] <= row["pickup_datetime"] for row in rows)
    assert 0 < not_after < len(rows) * 0.01


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = write_month(tmp_path / "a.csv.gz", "yellow", 2021, 3, rows=3_000, seed=1).read_bytes()
    again = write_month(tmp_path / "b.csv.gz", "yellow", 2021, 3, rows=3_000, seed=1).read_bytes()
    other = write_month(tmp_path / "c.csv.gz", "yellow", 2021, 3, rows=3_000, seed=2).read_bytes()
    assert first == again
    assert first != other


def test_release_path_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = tmp_path / "green" / "green_tripdata_2021-01.csv.gz"
    assert release_path(tmp_path, "green", 2021, 1) == expected
    argv = ["--color", "green", "--year", "2021", "--month", "1", "--rows", "500", "--out", str(tmp_path)]
    assert main(argv) == 0
    written = expected.read_bytes()
    assert main(argv) == 0
    assert "skipping" in capsys.readouterr().out
    assert expected.read_bytes() == written


def test_unknown_color_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown color"):
        write_month(tmp_path / "x.csv.gz", "blue", 2021, 1, rows=10)


def test_before_the_congestion_surcharge_began_its_column_is_there_and_empty(tmp_path):
    header, rows = read_rows(write_month(tmp_path / "y.csv.gz", "yellow", 2019, 1, rows=2_000))
    assert header == YELLOW_HEADER
    assert {row["congestion_surcharge"] for row in rows} == {""}
    _, february = read_rows(write_month(tmp_path / "f.csv.gz", "yellow", 2019, 2, rows=2_000))
    assert "2.5" in {row["congestion_surcharge"] for row in february}
