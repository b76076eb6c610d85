"""Write a realistic, deterministic month of NYC taxi or for-hire-vehicle trips as a gzip CSV in the exact format
of the DataTalksClub `nyc-tlc-data` release files (`<color>/<color>_tripdata_YYYY-MM.csv.gz`)."""

from __future__ import annotations

import argparse
import calendar
import gzip
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADERS: dict[str, tuple[str, ...]] = {
    "yellow": (
        "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count", "trip_distance",
        "RatecodeID", "store_and_fwd_flag", "PULocationID", "DOLocationID", "payment_type", "fare_amount",
        "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
        "congestion_surcharge",
    ),
    "green": (
        "VendorID", "lpep_pickup_datetime", "lpep_dropoff_datetime", "store_and_fwd_flag", "RatecodeID",
        "PULocationID", "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra", "mta_tax",
        "tip_amount", "tolls_amount", "ehail_fee", "improvement_surcharge", "total_amount", "payment_type",
        "trip_type", "congestion_surcharge",
    ),
    "fhv": (
        "dispatching_base_num", "pickup_datetime", "dropOff_datetime", "PUlocationID", "DOlocationID", "SR_Flag",
        "Affiliated_base_number",
    ),
}

CHUNK_ROWS = 200_000
GZIP_LEVEL = 6

# Share of rows whose vendor-side columns are all empty, like the "FHV-like" rows of the real files.
FHV_LIKE_SHARE = {"yellow": 0.07, "green": 0.45}
ZERO_PASSENGER_SHARE = 0.02
ZERO_DISTANCE_SHARE = 0.015
OUTSIDE_MONTH_SHARE = 1e-5
# New York's congestion surcharge began on 2019-02-01: the release's January 2019 files have the column, empty.
CONGESTION_SURCHARGE_FROM = (2019, 2)

_COLOR_CODE = {"yellow": 1, "green": 2, "fhv": 3}
_LOCATION_IDS = np.arange(1, 266)
# Trips per hour of day, 00h..23h: quiet nights, a morning rise, an evening peak.
_HOUR_WEIGHTS = np.array(
    [3.0, 2.2, 1.6, 1.1, 0.9, 1.0, 2.0, 3.6, 4.6, 4.8, 4.7, 4.9,
     5.2, 5.3, 5.6, 5.7, 5.6, 6.2, 6.8, 6.6, 5.9, 5.5, 5.0, 4.0]
)
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()

# Text of small categorical codes; index 0 is the empty cell.
_FLOAT_CODE_TEXT = pa.array(["", *(f"{code}.0" for code in range(0, 100))])
_INT_CODE_TEXT = pa.array(["", *(str(code) for code in range(0, 100))])
_LOCATION_TEXT = pa.array([str(location) for location in _LOCATION_IDS])
_FLAG_TEXT = pa.array(["", "N", "Y"])

# FHV: the release writes its location ids and SR_Flag as floats (`72.0`), since they are often empty.
FHV_EMPTY_PICKUP_LOCATION_SHARE = 0.20
FHV_EMPTY_DROPOFF_LOCATION_SHARE = 0.12
FHV_SHARED_RIDE_SHARE = 0.03  # SR_Flag 1.0; empty otherwise
FHV_OTHER_AFFILIATE_SHARE = 0.08
FHV_EMPTY_AFFILIATE_SHARE = 0.03
FHV_DROPOFF_NOT_AFTER_PICKUP_SHARE = 0.002
FHV_WHOLE_MINUTE_SHARE = 0.6  # bases that report minutes only: `2021-01-01 00:27:00`
_FHV_LOCATION_TEXT = pa.array(["", *(f"{location}.0" for location in _LOCATION_IDS)])
_FHV_BASES = pa.array([f"B{number:05d}" for number in range(1, 3_400, 11)])
_FHV_SR_FLAG_TEXT = pa.array(["", "1.0"])


def release_path(root: Path, color: str, year: int, month: int) -> Path:
    """`root/<color>/<color>_tripdata_YYYY-MM.csv.gz`, the release's layout."""
    return Path(root) / color / f"{color}_tripdata_{year:04d}-{month:02d}.csv.gz"


def write_month(path: Path, color: str, year: int, month: int, rows: int, seed: int = 0) -> Path:
    """Write `rows` synthetic trips of `color` for `year`-`month` to the gzip CSV `path`; same seed, same bytes.

    The file is written under a temporary name and renamed when complete.
    """
    return generate_month(path, color, year, month, rows, seed).path


