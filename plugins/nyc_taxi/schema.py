"""The taxi tables' one definition: the release files' columns per color (their types as read, their names as
loaded, which may be absent) and each type as Arrow, Postgres and BigQuery store it; the same for the zone lookup.
The tables' DDL is generated from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


class Kind(Enum):
    INTEGER = "integer"
    FLOAT = "float"
    TIMESTAMP = "timestamp"
    TEXT = "text"
    DATE = "date"


@dataclass(frozen=True)
class StoredTypes:
    """A kind's type in each store. Arrow's is a pyarrow alias (`pa.type_for_alias`), so importing this module
    costs no pyarrow; Postgres's is the name information_schema reports, so a test can compare them."""

    arrow: str
    postgres: str
    bigquery: str


STORED_TYPES: dict[Kind, StoredTypes] = {
    Kind.INTEGER: StoredTypes("int64", "bigint", "INT64"),
    Kind.FLOAT: StoredTypes("double", "double precision", "FLOAT64"),
    # The files' timestamps are NYC local time without an offset: stored naive everywhere.
    Kind.TIMESTAMP: StoredTypes("timestamp[us]", "timestamp without time zone", "DATETIME"),
    Kind.TEXT: StoredTypes("string", "text", "STRING"),
    Kind.DATE: StoredTypes("date32", "date", "DATE"),
}


@dataclass(frozen=True)
class SourceColumn:
    source_name: str
    kind: Kind
    # Historical files lack some columns (congestion_surcharge arrived in 2019); such a column loads as NULL.
    optional: bool = False
    # The loaded name where snake_case would get it wrong (FHV's `PUlocationID`).
    loaded_as: str | None = None

    @property
    def name(self) -> str:
        return self.loaded_as or snake_case(self.source_name)


