"""Write a deterministic month of trips as the TLC publishes it: `<service>_tripdata_YYYY-MM.parquet`, with the
column names and Arrow types of the month's era, written a row group at a time.

The types per era are those the TLC's files have (docs/parquet-eras.md says where each is from): until 2023-01 the
taxis' integer codes are doubles or int64 and strings `string`; from 2023-02 int32 ids, int64 counts and
`large_string`; some columns are wholly `null` in some months (fhv's SR_Flag until 2023-01, green's ehail_fee from
2019-09). Only 2009 of the two oldest yellow eras has types we could confirm; 2010 is not generated.
"""

from __future__ import annotations

import argparse
import calendar
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# pyarrow's default, and the largest group a reader holds at once.
ROW_GROUP_ROWS = 1 << 20
_I32, _I64, _F64, _S, _LS, _TS, _NULL = (pa.int32(), pa.int64(), pa.float64(), pa.string(), pa.large_string(),
                                        pa.timestamp("us"), pa.null())

_YELLOW_2009 = (
    ("vendor_name", _S), ("Trip_Pickup_DateTime", _S), ("Trip_Dropoff_DateTime", _S), ("Passenger_Count", _I64),
    ("Trip_Distance", _F64), ("Start_Lon", _F64), ("Start_Lat", _F64), ("Rate_Code", _F64),
    ("store_and_forward", _F64), ("End_Lon", _F64), ("End_Lat", _F64), ("Payment_Type", _S), ("Fare_Amt", _F64),
    ("surcharge", _F64), ("mta_tax", _F64), ("Tip_Amt", _F64), ("Tolls_Amt", _F64), ("Total_Amt", _F64),
)
_MONEY = ("fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
          "congestion_surcharge")


def _yellow(after_2023_01: bool, cbd: bool) -> tuple:
    integer_code, small_int, location, text = (_I64, _I64, _I32, _LS) if after_2023_01 else (_F64, _F64, _I64, _S)
    columns = [("VendorID", _I32 if after_2023_01 else _I64), ("tpep_pickup_datetime", _TS),
               ("tpep_dropoff_datetime", _TS), ("passenger_count", small_int), ("trip_distance", _F64),
               ("RatecodeID", integer_code), ("store_and_fwd_flag", text), ("PULocationID", location),
               ("DOLocationID", location), ("payment_type", _I64),
               *((name, _F64) for name in _MONEY), ("Airport_fee" if after_2023_01 else "airport_fee", _F64)]
    return tuple(columns + ([("cbd_congestion_fee", _F64)] if cbd else []))


def _green(after_2023_01: bool, cbd: bool) -> tuple:
    code, location, text = (_I64, _I32, _LS) if after_2023_01 else (_F64, _I64, _S)
    columns = [("VendorID", _I32 if after_2023_01 else _I64), ("lpep_pickup_datetime", _TS),
               ("lpep_dropoff_datetime", _TS), ("store_and_fwd_flag", text), ("RatecodeID", code),
               ("PULocationID", location), ("DOLocationID", location), ("passenger_count", code),
               ("trip_distance", _F64), ("fare_amount", _F64), ("extra", _F64), ("mta_tax", _F64),
               ("tip_amount", _F64), ("tolls_amount", _F64), ("ehail_fee", _F64 if after_2023_01 else _NULL),
               ("improvement_surcharge", _F64), ("total_amount", _F64), ("payment_type", code),
               ("trip_type", code), ("congestion_surcharge", _F64)]
    return tuple(columns + ([("cbd_congestion_fee", _F64)] if cbd else []))


def _fhv(after_2023_01: bool) -> tuple:
    text, location = (_LS, _I64) if after_2023_01 else (_S, _F64)
    return (("dispatching_base_num", text), ("pickup_datetime", _TS), ("dropOff_datetime", _TS),
            ("PUlocationID", location), ("DOlocationID", location), ("SR_Flag", _I64 if after_2023_01 else _NULL),
            ("Affiliated_base_number", text))


