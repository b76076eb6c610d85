"""Clean a month's CSV or Parquet file into a typed staging file, batch by batch: explicit types, the color's
rules, snake_case names, the pickup date added. A Parquet file is read a row group at a time
(`ParquetFile.iter_batches`), its columns mapped to the table's by its era (schema.py); a column already of the
table's type is passed on as it was read, not converted.

Rules per color (`RULES`), each either dropping the rows that break it or only counting them:
- yellow and green, as in the zoomcamp module and its homework: keep trips with `passenger_count > 0` and
  `trip_distance > 0` (a NULL in either drops the trip).
- fhvhv (the TLC's files only): dropped, a trip without a pickup time; counted only, a dropoff not after the pickup.
- FHV has neither. Dropped: a trip without a dispatching base (as the course's dbt staging model filters) or without
  a pickup time (it has no month and no partition). Counted only: a dropoff not after the pickup, and a pickup
  outside the release's months (2008, 2091): the trip happened, and the course's questions count every FHV trip,
  so such rows are kept and their number recorded in the audit beside the drops.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from nyc_taxi.months import FIRST_MONTH, LAST_MONTH
from nyc_taxi.schema import (
    PARQUET_TIMESTAMP_FORMAT,
    SOURCE_COLUMNS,
    Kind,
    MonthColumn,
    ParquetSchemaRefused,
    parquet_month_columns,
    SourceColumn,
    arrow_schema,
    arrow_type,
    check_header,
    pickup_date_column,
    pickup_datetime_column,
)
from nyc_taxi.staging import arrow_input, arrow_output, open_input

log = logging.getLogger(__name__)

# The reader keeps a few dozen blocks in flight: 1 MiB blocks keep a month's peak memory flat.
CSV_BLOCK_BYTES = 1 << 20
# The cleaned month is staged as an Arrow IPC file, ZSTD-compressed (level 3): written and read back in a fraction
# of the time Parquet takes, and small enough that the download and it together stay under 2.5x the .csv.gz
# (LZ4, no faster by the bench's medians, made that 2.8x for yellow and 3.3x for FHV).
CLEANED_SUFFIX = ".arrow"
_STAGING_OPTIONS = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=3))
PROGRESS_EVERY_ROWS = 500_000

# How a Parquet file is read (measured on fhvhv, 24 columns: bench/results.md). Batches of 16 Ki rows: reading and
# encoding 2 M trips peaked at 284 MB with 64 Ki rows and 1 MiB buffers, at 175 MB with 16 Ki rows and 64 KiB
# buffers, in about the same time on a busy machine. Each column's pages are read through that buffer, with
# pre-buffering off: pyarrow then reads a row group's pages as the batch needs them, not the whole group
# (pre-buffering cost 60 MB more). One decoding thread: on two cores Postgres's backend takes the other.
PARQUET_BATCH_ROWS = 1 << 14
PARQUET_BUFFER_BYTES = 1 << 16
PARQUET_THREADS = False

# The files write integers as `1` or `1.0`: read as floats, made integers after a check.
_READ_TYPES = {**{kind: arrow_type(kind) for kind in Kind}, Kind.INTEGER: pa.float64()}


def cleaned_path_beside(download_path):
    """Where the cleaned month is staged: beside its download, `<color>_tripdata_YYYY-MM.arrow`."""
    stem = download_path.name.removesuffix(".csv.gz").removesuffix(".parquet")
    return download_path.parent / (stem + CLEANED_SUFFIX)


class TransformError(ValueError):
    """A value in the file that cannot be what its column says; the message names file, column, line and value."""


@dataclass(frozen=True)
class Rule:
    """A rule a trip should meet: which trips meet it (NULL counts as not), and whether the others are dropped or
    kept and only counted."""

    name: str
    keep: Callable[[pa.RecordBatch], pa.Array]
    drops: bool = True


_PASSENGERS = Rule("passenger_count > 0", lambda batch: pc.greater(batch["passenger_count"], 0))
_DISTANCE = Rule("trip_distance > 0", lambda batch: pc.greater(batch["trip_distance"], 0))


def _midnight(day: dt.date) -> pa.Scalar:
    return pa.scalar(dt.datetime.combine(day, dt.time()), pa.timestamp("us"))


_RELEASE_START = _midnight(FIRST_MONTH)
_RELEASE_END = _midnight((LAST_MONTH + dt.timedelta(days=31)).replace(day=1))  # the month after the last

def _pickups_within(first: dt.date, last: dt.date) -> Rule:
    """Counted only: a pickup outside the months `first`..`last` (both included)."""
    start, end = _midnight(first), _midnight((last + dt.timedelta(days=31)).replace(day=1))
    return Rule(f"pickup_datetime in {first:%Y-%m}..{last:%Y-%m}",
                lambda batch: pc.and_(pc.greater_equal(batch["pickup_datetime"], start),
                                      pc.less(batch["pickup_datetime"], end)), drops=False)


RULES: dict[str, tuple[Rule, ...]] = {
    "yellow": (_PASSENGERS, _DISTANCE),
    "green": (_PASSENGERS, _DISTANCE),
    "fhv": (
        Rule("dispatching_base_num is present", lambda batch: pc.is_valid(batch["dispatching_base_num"])),
        Rule("pickup_datetime is present", lambda batch: pc.is_valid(batch["pickup_datetime"])),
        Rule("drop_off_datetime > pickup_datetime",
             lambda batch: pc.greater(batch["drop_off_datetime"], batch["pickup_datetime"]), drops=False),
        Rule(f"pickup_datetime in {FIRST_MONTH:%Y-%m}..{LAST_MONTH:%Y-%m}",
             lambda batch: pc.and_(pc.greater_equal(batch["pickup_datetime"], _RELEASE_START),
                                   pc.less(batch["pickup_datetime"], _RELEASE_END)), drops=False),
    ),
    "fhvhv": (
        Rule("pickup_datetime is present", lambda batch: pc.is_valid(batch["pickup_datetime"])),
        Rule("dropoff_datetime > pickup_datetime",
             lambda batch: pc.greater(batch["dropoff_datetime"], batch["pickup_datetime"]), drops=False),
    ),
}


def rules_for_file(color: str, file_name: str) -> tuple[Rule, ...]:
    """The color's rules for a file of its source: FHV's months are the source's, up to the month loaded."""
    from nyc_taxi.sources import source_of_file

    source = source_of_file(file_name)
    if color != "fhv" or not source.live:
        return RULES[color]
    return (*RULES[color][:3], _pickups_within(source.first_month(color), _month_of_file(file_name)))


