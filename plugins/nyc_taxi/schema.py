"""The taxi tables' one definition: the release files' columns per color (their types as read, their names as
loaded, which may be absent) and each type as Arrow, Postgres and BigQuery store it; the same for the zone lookup;
and the TLC's Parquet files era by era (`PARQUET_COLUMNS`: which file column, in which months, loads as which table
column). The tables' DDL is generated from it."""

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
    "fhvhv": ("pickup_datetime", "dropoff_datetime"),
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
    in Postgres and BigQuery are created with these, then the `source_month` each load adds; a Parquet month with
    more columns widens them (`parquet_month_columns`). fhvhv, which the release does not hold, starts with the
    columns of its first Parquet era."""
    if color in SOURCE_COLUMNS:
        source_columns = [LoadedColumn(column.name, column.kind) for column in SOURCE_COLUMNS[color]]
    else:
        source_columns = _unique_loaded(column for column in PARQUET_COLUMNS[color] if column.first == "2019-02")
    return source_columns + [LoadedColumn(pickup_date_column(color), Kind.DATE)]


def _unique_loaded(columns) -> list[LoadedColumn]:
    seen: dict[str, LoadedColumn] = {}
    for column in columns:
        seen.setdefault(column.loaded_as, LoadedColumn(column.loaded_as, column.kind))
    return list(seen.values())


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


# --- The TLC's own Parquet files, era by era ------------------------------------------------------------------------
#
# Each file column the TLC has published, the months it appears in (YYYY-MM, both ends included; None: still
# published) and the table column and kind it loads as. The months a column spans are its era; docs/parquet-eras.md
# is the same table in prose, with where each fact comes from. A column the file has and this table does not is
# new: it widens the table (`parquet_month_columns`). A column this table names whose file type cannot be what its
# kind says changed meaning: the month is refused, naming the column (`ParquetSchemaRefused`).

@dataclass(frozen=True)
class ParquetColumn:
    source_name: str
    loaded_as: str
    kind: Kind
    first: str
    last: str | None = None
    # A month without a required column is refused: without pickup times a trip has no month.
    required: bool = False

    def in_month(self, label: str) -> bool:
        return self.first <= label and (self.last is None or label <= self.last)


def _modern(service: str, first: str, names: tuple[str, ...], last: str | None = None,
            loaded_as: dict[str, str] | None = None) -> tuple[ParquetColumn, ...]:
    """Columns whose loaded name and kind are those the release's table gives the same name."""
    table = {column.source_name: column for column in SOURCE_COLUMNS.get(service, ())}
    columns = []
    for name in names:
        known = table[name]
        columns.append(ParquetColumn(name, (loaded_as or {}).get(name, known.name), known.kind, first, last,
                                     required=known.name in _TRIP_TIMES[service]))
    return tuple(columns)


_YELLOW_MODERN = tuple(column.source_name for column in SOURCE_COLUMNS["yellow"])
_GREEN_MODERN = tuple(column.source_name for column in SOURCE_COLUMNS["green"])
_FHV_MODERN = tuple(column.source_name for column in SOURCE_COLUMNS["fhv"])