def _fhvhv(after_2023_01: bool, cbd: bool) -> tuple:
    text, location = (_LS, _I32) if after_2023_01 else (_S, _I64)
    columns = [("hvfhs_license_num", text), ("dispatching_base_num", text), ("originating_base_num", text),
               ("request_datetime", _TS), ("on_scene_datetime", _TS), ("pickup_datetime", _TS),
               ("dropoff_datetime", _TS), ("PULocationID", location), ("DOLocationID", location),
               ("trip_miles", _F64), ("trip_time", _I64),
               *((name, _F64) for name in ("base_passenger_fare", "tolls", "bcf", "sales_tax", "congestion_surcharge",
                                           "airport_fee", "tips", "driver_pay")),
               *((name, text) for name in ("shared_request_flag", "shared_match_flag", "access_a_ride_flag",
                                           "wav_request_flag", "wav_match_flag"))]
    return tuple(columns + ([("cbd_congestion_fee", _F64)] if cbd else []))


def file_schema(service: str, year: int, month: int) -> pa.Schema:
    """The Arrow schema of the TLC's file for the month, as its era has it."""
    label = f"{year:04d}-{month:02d}"
    after, cbd = label >= "2023-02", label >= "2025-01"
    if service == "yellow":
        if label <= "2009-12":
            return pa.schema(_YELLOW_2009)
        if label <= "2010-12":
            raise ValueError("the 2010 yellow files' types are not confirmed here, so none is generated")
        return pa.schema(_yellow(after, cbd))
    if service == "green":
        return pa.schema(_green(after, cbd))
    if service == "fhv":
        return pa.schema(_fhv(after))
    if service == "fhvhv":
        return pa.schema(_fhvhv(after, cbd))
    raise ValueError(f"unknown service {service!r}")


def tlc_path(root: Path, service: str, year: int, month: int) -> Path:
    """`root/trip-data/<service>_tripdata_YYYY-MM.parquet`: the TLC's flat layout under its `trip-data` folder."""
    return Path(root) / "trip-data" / f"{service}_tripdata_{year:04d}-{month:02d}.parquet"


@dataclass(frozen=True)
class GeneratedParquetMonth:
    path: Path
    rows: int
    kept: int  # the trips the pipeline's rules keep, counted as they are generated
    schema: pa.Schema


def write_parquet_month(path: Path, service: str, year: int, month: int, rows: int, seed: int = 0,
                        row_group_rows: int = ROW_GROUP_ROWS, extra_columns: dict[str, pa.DataType] | None = None,
                        timestamp_unit: str = "us") -> GeneratedParquetMonth:
    """Write the month to `path` (atomically: a `.partial` renamed when whole). `extra_columns` adds columns a
    later file might bring; `timestamp_unit` writes the times in another unit (`ns`)."""
    schema = file_schema(service, year, month)
    for name, arrow_type in (extra_columns or {}).items():
        schema = schema.append(pa.field(name, arrow_type))
    if timestamp_unit != "us":
        schema = pa.schema([pa.field(f.name, pa.timestamp(timestamp_unit)) if pa.types.is_timestamp(f.type) else f
                            for f in schema])
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    kept = 0
    with pq.ParquetWriter(partial, schema, compression="snappy",
                          coerce_timestamps=None, allow_truncated_timestamps=False) as writer:
        done = 0
        while done < rows:
            count = min(row_group_rows, rows - done)
            table, group_kept = _row_group(rng, schema, service, year, month, count)
            writer.write_table(table, row_group_size=count)
            kept += group_kept
            done += count
    partial.replace(path)
    return GeneratedParquetMonth(path, rows, kept, schema)