def _month_of_file(file_name: str) -> dt.date:
    """`.../yellow_tripdata_2024-01.parquet` -> 2024-01-01."""
    label = file_name.rsplit("/", 1)[-1].split("_tripdata_", 1)[1][:7]
    return dt.date(int(label[:4]), int(label[5:]), 1)


@dataclass
class TransformStats:
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # rule -> rows it dropped
    flagged: dict[str, int] = field(default_factory=dict)  # rule -> rows kept that break it
    seconds: float = 0.0

    @classmethod
    def for_color(cls, color: str, rules: tuple[Rule, ...] | None = None) -> TransformStats:
        stats = cls()
        stats.count_rules(rules or RULES[color])
        return stats

    def count_rules(self, rules: tuple[Rule, ...]) -> None:
        """Count by these rules, from zero: a Parquet month's FHV rule names the TLC's months, not the release's."""
        self.dropped = {rule.name: 0 for rule in rules if rule.drops}
        self.flagged = {rule.name: 0 for rule in rules if not rule.drops}

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(self.dropped),
            "flagged": dict(self.flagged),
            "seconds": round(self.seconds, 3),
        }


def read_header(path) -> list[str]:
    with open_input(path) as raw, gzip.open(raw, "rt", encoding="utf-8-sig", newline="") as lines:
        first = next(csv.reader(lines), [])
    return [name.strip() for name in first]


def read_source_batches(path, color: str, name: str | None = None) -> Iterator[pa.RecordBatch]:
    """The file's rows as typed batches with snake_case columns; integers are int64, absent optional columns NULL.

    `path` is a `Path` or a staging `ObjectStoragePath`."""
    name = name or path.name
    columns = SOURCE_COLUMNS[color]
    header = read_header(path)
    absent = set(check_header(color, header, name))
    present = [column for column in columns if column.source_name not in absent]
    read_options = pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES, column_names=header, skip_rows=1)
    convert_options = pa_csv.ConvertOptions(
        column_types={column.source_name: _READ_TYPES[column.kind] for column in present},
        null_values=[""],
        strings_can_be_null=True,
    )
    rows_before = 0
    reader = None
    with arrow_input(path) as compressed, pa.CompressedInputStream(compressed, "gzip") as csv_bytes:
        while True:
            try:
                # open_csv already converts the first block, so it can fail like any later read.
                reader = reader or pa_csv.open_csv(csv_bytes, read_options=read_options,
                                                   convert_options=convert_options)
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as error:
                raise _conversion_error(path, name, present, header, rows_before, error) from error
            yield _named_and_typed(batch, columns, absent, name, rows_before)
            rows_before += batch.num_rows


def _named_and_typed(batch: pa.RecordBatch, columns: list[SourceColumn], absent: set[str], name: str,
                     rows_before: int) -> pa.RecordBatch:
    arrays = []
    for column in columns:
        if column.source_name in absent:
            arrays.append(pa.nulls(batch.num_rows, arrow_type(column.kind)))
        elif column.kind is Kind.INTEGER:
            arrays.append(_as_integers(batch[column.source_name], column, name, rows_before))
        else:
            arrays.append(batch[column.source_name])
    return pa.RecordBatch.from_arrays(arrays, names=[column.name for column in columns])