@dataclass(frozen=True)
class GeneratedMonth:
    """A month written by `generate_month`: its file, its rows, and how many of them the pipeline's rules keep,
    counted from the generated values, not by reading the file back."""

    path: Path
    rows: int
    kept: int


def generate_month(path: Path, color: str, year: int, month: int, rows: int, seed: int = 0) -> GeneratedMonth:
    """`write_month`, also returning the rows the rules keep: yellow and green trips with passengers and a
    distance, every FHV trip (each has a base and a pickup time)."""
    if color not in HEADERS:
        raise ValueError(f"unknown color {color!r}; expected one of {sorted(HEADERS)}")
    if rows < 0:
        raise ValueError("rows must be >= 0")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    rng = np.random.default_rng(np.random.SeedSequence([seed, year, month, _COLOR_CODE[color]]))
    location_p = _location_weights()
    kept = 0
    try:
        with open(partial, "wb") as raw:
            # filename="" and mtime=0 keep the gzip header free of names and times, so output is reproducible.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as out:
                out.write((",".join(HEADERS[color]) + "\n").encode())
                for start in range(0, rows, CHUNK_ROWS):
                    n = min(CHUNK_ROWS, rows - start)
                    chunk = _fhv_chunk_bytes if color == "fhv" else _chunk_bytes
                    lines, chunk_kept = chunk(rng, color, year, month, n, location_p)
                    out.write(lines)
                    kept += chunk_kept
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return GeneratedMonth(path, rows, kept)


def _location_weights() -> np.ndarray:
    """A fixed, skewed popularity of the 265 zones (a few busy Manhattan-like zones, a long tail)."""
    weights = np.random.default_rng(265).lognormal(mean=0.0, sigma=1.1, size=_LOCATION_IDS.size)
    weights[263:] *= 0.05  # 264 and 265 are the "Unknown" zones
    return weights / weights.sum()


def _month_bounds(year: int, month: int) -> tuple[int, int]:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    days = calendar.monthrange(year, month)[1]
    start_s = int(start.timestamp())
    return start_s, start_s + days * 86_400


def _pickup_seconds(rng: np.random.Generator, year: int, month: int, n: int) -> np.ndarray:
    """`n` pickup times (epoch seconds) over the month's days, busier at rush hour, a few outside the month."""
    start_s, end_s = _month_bounds(year, month)
    days = (end_s - start_s) // 86_400
    hour = rng.choice(24, size=n, p=_HOUR_P)
    pickup = start_s + rng.integers(0, days, n) * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
    outside = rng.random(n) < OUTSIDE_MONTH_SHARE
    if outside.any():
        pickup[outside] = _outside_month_pickups(rng, int(outside.sum()), start_s, end_s)
    return pickup