def _row_group(rng, schema: pa.Schema, service: str, year: int, month: int, n: int) -> tuple[pa.Table, int]:
    start = int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp())
    days = calendar.monthrange(year, month)[1]
    pickup_s = start + rng.integers(0, days * 86_400, n)
    duration_s = rng.integers(60, 3_600, n)
    passengers = rng.choice(np.arange(0, 7), n, p=[0.02, 0.7, 0.14, 0.05, 0.03, 0.04, 0.02])
    distance = np.round(rng.exponential(3.0, n), 2)
    distance[rng.random(n) < 0.015] = 0.0
    locations = rng.integers(1, 266, n)
    values: dict[str, np.ndarray | list] = {}
    for field in schema:
        name, kind = field.name, field.type
        lower = name.lower()
        if pa.types.is_null(kind):
            values[name] = pa.nulls(n)
        elif pa.types.is_timestamp(kind) or lower.endswith("datetime"):
            if "drop" in lower:
                seconds = pickup_s + duration_s
            elif lower.startswith("request"):
                seconds = pickup_s - rng.integers(60, 600, n)
            elif lower.startswith("on_scene"):
                seconds = pickup_s - rng.integers(0, 60, n)
            else:
                seconds = pickup_s
            stamps = seconds.astype("datetime64[s]")
            if pa.types.is_timestamp(kind):
                values[name] = pa.array(stamps.astype(f"datetime64[{kind.unit}]"), kind)
            else:
                values[name] = pa.array(np.datetime_as_string(stamps, unit="s"), pa.string()).cast(kind)
                values[name] = pa.compute.replace_substring(values[name], "T", " ")
        elif lower in ("passenger_count",):
            values[name] = passengers
        elif lower in ("trip_distance", "trip_miles"):
            values[name] = distance
        elif "locationid" in lower:
            values[name] = rng.integers(1, 266, n) if "do" in lower[:2] else locations
        elif lower in ("vendorid",):
            values[name] = rng.choice([1, 2, 6, 7], n, p=[0.25, 0.7, 0.03, 0.02])
        elif lower == "vendor_name":
            values[name] = rng.choice(np.array(["VTS", "CMT", "DDS"]), n)
        elif lower == "payment_type" and pa.types.is_string(kind):
            values[name] = rng.choice(np.array(["CASH", "Credit", "No Charge"]), n)
        elif lower in ("ratecodeid", "rate_code", "payment_type", "trip_type"):
            values[name] = rng.integers(1, 6, n)
        elif lower in ("sr_flag",):
            values[name] = np.where(rng.random(n) < 0.03, 1, 0)
        elif lower in ("trip_time",):
            values[name] = duration_s
        elif lower in ("store_and_fwd_flag",) or lower.endswith("_flag"):
            values[name] = rng.choice(np.array(["N", "Y"]), n, p=[0.98, 0.02])
        elif lower in ("store_and_forward",):
            values[name] = rng.choice(np.array([0.0, 1.0]), n, p=[0.98, 0.02])
        elif "base_num" in lower or lower == "affiliated_base_number":
            values[name] = rng.choice(np.array([f"B{number:05d}" for number in range(2500, 2900, 7)]), n)
        elif lower == "hvfhs_license_num":
            values[name] = rng.choice(np.array(["HV0003", "HV0005"]), n, p=[0.72, 0.28])
        elif "lon" in lower:
            values[name] = np.round(-73.98 + rng.normal(0, 0.05, n), 6)
        elif "lat" in lower:
            values[name] = np.round(40.75 + rng.normal(0, 0.05, n), 6)
        elif pa.types.is_floating(kind):
            values[name] = np.round(rng.exponential(5.0, n), 2)
        elif pa.types.is_integer(kind):
            values[name] = rng.integers(0, 100, n)
        else:
            values[name] = rng.choice(np.array(["a", "b", "c"]), n)
    arrays = [pa.array(values[field.name]).cast(field.type) if not isinstance(values[field.name], pa.Array)
              else values[field.name].cast(field.type) for field in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    if service in ("yellow", "green"):
        kept = int(((passengers > 0) & (distance > 0)).sum())
    else:
        kept = n  # every generated FHV trip has a base and a pickup time
    return table, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="writes <root>/trip-data/<file>")
    parser.add_argument("--service", required=True, choices=("yellow", "green", "fhv", "fhvhv"))
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    year, month = map(int, args.month.split("-"))
    written = write_parquet_month(tlc_path(args.root, args.service, year, month), args.service, year, month,
                                  args.rows, seed=year * 100 + month)
    print(f"{written.path}: {written.rows:,} trips, {written.path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