def _as_integers(values: pa.Array, column: SourceColumn, name: str, rows_before: int,
                 row_label: str = "line") -> pa.Array:
    fractional = pc.not_equal(values, pc.floor(values))
    if pc.any(fractional).as_py():
        index = pc.index(fractional, True).as_py()
        where = _line(rows_before + index) if row_label == "line" else f"{rows_before + index + 1:,}"
        raise TransformError(
            f"{name}: column {column.source_name} holds integers, but {row_label} {where} "
            f"has {values[index].as_py()!r}"
        )
    return pc.cast(values, pa.int64())


def _line(row_index: int) -> int:
    """The file line of a data row: the header is line 1."""
    return row_index + 2


def _conversion_error(
    path, name: str, present: list[SourceColumn], header: list[str], rows_before: int, error: Exception
) -> TransformError:
    """pyarrow's streaming reader does not say which row failed: find it by reading on from the failing batch."""
    with open_input(path) as raw, gzip.open(raw, "rt", encoding="utf-8-sig", newline="") as lines:
        rows = csv.reader(lines)
        next(rows, None)
        for row_index, row in enumerate(rows):
            if row_index < rows_before:
                continue
            if len(row) != len(header):
                return TransformError(
                    f"{name}: line {_line(row_index)} has {len(row)} fields, the header has {len(header)}"
                )
            for column in present:
                value = row[header.index(column.source_name)]
                if value and not _parses(value, column.kind):
                    return TransformError(
                        f"{name}: column {column.source_name} ({column.kind.value}) has {value!r} "
                        f"on line {_line(row_index)}, which is not a {column.kind.value}"
                    )
    return TransformError(f"{name}: {error}")


def _parses(value: str, kind: Kind) -> bool:
    if kind in (Kind.INTEGER, Kind.FLOAT):
        try:
            float(value)
        except ValueError:
            return False
        return True
    if kind is Kind.TIMESTAMP:
        try:
            pa_csv.read_csv(
                io.BytesIO(f"t\n{value}\n".encode()),
                convert_options=pa_csv.ConvertOptions(column_types={"t": _READ_TYPES[kind]}),
            )
        except pa.ArrowInvalid:
            return False
    return True


def clean_batch(batch: pa.RecordBatch, color: str, stats: TransformStats,
                rules: tuple[Rule, ...] | None = None) -> pa.RecordBatch:
    """Apply the color's rules in order, counting what each drops (a row breaking two counts against the first) or
    only flags (among the rows kept), and add the pickup date."""
    stats.rows_read += batch.num_rows
    rules = rules or RULES[color]
    for rule in (rule for rule in rules if rule.drops):
        keep = rule.keep(batch)
        if keep.null_count == 0 and pc.all(keep).as_py():
            continue  # the rule drops nothing here: the batch is not copied
        before = batch.num_rows
        batch = batch.filter(keep, null_selection_behavior="drop")
        stats.dropped[rule.name] += before - batch.num_rows
    for rule in (rule for rule in rules if not rule.drops):
        stats.flagged[rule.name] += batch.num_rows - pc.sum(pc.fill_null(rule.keep(batch), False), min_count=0).as_py()
    stats.rows_kept += batch.num_rows
    pickup_date = pc.cast(batch[pickup_datetime_column(color)], arrow_type(Kind.DATE))
    return batch.append_column(pickup_date_column(color), pickup_date)


def clean_month_batches(
    path, color: str, stats: TransformStats, name: str | None = None
) -> Iterator[pa.RecordBatch]:
    """Cleaned batches of a month's file, logging progress; `stats` fills in as they are consumed. Its seconds are
    those spent reading and cleaning, not those the consumer spends between batches (a load copying them)."""
    started = resumed = time.monotonic()
    next_report = PROGRESS_EVERY_ROWS
    name = name or path.name
    rules = rules_for_file(color, name)
    if rules is not RULES[color]:
        stats.count_rules(rules)
    reader = read_parquet_batches if name.endswith(".parquet") else read_source_batches
    for batch in reader(path, color, name):
        cleaned = clean_batch(batch, color, stats, rules)
        stats.seconds += time.monotonic() - resumed
        yield cleaned
        resumed = time.monotonic()
        if stats.rows_read >= next_report:
            elapsed = time.monotonic() - started
            log.info("%s: %s rows read, %s kept, %.0f rows/s", name or path.name,
                     f"{stats.rows_read:,}", f"{stats.rows_kept:,}", stats.rows_read / max(elapsed, 1e-9))
            next_report += PROGRESS_EVERY_ROWS
    stats.seconds += time.monotonic() - resumed
    log.info("%s: cleaned %s", name or path.name, stats.as_dict())