def _chunk_bytes(
    rng: np.random.Generator, color: str, year: int, month: int, n: int, location_p: np.ndarray
) -> tuple[memoryview, int]:
    """One chunk of `n` CSV lines, each ending in a newline, and how many of its trips the rules keep."""
    fhv = rng.random(n) < FHV_LIKE_SHARE[color]

    pickup = _pickup_seconds(rng, year, month, n)

    distance_cents = np.round(np.clip(rng.lognormal(np.log(1.9), 0.85, n), 0.01, 80.0) * 100).astype(np.int64)
    distance_cents[rng.random(n) < ZERO_DISTANCE_SHARE] = 0
    mph = rng.uniform(6.0, 20.0, n)
    duration = np.where(
        distance_cents > 0,
        distance_cents / 100 / mph * 3_600 + rng.integers(30, 240, n),
        rng.integers(0, 600, n),
    ).astype(np.int64)
    dropoff = pickup + duration

    vendor = rng.choice([1, 2], size=n, p=[0.3, 0.7])
    passengers = rng.choice(np.arange(1, 7), size=n, p=[0.72, 0.14, 0.04, 0.02, 0.05, 0.03])
    passengers[rng.random(n) < ZERO_PASSENGER_SHARE] = 0
    ratecode = rng.choice([1, 2, 3, 4, 5, 99], size=n, p=[0.965, 0.02, 0.003, 0.002, 0.009, 0.001])
    stored_flag = np.where(rng.random(n) < 0.01, 2, 1)
    pu_location = rng.choice(_LOCATION_IDS, size=n, p=location_p)
    do_location = rng.choice(_LOCATION_IDS, size=n, p=location_p)
    payment = rng.choice([1, 2, 3, 4], size=n, p=[0.70, 0.27, 0.02, 0.01])

    # Money is computed in cents so the total is exactly the sum of its parts.
    minutes = duration / 60
    metered = 250 + 250 * distance_cents / 100 + 50 * 0.3 * minutes
    fare = np.where(ratecode == 2, 5_200, np.round(metered / 50) * 50).astype(np.int64)
    hour_of_pickup = (pickup // 3_600) % 24
    extra = np.where((hour_of_pickup >= 20) | (hour_of_pickup < 6), 50, 0)
    extra = np.where((hour_of_pickup >= 16) & (hour_of_pickup < 20), 100, extra)
    mta_tax = np.where(rng.random(n) < 0.99, 50, 0)
    tip_rate = rng.uniform(0.10, 0.30, n)
    tips = (payment == 1) & (rng.random(n) < 0.8)
    tip = np.where(tips, np.round(fare * tip_rate), 0).astype(np.int64)
    tolls = np.where(rng.random(n) < 0.05, 612, 0)
    improvement = np.full(n, 30)
    if color == "yellow":
        congestion = np.where(rng.random(n) < 0.9, 250, 0)
    else:
        congestion = np.where(rng.random(n) < 0.15, 275, 0)
    total = fare + extra + mta_tax + tip + tolls + improvement + congestion

    def codes(values: np.ndarray, text: pa.Array = _FLOAT_CODE_TEXT) -> pa.Array:
        # Index 0 of the lookup is the empty cell, used for the FHV-like rows.
        return pc.take(text, pa.array(np.where(fhv, 0, values + 1)))

    distance_text = pc.if_else(pa.array(fhv), _money(distance_cents), _fixed_two_decimals(distance_cents))
    columns: dict[str, pa.Array] = {
        "VendorID": codes(vendor, _INT_CODE_TEXT),
        "pickup": _datetimes(pickup),
        "dropoff": _datetimes(dropoff),
        "passenger_count": codes(passengers),
        "trip_distance": distance_text,
        "RatecodeID": codes(ratecode),
        "store_and_fwd_flag": pc.take(_FLAG_TEXT, pa.array(np.where(fhv, 0, stored_flag))),
        "PULocationID": pc.take(_LOCATION_TEXT, pa.array(pu_location - 1)),
        "DOLocationID": pc.take(_LOCATION_TEXT, pa.array(do_location - 1)),
        "payment_type": codes(payment),
        "fare_amount": _money(fare),
        "extra": _money(extra),
        "mta_tax": _money(mta_tax),
        "tip_amount": _money(tip),
        "tolls_amount": _money(tolls),
        "improvement_surcharge": _money(improvement),
        "total_amount": _money(total),
        "congestion_surcharge": (pc.if_else(pa.array(fhv), "", _money(congestion))
                                 if (year, month) >= CONGESTION_SURCHARGE_FROM else pa.array(np.full(n, ""))),
    }
    if color == "yellow":
        order = [
            "VendorID", "pickup", "dropoff", "passenger_count", "trip_distance", "RatecodeID",
            "store_and_fwd_flag", "PULocationID", "DOLocationID", "payment_type", "fare_amount", "extra",
            "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
            "congestion_surcharge",
        ]
    else:
        trip_type = rng.choice([1, 2], size=n, p=[0.97, 0.03])
        columns["trip_type"] = codes(trip_type)
        columns["ehail_fee"] = pa.array(np.full(n, ""))
        order = [
            "VendorID", "pickup", "dropoff", "store_and_fwd_flag", "RatecodeID", "PULocationID",
            "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra", "mta_tax",
            "tip_amount", "tolls_amount", "ehail_fee", "improvement_surcharge", "total_amount",
            "payment_type", "trip_type", "congestion_surcharge",
        ]
    lines = pc.binary_join_element_wise(*(columns[name] for name in order), ",")
    lines = pc.binary_join_element_wise(lines, pa.scalar("\n"), "")
    # The FHV-like rows have no passenger count, which drops them.
    kept = int(np.count_nonzero(~fhv & (passengers > 0) & (distance_cents > 0)))
    return _string_data(lines), kept


def _fhv_chunk_bytes(
    rng: np.random.Generator, color: str, year: int, month: int, n: int, location_p: np.ndarray
) -> tuple[memoryview, int]:
    """One chunk of `n` FHV lines: a few busy bases, times often in whole minutes, location ids written as floats
    and often empty (264, the unknown zone, common), SR_Flag mostly empty."""
    pickup = _pickup_seconds(rng, year, month, n)
    duration = np.clip(rng.lognormal(np.log(1_100), 0.6, n), 60, 4 * 3_600).astype(np.int64)
    not_after = rng.random(n) < FHV_DROPOFF_NOT_AFTER_PICKUP_SHARE
    duration[not_after] = -rng.integers(0, 3_600, int(not_after.sum()))
    whole_minutes = rng.random(n) < FHV_WHOLE_MINUTE_SHARE
    pickup = np.where(whole_minutes, pickup // 60 * 60, pickup)
    dropoff = np.where(whole_minutes, (pickup + duration) // 60 * 60, pickup + duration)

    fhv_location_p = location_p.copy()
    fhv_location_p[263] = 0.08  # 264 "NV": where FHV dispatchers put trips they did not place
    fhv_location_p /= fhv_location_p.sum()

    def locations(empty_share: float) -> pa.Array:
        ids = rng.choice(_LOCATION_IDS, size=n, p=fhv_location_p)
        return pc.take(_FHV_LOCATION_TEXT, pa.array(np.where(rng.random(n) < empty_share, 0, ids)))

    base_p = np.random.default_rng(3).pareto(1.2, len(_FHV_BASES)) + 0.01
    base = rng.choice(len(_FHV_BASES), size=n, p=base_p / base_p.sum())
    affiliate = np.where(rng.random(n) < FHV_OTHER_AFFILIATE_SHARE, rng.integers(0, len(_FHV_BASES), n), base)
    affiliate_text = pc.take(_FHV_BASES, pa.array(affiliate))
    columns = [
        pc.take(_FHV_BASES, pa.array(base)),
        _datetimes(pickup),
        _datetimes(dropoff),
        locations(FHV_EMPTY_PICKUP_LOCATION_SHARE),
        locations(FHV_EMPTY_DROPOFF_LOCATION_SHARE),
        pc.take(_FHV_SR_FLAG_TEXT, pa.array((rng.random(n) < FHV_SHARED_RIDE_SHARE).astype(np.int64))),
        pc.if_else(pa.array(rng.random(n) < FHV_EMPTY_AFFILIATE_SHARE), "", affiliate_text),
    ]
    lines = pc.binary_join_element_wise(*columns, ",")
    lines = pc.binary_join_element_wise(lines, pa.scalar("\n"), "")
    return _string_data(lines), n


def _outside_month_pickups(rng: np.random.Generator, count: int, start_s: int, end_s: int) -> np.ndarray:
    """Pickups outside the month, as the real files have: the days around it, and the odd 2008/2009 clock."""
    before = start_s - rng.integers(1, 3 * 86_400, count)
    after = end_s + rng.integers(0, 3 * 86_400, count)
    bogus = int(datetime(2008, 12, 31, tzinfo=timezone.utc).timestamp()) + rng.integers(0, 2 * 86_400, count)
    return np.choose(rng.integers(0, 3, count), [before, after, bogus])


def _datetimes(epoch_seconds: np.ndarray) -> pa.Array:
    """`2021-01-01 00:30:10`."""
    return pa.array(epoch_seconds.astype("datetime64[s]")).cast(pa.string())


def _money(cents: np.ndarray) -> pa.Array:
    """Shortest float text of `cents / 100`: `8`, `0.5`, `11.8`, `2.75`."""
    return pa.array(cents / 100).cast(pa.string())


def _fixed_two_decimals(cents: np.ndarray) -> pa.Array:
    """`2.10`, `0.00`: the original TLC text of a distance."""
    whole = pa.array(cents // 100).cast(pa.string())
    fraction = pc.utf8_lpad(pa.array(cents % 100).cast(pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(whole, fraction, ".")


def _string_data(array: pa.Array) -> memoryview:
    """The concatenated bytes of a null-free string array, without copying them into Python strings."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    first, last = offsets[array.offset], offsets[array.offset + len(array)]
    return memoryview(array.buffers()[2])[first:last]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--color", choices=sorted(HEADERS), required=True)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--month", type=int, required=True, choices=range(1, 13), metavar="MONTH")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="release root; writes OUT/<color>/<file>")
    args = parser.parse_args(argv)

    path = release_path(args.out, args.color, args.year, args.month)
    if path.exists():
        print(f"{path} exists, skipping")
        return 0
    started = time.monotonic()
    write_month(path, args.color, args.year, args.month, args.rows, seed=args.seed)
    seconds = time.monotonic() - started
    print(f"wrote {path} ({args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB) in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