PARQUET_COLUMNS: dict[str, tuple[ParquetColumn, ...]] = {
    "yellow": (
        # 2009: other names, coordinates instead of zones, vendor and payment as words (read from the files' schema
        # as quoted in public code: vendor_name string, Trip_Pickup_DateTime string, Payment_Type string,
        # store_and_forward double). Where the meaning is not that of the later column, it loads apart.
        ParquetColumn("vendor_name", "vendor_name", _S, "2009-01", "2009-12"),
        ParquetColumn("Trip_Pickup_DateTime", "tpep_pickup_datetime", _T, "2009-01", "2009-12", required=True),
        ParquetColumn("Trip_Dropoff_DateTime", "tpep_dropoff_datetime", _T, "2009-01", "2009-12", required=True),
        ParquetColumn("Passenger_Count", "passenger_count", _I, "2009-01", "2009-12"),
        ParquetColumn("Trip_Distance", "trip_distance", _F, "2009-01", "2009-12"),
        ParquetColumn("Start_Lon", "pickup_longitude", _F, "2009-01", "2009-12"),
        ParquetColumn("Start_Lat", "pickup_latitude", _F, "2009-01", "2009-12"),
        ParquetColumn("Rate_Code", "ratecode_id", _I, "2009-01", "2009-12"),
        ParquetColumn("store_and_forward", "store_and_forward", _F, "2009-01", "2009-12"),
        ParquetColumn("End_Lon", "dropoff_longitude", _F, "2009-01", "2009-12"),
        ParquetColumn("End_Lat", "dropoff_latitude", _F, "2009-01", "2009-12"),
        ParquetColumn("Payment_Type", "payment_type_name", _S, "2009-01", "2009-12"),
        ParquetColumn("Fare_Amt", "fare_amount", _F, "2009-01", "2009-12"),
        ParquetColumn("surcharge", "surcharge", _F, "2009-01", "2010-12"),
        ParquetColumn("mta_tax", "mta_tax", _F, "2009-01", "2010-12"),
        ParquetColumn("Tip_Amt", "tip_amount", _F, "2009-01", "2009-12"),
        ParquetColumn("Tolls_Amt", "tolls_amount", _F, "2009-01", "2009-12"),
        ParquetColumn("Total_Amt", "total_amount", _F, "2009-01", "2009-12"),
        # 2010: lower-case names (the files' metadata); their types are not confirmed here, so each loads only if
        # its type is what the kind says, else the month is refused naming the column. `vendor_id` and
        # `payment_type` are taken to be words, as in 2009: a number there is refused, not guessed at.
        ParquetColumn("vendor_id", "vendor_name", _S, "2010-01", "2010-12"),
        ParquetColumn("pickup_datetime", "tpep_pickup_datetime", _T, "2010-01", "2010-12", required=True),
        ParquetColumn("dropoff_datetime", "tpep_dropoff_datetime", _T, "2010-01", "2010-12", required=True),
        ParquetColumn("passenger_count", "passenger_count", _I, "2010-01", "2010-12"),
        ParquetColumn("trip_distance", "trip_distance", _F, "2010-01", "2010-12"),
        ParquetColumn("pickup_longitude", "pickup_longitude", _F, "2010-01", "2010-12"),
        ParquetColumn("pickup_latitude", "pickup_latitude", _F, "2010-01", "2010-12"),
        ParquetColumn("rate_code", "ratecode_id", _I, "2010-01", "2010-12"),
        ParquetColumn("store_and_fwd_flag", "store_and_fwd_flag", _S, "2010-01", "2010-12"),
        ParquetColumn("dropoff_longitude", "dropoff_longitude", _F, "2010-01", "2010-12"),
        ParquetColumn("dropoff_latitude", "dropoff_latitude", _F, "2010-01", "2010-12"),
        ParquetColumn("payment_type", "payment_type_name", _S, "2010-01", "2010-12"),
        ParquetColumn("fare_amount", "fare_amount", _F, "2010-01", "2010-12"),
        ParquetColumn("tip_amount", "tip_amount", _F, "2010-01", "2010-12"),
        ParquetColumn("tolls_amount", "tolls_amount", _F, "2010-01", "2010-12"),
        ParquetColumn("total_amount", "total_amount", _F, "2010-01", "2010-12"),
        # 2011 on: the release's names. airport_fee is spelled so until 2023-01 and `Airport_fee` from 2023-02.
        *_modern("yellow", "2011-01", _YELLOW_MODERN),
        ParquetColumn("airport_fee", "airport_fee", _F, "2011-01", "2023-01"),
        ParquetColumn("Airport_fee", "airport_fee", _F, "2023-02"),
        ParquetColumn("cbd_congestion_fee", "cbd_congestion_fee", _F, "2025-01"),
    ),
    "green": (
        *_modern("green", "2013-08", _GREEN_MODERN),
        ParquetColumn("cbd_congestion_fee", "cbd_congestion_fee", _F, "2025-01"),
    ),
    "fhv": _modern("fhv", "2015-01", _FHV_MODERN),
    "fhvhv": (
        ParquetColumn("hvfhs_license_num", "hvfhs_license_num", _S, "2019-02"),
        ParquetColumn("dispatching_base_num", "dispatching_base_num", _S, "2019-02"),
        ParquetColumn("originating_base_num", "originating_base_num", _S, "2019-02"),
        ParquetColumn("request_datetime", "request_datetime", _T, "2019-02"),
        ParquetColumn("on_scene_datetime", "on_scene_datetime", _T, "2019-02"),
        ParquetColumn("pickup_datetime", "pickup_datetime", _T, "2019-02", required=True),
        ParquetColumn("dropoff_datetime", "dropoff_datetime", _T, "2019-02", required=True),
        ParquetColumn("PULocationID", "pu_location_id", _I, "2019-02"),
        ParquetColumn("DOLocationID", "do_location_id", _I, "2019-02"),
        ParquetColumn("trip_miles", "trip_miles", _F, "2019-02"),
        ParquetColumn("trip_time", "trip_time", _I, "2019-02"),
        ParquetColumn("base_passenger_fare", "base_passenger_fare", _F, "2019-02"),
        ParquetColumn("tolls", "tolls", _F, "2019-02"),
        ParquetColumn("bcf", "bcf", _F, "2019-02"),
        ParquetColumn("sales_tax", "sales_tax", _F, "2019-02"),
        ParquetColumn("congestion_surcharge", "congestion_surcharge", _F, "2019-02"),
        ParquetColumn("airport_fee", "airport_fee", _F, "2019-02"),
        ParquetColumn("tips", "tips", _F, "2019-02"),
        ParquetColumn("driver_pay", "driver_pay", _F, "2019-02"),
        ParquetColumn("shared_request_flag", "shared_request_flag", _S, "2019-02"),
        ParquetColumn("shared_match_flag", "shared_match_flag", _S, "2019-02"),
        ParquetColumn("access_a_ride_flag", "access_a_ride_flag", _S, "2019-02"),
        ParquetColumn("wav_request_flag", "wav_request_flag", _S, "2019-02"),
        ParquetColumn("wav_match_flag", "wav_match_flag", _S, "2019-02"),
        ParquetColumn("cbd_congestion_fee", "cbd_congestion_fee", _F, "2025-01"),
    ),
}