def snake_case(name: str) -> str:
    """`VendorID` -> `vendor_id`, `PULocationID` -> `pu_location_id`, `RatecodeID` -> `ratecode_id`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


_I, _F, _T, _S = Kind.INTEGER, Kind.FLOAT, Kind.TIMESTAMP, Kind.TEXT

SOURCE_COLUMNS: dict[str, tuple[SourceColumn, ...]] = {
    "yellow": (
        SourceColumn("VendorID", _I),
        SourceColumn("tpep_pickup_datetime", _T),
        SourceColumn("tpep_dropoff_datetime", _T),
        SourceColumn("passenger_count", _I),
        SourceColumn("trip_distance", _F),
        SourceColumn("RatecodeID", _I),
        SourceColumn("store_and_fwd_flag", _S),
        SourceColumn("PULocationID", _I),
        SourceColumn("DOLocationID", _I),
        SourceColumn("payment_type", _I),
        SourceColumn("fare_amount", _F),
        SourceColumn("extra", _F),
        SourceColumn("mta_tax", _F),
        SourceColumn("tip_amount", _F),
        SourceColumn("tolls_amount", _F),
        SourceColumn("improvement_surcharge", _F),
        SourceColumn("total_amount", _F),
        SourceColumn("congestion_surcharge", _F, optional=True),
    ),
    "green": (
        SourceColumn("VendorID", _I),
        SourceColumn("lpep_pickup_datetime", _T),
        SourceColumn("lpep_dropoff_datetime", _T),
        SourceColumn("store_and_fwd_flag", _S),
        SourceColumn("RatecodeID", _I),
        SourceColumn("PULocationID", _I),
        SourceColumn("DOLocationID", _I),
        SourceColumn("passenger_count", _I),
        SourceColumn("trip_distance", _F),
        SourceColumn("fare_amount", _F),
        SourceColumn("extra", _F),
        SourceColumn("mta_tax", _F),
        SourceColumn("tip_amount", _F),
        SourceColumn("tolls_amount", _F),
        SourceColumn("ehail_fee", _F),
        SourceColumn("improvement_surcharge", _F),
        SourceColumn("total_amount", _F),
        SourceColumn("payment_type", _I),
        SourceColumn("trip_type", _I),
        SourceColumn("congestion_surcharge", _F, optional=True),
    ),
    # For-hire vehicles: no vendor, passengers, distance or fares; location ids and SR_Flag are often empty.
    "fhv": (
        SourceColumn("dispatching_base_num", _S),
        SourceColumn("pickup_datetime", _T),
        SourceColumn("dropOff_datetime", _T),
        SourceColumn("PUlocationID", _I, loaded_as="pu_location_id"),
        SourceColumn("DOlocationID", _I, loaded_as="do_location_id"),
        SourceColumn("SR_Flag", _I),
        SourceColumn("Affiliated_base_number", _S),
    ),
}

# The trip's times as loaded: (pickup, dropoff).
_TRIP_TIMES = {
    "yellow": ("tpep_pickup_datetime", "tpep_dropoff_datetime"),
    "green": ("lpep_pickup_datetime", "lpep_dropoff_datetime"),
    "fhv": ("pickup_datetime", "drop_off_datetime"),
}


def pickup_datetime_column(color: str) -> str:
    return _TRIP_TIMES[color][0]


def dropoff_datetime_column(color: str) -> str:
    return _TRIP_TIMES[color][1]


def pickup_date_column(color: str) -> str:
    """`tpep_pickup_date`, `lpep_pickup_date`, `pickup_date`: the partition column in GCS and BigQuery."""
    return pickup_datetime_column(color).removesuffix("time")


@dataclass(frozen=True)
class LoadedColumn:
    name: str
    kind: Kind


def loaded_columns(color: str) -> list[LoadedColumn]:
    """The cleaned month's columns, in order: the source columns in snake_case, then the pickup date. The tables
    in Postgres and BigQuery have these, then the `source_month` each load adds."""
    source_columns = [LoadedColumn(column.name, column.kind) for column in SOURCE_COLUMNS[color]]
    return source_columns + [LoadedColumn(pickup_date_column(color), Kind.DATE)]


def loaded_column_names(color: str) -> list[str]:
    return [column.name for column in loaded_columns(color)]


# The release's `misc/taxi_zone_lookup.csv`, loaded whole as the table `zones`.
ZONE_COLUMNS: tuple[SourceColumn, ...] = (
    SourceColumn("LocationID", _I),
    SourceColumn("Borough", _S),
    SourceColumn("Zone", _S),
    SourceColumn("service_zone", _S),
)


def zone_columns() -> list[LoadedColumn]:
    return [LoadedColumn(column.name, column.kind) for column in ZONE_COLUMNS]


def arrow_type(kind: Kind) -> pa.DataType:
    import pyarrow as pa

    return pa.type_for_alias(STORED_TYPES[kind].arrow)


def arrow_schema(color: str) -> pa.Schema:
    """The cleaned month's Arrow schema: the staging file's and the Parquet objects'."""
    return arrow_schema_of(loaded_columns(color))


def arrow_schema_of(columns: list[LoadedColumn]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(column.name, arrow_type(column.kind)) for column in columns])


class HeaderMismatch(ValueError):
    """The file's header is not the one this color's files have."""


def check_header(color: str, header: list[str], file_name: str) -> list[str]:
    """Return the optional columns the header lacks; raise `HeaderMismatch` listing every difference otherwise."""
    return _check_columns(f"{color} taxi", SOURCE_COLUMNS[color], header, file_name)


def check_zone_header(header: list[str], file_name: str) -> None:
    _check_columns("zone lookup", ZONE_COLUMNS, header, file_name)


def _check_columns(layout: str, expected: tuple[SourceColumn, ...], header: list[str], file_name: str) -> list[str]:
    expected_names = [column.source_name for column in expected]
    missing_required = [c.source_name for c in expected if c.source_name not in header and not c.optional]
    unexpected = [name for name in header if name not in expected_names]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if missing_required or unexpected or duplicated:
        problems = []
        if missing_required:
            problems.append(f"missing columns: {', '.join(missing_required)}")
        if unexpected:
            problems.append(f"unexpected columns: {', '.join(unexpected)}")
        if duplicated:
            problems.append(f"duplicated columns: {', '.join(duplicated)}")
        raise HeaderMismatch(
            f"{file_name}: header does not match the {layout} layout ({'; '.join(problems)}); "
            f"expected {','.join(expected_names)}"
        )
    return [c.source_name for c in expected if c.source_name not in header]
