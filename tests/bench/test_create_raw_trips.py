"""The floors' raw table (bench/sql/create_raw_trips.sql) is the yellow file as it is, typed: pinned to schema.py."""

from nyc_taxi.schema import SOURCE_COLUMNS, STORED_TYPES, Kind, SourceColumn
from psycopg import sql

from tests.conftest import REPO

# The floors COPY the file's text unparsed, so integers the files write as `1.0` are double precision there
# (integer input refuses `1.0`); the pipeline's check-and-cast makes them bigint.
WRITTEN_AS_FLOATS = {"passenger_count", "RatecodeID", "payment_type"}


def raw_type(column: SourceColumn) -> str:
    if column.kind is not Kind.INTEGER:
        return STORED_TYPES[column.kind].postgres
    return "double precision" if column.source_name in WRITTEN_AS_FLOATS else "integer"


def test_the_raw_table_has_the_yellow_files_columns_in_order(pg_conn, pg_schema):
    create_raw = (REPO / "bench" / "sql" / "create_raw_trips.sql").read_text()
    pg_conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
    pg_conn.execute(sql.SQL(create_raw).format(schema=sql.Identifier(pg_schema), table=sql.Identifier("raw_trips")))
    columns = pg_conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'raw_trips' ORDER BY ordinal_position",
        (pg_schema,),
    ).fetchall()
    assert columns == [(c.source_name, raw_type(c)) for c in SOURCE_COLUMNS["yellow"]]