# Written by pandas into some 2010 files (yellow 2010-02, 2010-03): the row's index in the writer's DataFrame, no data.
IGNORED_PARQUET_COLUMNS = frozenset({"__index_level_0__"})

# What each kind accepts from a Parquet file, by pyarrow type id (`str(type)` without parameters). Integers may come
# as doubles (passenger_count until 2023-01); they load only when every value is whole. A `null` column (airport_fee
# in some 2020 months, ehail_fee, SR_Flag) has no values to convert. Timestamps in any unit load as microseconds,
# refused if a value is not whole microseconds; 2009's are text, parsed with `PARQUET_TIMESTAMP_FORMAT`.
PARQUET_ACCEPTS: dict[Kind, frozenset[str]] = {
    Kind.INTEGER: frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "double", "float",
                             "null"}),
    Kind.FLOAT: frozenset({"double", "float", "halffloat", "int8", "int16", "int32", "int64", "null"}),
    Kind.TIMESTAMP: frozenset({"timestamp", "string", "large_string", "null"}),
    Kind.TEXT: frozenset({"string", "large_string", "null"}),
    Kind.DATE: frozenset({"date32", "date64", "timestamp", "null"}),
}
PARQUET_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# The kind a new column (one PARQUET_COLUMNS does not name) loads as, from its Parquet type.
_KIND_OF_NEW_COLUMN = {
    **dict.fromkeys(("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"), Kind.INTEGER),
    **dict.fromkeys(("double", "float", "halffloat"), Kind.FLOAT),
    "timestamp": Kind.TIMESTAMP,
    **dict.fromkeys(("string", "large_string"), Kind.TEXT),
    "date32": Kind.DATE,
}


class ParquetSchemaRefused(ValueError):
    """A month's Parquet file has a column whose type is not what its table column holds, a required column is
    missing, or a new column has no type to add it with. The message names the file, the month and the column."""


@dataclass(frozen=True)
class MonthColumn:
    """How one column of a month's Parquet file loads: from `source_name` (None: absent, loaded as NULL) as
    `loaded_as`, of `kind`; `new` when PARQUET_COLUMNS does not name it (the table gains it)."""

    source_name: str | None
    loaded_as: str
    kind: Kind
    source_type: str = "null"
    new: bool = False