def transform_month_file(source, color: str, destination, name: str | None = None) -> TransformStats:
    """Clean `source` (a release `.csv.gz` or a TLC `.parquet`) into the staging file `destination` (Arrow IPC),
    which appears only when complete; read it back with `cleaned_batches`. Either is a `Path` or a staging
    `ObjectStoragePath`. Its schema is the first batch's: a Parquet month may have more columns than the release."""
    stats = TransformStats.for_color(color)
    batches = clean_month_batches(source, color, stats, name)
    first = next(batches, None)
    schema = first.schema if first is not None else arrow_schema(color)
    with (
        arrow_output(destination) as staged,
        pa.ipc.new_file(staged, schema, options=_STAGING_OPTIONS) as writer,
    ):
        if first is not None:
            writer.write_batch(first)
        for batch in batches:
            writer.write_batch(batch)
    return stats


def cleaned_batches(cleaned_path) -> Iterator[pa.RecordBatch]:
    """Read a cleaned month back batch by batch, as written (one per CSV block), never the whole file at once."""
    with arrow_input(cleaned_path) as staged:
        reader = pa.ipc.open_file(staged)
        for index in range(reader.num_record_batches):
            yield reader.get_batch(index)


def read_parquet_batches(path, color: str, name: str | None = None) -> Iterator[pa.RecordBatch]:
    """A TLC Parquet month's rows as batches in the table's columns and types, a row group at a time.

    The file's columns are mapped by its era (`schema.parquet_month_columns`): renamed, absent ones NULL, new ones
    kept. A column already of its table type is passed on untouched; others are converted once, here: integers
    written as doubles only if whole, timestamps in another unit only if whole microseconds, 2009's text times
    parsed. A value that cannot be converted fails naming the file, column, row and value."""
    name = name or path.name
    label = f"{_month_of_file(name):%Y-%m}"
    with arrow_input(path) as raw:
        try:
            parquet = pq.ParquetFile(raw, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
        except pa.ArrowInvalid as error:
            raise TransformError(f"{name}: not a Parquet file pyarrow can read: {error}") from error
        file_columns = {field.name: str(field.type) for field in parquet.schema_arrow}
        columns = parquet_month_columns(color, label, file_columns, name)
        read = [column.source_name for column in columns if column.source_name is not None]
        rows_before = 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=read,
                                          use_threads=PARQUET_THREADS):
            yield _in_table_types(batch, columns, name, rows_before)
            rows_before += batch.num_rows


def _in_table_types(batch: pa.RecordBatch, columns: list[MonthColumn], name: str, rows_before: int) -> pa.RecordBatch:
    arrays = []
    for column in columns:
        target = arrow_type(column.kind)
        if column.source_name is None:
            arrays.append(pa.nulls(batch.num_rows, target))
            continue
        values = batch[column.source_name]
        if values.type == target:
            arrays.append(values)  # already clean: not converted
        elif pa.types.is_null(values.type):
            arrays.append(pa.nulls(batch.num_rows, target))
        elif column.kind is Kind.INTEGER and pa.types.is_floating(values.type):
            arrays.append(_as_integers(values, SourceColumn(column.source_name, column.kind), name, rows_before,
                                       row_label="row"))
        elif column.kind is Kind.TIMESTAMP and (pa.types.is_string(values.type)
                                                or pa.types.is_large_string(values.type)):
            arrays.append(_parsed_times(values, column, name, rows_before))
        else:
            arrays.append(_cast_exactly(values, target, column, name, rows_before))
    return pa.RecordBatch.from_arrays(arrays, names=[column.loaded_as for column in columns])


def _cast_exactly(values: pa.Array, target: pa.DataType, column: MonthColumn, name: str,
                  rows_before: int) -> pa.Array:
    try:
        return pc.cast(values, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise TransformError(f"{name}: column {column.source_name} ({values.type}) does not convert to "
                             f"{column.kind.value} without loss, in the rows after row {rows_before:,}: "
                             f"{error}") from error


def _parsed_times(values: pa.Array, column: MonthColumn, name: str, rows_before: int) -> pa.Array:
    parsed = pc.strptime(values, format=PARQUET_TIMESTAMP_FORMAT, unit="us", error_is_null=True)
    unparsed = pc.and_(pc.is_valid(values), pc.is_null(parsed))
    if pc.any(unparsed).as_py():
        index = pc.index(unparsed, True).as_py()
        raise TransformError(f"{name}: column {column.source_name} holds times as text, but row "
                             f"{rows_before + index + 1:,} has {values[index].as_py()!r}, not "
                             f"{PARQUET_TIMESTAMP_FORMAT}")
    return parsed
