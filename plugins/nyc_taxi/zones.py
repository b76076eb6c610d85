"""The release's taxi zone lookup (`misc/taxi_zone_lookup.csv`, 265 zones): downloaded, typed and checked, for the
table `zones` in Postgres and in BigQuery, each replaced whole. The trip checks look location ids up in it."""

from __future__ import annotations

import csv
import io
import logging
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import requests

from nyc_taxi.schema import ZONE_COLUMNS, arrow_schema_of, arrow_type, check_zone_header, zone_columns
from nyc_taxi.source import Download, SourceError, http_session
from nyc_taxi.staging import open_input, open_output

log = logging.getLogger(__name__)

ZONE_LOOKUP_PATH = "misc/taxi_zone_lookup.csv"
ZONES_TABLE = "zones"  # in Postgres and in BigQuery
# How many of the location ids the lookup lacks a check names.
UNKNOWN_IDS_NAMED = 10
# The real file is 12 kB: a body this large is something else.
MAX_BYTES = 1 << 20


class ZoneLookupNotPublished(SourceError):
    """HTTP 404 for the lookup: retrying will not help."""


class ZoneLookupError(ValueError):
    """The lookup is not what its columns say, or names a zone twice; the message names file, rule and rows."""


def zone_lookup_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{ZONE_LOOKUP_PATH}"


def download_zone_lookup_file(url: str, destination, *, session: requests.Session | None = None,
                         timeout_seconds: float = 60.0) -> Download:
    """Fetch the lookup (retrying connection errors and 429/5xx) into `destination`, which appears only when whole."""
    session = session or http_session()
    started = time.monotonic()
    try:
        response = session.get(url, timeout=(10, timeout_seconds))
    except requests.exceptions.RequestException as error:
        raise SourceError(f"{url} could not be fetched: {error}") from error
    if response.status_code == 404:
        raise ZoneLookupNotPublished(f"HTTP 404 for {url}: the zone lookup is not published there")
    if response.status_code != 200:
        raise SourceError(f"{url} answered HTTP {response.status_code} {response.reason}")
    body = response.content
    if len(body) > MAX_BYTES or body.lstrip()[:1] == b"<":
        raise SourceError(f"{url} is not the zone lookup CSV: {len(body):,} bytes starting {body[:60]!r}")
    with open_output(destination) as out:
        out.write(body)
    seconds = time.monotonic() - started
    log.info("downloaded %s: %s bytes in %.1f s", url, f"{len(body):,}", seconds)
    return Download(destination, url, len(body), seconds)


def read_zone_lookup(path, name: str | None = None) -> pa.Table:
    """The lookup as a typed table with the loaded column names (`location_id`, `borough`, `zone`, `service_zone`).

    Only an empty field is NULL: the unknown zones are called `NV` and `NA`, with service zone `N/A`, which a CSV
    reader takes for NULL by default.
    """
    name = name or path.name
    with open_input(path) as raw:
        body = raw.read()  # the lookup is 265 short lines
    header = [column.strip() for column in next(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")), [])]
    check_zone_header(header, name)
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(body),
            convert_options=pa_csv.ConvertOptions(
                column_types={column.source_name: arrow_type(column.kind) for column in ZONE_COLUMNS},
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        raise ZoneLookupError(f"{name}: {error}") from error
    zones = table.select([column.source_name for column in ZONE_COLUMNS]).rename_columns(
        [column.name for column in ZONE_COLUMNS]).cast(arrow_schema_of(zone_columns()))
    _check(zones, name)
    return zones


def _check(zones: pa.Table, name: str) -> None:
    problems = []
    missing_id = zones.filter(pc.is_null(zones["location_id"]))
    if missing_id.num_rows:
        problems.append(f"rule 'location_id is present' broken by {missing_id.num_rows} rows, e.g. "
                        f"{missing_id.slice(0, 3).to_pylist()}")
    counts = pc.value_counts(zones["location_id"].drop_null())
    repeated = [entry["values"].as_py() for entry in counts if entry["counts"].as_py() > 1]
    if repeated:
        problems.append(f"rule 'location_id is unique' broken by ids {sorted(repeated)[:10]}")
    if zones.num_rows == 0:
        problems.append("the file holds no zones")
    if problems:
        raise ZoneLookupError(f"{name}: " + " | ".join(problems))



def report_unknown_location_ids(month, unknown: dict[int, int] | None, zones_table: str) -> dict[str, int] | None:
    """Warn of the month's location ids that the lookup lacks ({id: pickups or dropoffs naming it}, the most frequent
    first; None: the lookup is not loaded); return the first UNKNOWN_IDS_NAMED of them for the check's result.

    A warning, not a failure: the trip is no less a trip, and its zone is the lookup's to name. Reloading the month
    would not change it while a newer lookup may, and failing would hold back every other row of the month over
    reference data the month does not own.
    """
    if unknown is None:
        log.warning("%s: location ids not checked: %s is not loaded (run the DAG taxi_zones_to_postgres or "
                    "taxi_zones_to_bigquery)", month, zones_table)
        return None
    named = list(unknown.items())[:UNKNOWN_IDS_NAMED]
    if unknown:
        log.warning("%s: %s pickups or dropoffs name %s location ids that %s lacks, e.g. %s; the trips are kept",
                    month, f"{sum(unknown.values()):,}", len(unknown), zones_table,
                    ", ".join(f"{id_} ({n:,})" for id_, n in named))
    else:
        log.info("%s: every location id is in %s", month, zones_table)
    return {str(id_): n for id_, n in named}
