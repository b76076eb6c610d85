"""The floors' raw tables (bench/sql/create_raw_*trips.sql) are the release files as they are, typed: pinned to
schema.py."""

import pytest
from psycopg import sql

from nyc_taxi.schema import SOURCE_COLUMNS, STORED_TYPES, Kind, SourceColumn
from tests.conftest import REPO

# The floors COPY the file's text unparsed, so integers the files write as `1.0` are double precision there
# (integer input refuses `1.0`); the pipeline's check-and-cast makes them bigint.
WRITTEN_AS_FLOATS = {
    "yellow": {"passenger_count", "RatecodeID", "payment_type"},
    "green": {"passenger_count", "RatecodeID", "payment_type", "trip_type"},
}
RAW_TABLE_FILES = {"yellow": "create_raw_trips.sql", "green": "create_raw_green_trips.sql"}


def raw_type(color: str, column: SourceColumn) -> str:
    if column.kind is not Kind.INTEGER:
        return STORED_TYPES[column.kind].postgres
    return "double precision" if column.source_name in WRITTEN_AS_FLOATS[color] else "integer"


@pytest.mark.parametrize("color", sorted(RAW_TABLE_FILES))
def test_the_raw_table_has_the_files_columns_in_order(pg_conn, pg_schema, color):
    create_raw = (REPO / "bench" / "sql" / RAW_TABLE_FILES[color]).read_text()
    pg_conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
    pg_conn.execute(sql.SQL(create_raw).format(schema=sql.Identifier(pg_schema), table=sql.Identifier("raw_trips")))
    columns = pg_conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'raw_trips' ORDER BY ordinal_position",
        (pg_schema,),
    ).fetchall()
    assert columns == [(c.source_name, raw_type(color, c)) for c in SOURCE_COLUMNS[color]]