def type_id(arrow_type_name: str) -> str:
    """`timestamp[us]` -> `timestamp`, `large_string` -> `large_string`."""
    return arrow_type_name.split("[", 1)[0]


def parquet_month_columns(service: str, label: str, file_columns: dict[str, str], file_name: str) -> list[MonthColumn]:
    """The columns a month's Parquet file loads as, given its columns (`{name: str(arrow type)}`): the table's, in
    its order (absent ones NULL), then the file's new ones. Raises `ParquetSchemaRefused` for a column that cannot
    be what it loads as, a missing required column, or a new column without a type."""
    era = [column for column in PARQUET_COLUMNS[service] if column.in_month(label)]
    by_source = {column.source_name: column for column in era}
    problems = []
    for column in era:
        if column.required and column.source_name not in file_columns:
            problems.append(f"required column {column.source_name} is missing")
    for name, arrow_name in file_columns.items():
        column = by_source.get(name)
        if column is not None and type_id(arrow_name) not in PARQUET_ACCEPTS[column.kind]:
            problems.append(f"column {name} is {arrow_name}, which is not a {column.kind.value} like "
                            f"{column.loaded_as} in the table: its meaning changed")
    loaded: dict[str, MonthColumn] = {}
    for column in _table_order(service, era):
        present = [c for c in era if c.loaded_as == column.loaded_as and c.source_name in file_columns]
        if len(present) > 1:
            problems.append(f"columns {' and '.join(c.source_name for c in present)} both load as {column.loaded_as}")
            continue
        source = present[0] if present else None
        loaded[column.loaded_as] = MonthColumn(
            source.source_name if source else None, column.loaded_as, column.kind,
            file_columns[source.source_name] if source else "null")
    table_names = {column.loaded_as for column in PARQUET_COLUMNS[service]} | set(loaded)
    for name, arrow_name in file_columns.items():
        if name in by_source or name in IGNORED_PARQUET_COLUMNS:
            continue
        loaded_as = snake_case(name)
        kind = _KIND_OF_NEW_COLUMN.get(type_id(arrow_name))
        known = next((c for c in PARQUET_COLUMNS[service] if c.loaded_as == loaded_as), None)
        if kind is None:
            problems.append(f"new column {name} is {arrow_name}: no table type to add it with")
        elif known is not None and known.kind is not kind:
            problems.append(f"column {name} is {arrow_name}, but {loaded_as} in the table is a {known.kind.value}: "
                            f"its meaning changed")
        elif loaded_as in loaded:
            problems.append(f"new column {name} would load as {loaded_as}, which another column already fills")
        else:
            loaded[loaded_as] = MonthColumn(name, loaded_as, kind, arrow_name, new=loaded_as not in table_names)
    if problems:
        raise ParquetSchemaRefused(f"{file_name} ({service} {label}) refused: {'; '.join(problems)}")
    return list(loaded.values())


def _table_order(service: str, era: list[ParquetColumn]) -> list[ParquetColumn]:
    """The era's columns, one per loaded name, those of the release's table first and in its order."""
    base = [column.name for column in SOURCE_COLUMNS.get(service, ())]
    unique = {}
    for column in era:
        unique.setdefault(column.loaded_as, column)
    return sorted(unique.values(), key=lambda c: (base.index(c.loaded_as) if c.loaded_as in base else len(base)))


def parquet_eras(service: str) -> list[tuple[str, str | None, list[ParquetColumn]]]:
    """The service's eras: runs of months in which the same file columns load, as (first, last, columns)."""
    bounds = sorted({column.first for column in PARQUET_COLUMNS[service]}
                    | {_next_label(column.last) for column in PARQUET_COLUMNS[service] if column.last})
    eras = []
    for index, first in enumerate(bounds):
        last = _previous_label(bounds[index + 1]) if index + 1 < len(bounds) else None
        eras.append((first, last, [column for column in PARQUET_COLUMNS[service] if column.in_month(first)]))
    return eras


def _next_label(label: str) -> str:
    year, month = map(int, label.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _previous_label(label: str) -> str:
    year, month = map(int, label.split("-"))
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
