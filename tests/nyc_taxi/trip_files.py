"""Small release-style trip files for the tests, written row by row."""

import gzip
from pathlib import Path

from nyc_taxi.schema import SOURCE_COLUMNS

# One typical trip per color, as the release writes it: integers as `1.0`, money with few decimals.
TYPICAL_TRIP = {
    "yellow": {
        "VendorID": "1", "tpep_pickup_datetime": "2021-01-01 00:30:10", "tpep_dropoff_datetime": "2021-01-01 00:36:12",
        "passenger_count": "1.0", "trip_distance": "2.10", "RatecodeID": "1.0", "store_and_fwd_flag": "N",
        "PULocationID": "142", "DOLocationID": "43", "payment_type": "2", "fare_amount": "8", "extra": "3",
        "mta_tax": "0.5", "tip_amount": "0", "tolls_amount": "0", "improvement_surcharge": "0.3",
        "total_amount": "11.8", "congestion_surcharge": "2.5",
    },
    "green": {
        "VendorID": "2", "lpep_pickup_datetime": "2021-01-01 00:15:56", "lpep_dropoff_datetime": "2021-01-01 00:19:52",
        "store_and_fwd_flag": "N", "RatecodeID": "1.0", "PULocationID": "43", "DOLocationID": "151",
        "passenger_count": "1.0", "trip_distance": "1.01", "fare_amount": "5.5", "extra": "0.5", "mta_tax": "0.5",
        "tip_amount": "0", "tolls_amount": "0", "ehail_fee": "", "improvement_surcharge": "0.3",
        "total_amount": "6.8", "payment_type": "2.0", "trip_type": "1.0", "congestion_surcharge": "0",
    },
    "fhv": {
        "dispatching_base_num": "B00037", "pickup_datetime": "2021-01-01 00:13:09",
        "dropOff_datetime": "2021-01-01 00:21:26", "PUlocationID": "", "DOlocationID": "72.0", "SR_Flag": "",
        "Affiliated_base_number": "B00037",
    },
}


def trip(color: str, **changes: str) -> dict[str, str]:
    return {**TYPICAL_TRIP[color], **changes}


def write_trip_file(path: Path, color: str, trips: list[dict], header: list[str] | None = None,
                    line_end: str = "\n") -> Path:
    """Write trips as a release-style `.csv.gz`; `header` overrides the color's columns."""
    header = header or [column.source_name for column in SOURCE_COLUMNS[color]]
    lines = [",".join(header)] + [",".join(row.get(column, "") for column in header) for row in trips]
    path.write_bytes(gzip.compress((line_end.join(lines) + line_end).encode()))
    return path


def cleaned_synthetic_month(folder: Path, month, rows: int, seed: int = 0):
    """A generated release file for `month`, cleaned as the transform step leaves it: (staging file, stats)."""
    from devstack.synthetic_month import write_month
    from nyc_taxi.transform import CLEANED_SUFFIX, transform_month_file

    source = write_month(folder / month.file_name, month.color, month.year, month.month, rows=rows, seed=seed)
    cleaned = folder / f"{month.color}_{month.label}{CLEANED_SUFFIX}"
    return cleaned, transform_month_file(source, month.color, cleaned)


def read_cleaned(cleaned_path, columns: list[str] | None = None):
    """The whole cleaned month as a table (tests only: the pipeline reads it batch by batch)."""
    import pyarrow as pa

    from nyc_taxi.transform import cleaned_batches

    table = pa.Table.from_batches(list(cleaned_batches(cleaned_path)))
    return table.select(columns) if columns else table


def cleaned_batches_of(cleaned_path, rows: int):
    """The cleaned month in batches of `rows`, for tests that vary the batch size."""
    return iter(read_cleaned(cleaned_path).to_batches(max_chunksize=rows))
