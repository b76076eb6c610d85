import logging
import threading

import pytest
from nyc_taxi.months import TaxiMonth
from nyc_taxi.postgres import (
    DataQualityError,
    LoadAudit,
    check_month,
    create_tables,
    replace_month,
    replace_zones,
    table_name,
)
from nyc_taxi.schema import STORED_TYPES, loaded_columns, zone_columns
from nyc_taxi.zones import read_zone_lookup

from devstack.synthetic_zones import write_zone_lookup
from tests.nyc_taxi.trip_files import cleaned_batches_of, cleaned_synthetic_month

JANUARY = TaxiMonth("yellow", 2021, 1)
FEBRUARY = TaxiMonth("yellow", 2021, 2)
FHV_JANUARY = TaxiMonth("fhv", 2021, 1)


@pytest.fixture(scope="module")
def cleaned_months(tmp_path_factory):
    """Cleaned staging files for January (20k trips read) and February (12k), and an FHV January (20k), as the
    transform step leaves them."""
    folder = tmp_path_factory.mktemp("cleaned")
    months = ((JANUARY, 20_000), (FEBRUARY, 12_000), (FHV_JANUARY, 20_000))
    return {month: cleaned_synthetic_month(folder, month, rows) for month, rows in months}


@pytest.fixture(scope="module")
def zones(tmp_path_factory):
    """The generated 265-zone lookup, read as the zone DAG reads it."""
    return read_zone_lookup(write_zone_lookup(tmp_path_factory.mktemp("release")))


def batches(cleaned, batch_size=4_000):
    return cleaned_batches_of(cleaned, batch_size)


def audit(stats, run_id="run_1"):
    return LoadAudit(run_id, "http://source/file.csv.gz", 1234, 0.5, stats)


def rows_per_month(conn, schema):
    return dict(conn.execute(
        f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {schema}.yellow_tripdata GROUP BY 1 ORDER BY 1"
    ).fetchall())


@pytest.mark.parametrize("color", ["yellow", "green", "fhv"])
def test_the_table_has_the_cleaned_months_columns_in_order_then_the_source_month(pg_conn, pg_schema, color):
    create_tables(pg_conn, color, pg_schema)
    columns = pg_conn.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (pg_schema, table_name(color)),
    ).fetchall()
    expected = [(c.name, STORED_TYPES[c.kind].postgres, "YES") for c in loaded_columns(color)]
    assert columns == [*expected, ("source_month", "date", "NO")]


def test_a_month_loads_with_its_audit_row(pg_conn, pg_schema, cleaned_months):
    cleaned, stats = cleaned_months[JANUARY]
    loaded = replace_month(pg_conn, JANUARY, batches(cleaned), audit(stats), schema=pg_schema)
    assert loaded == stats.rows_kept > 0
    assert rows_per_month(pg_conn, pg_schema) == {"2021-01": stats.rows_kept}
    audit_row = pg_conn.execute(
        f"SELECT color, source_month, run_id, rows_read, rows_dropped, rows_loaded FROM {pg_schema}.load_audit"
    ).fetchone()
    assert audit_row[0] == "yellow" and str(audit_row[1]) == "2021-01-01" and audit_row[2] == "run_1"
    assert audit_row[3] == stats.rows_read
    assert audit_row[4] == stats.dropped and sum(audit_row[4].values()) == stats.rows_read - stats.rows_kept
    assert audit_row[5] == stats.rows_kept


def test_loading_a_month_again_replaces_it(pg_conn, pg_schema, cleaned_months):
    cleaned, stats = cleaned_months[JANUARY]
    for run in ("run_1", "run_2", "run_2"):
        replace_month(pg_conn, JANUARY, batches(cleaned), audit(stats, run), schema=pg_schema)
    assert rows_per_month(pg_conn, pg_schema) == {"2021-01": stats.rows_kept}
    runs = pg_conn.execute(f"SELECT run_id FROM {pg_schema}.load_audit ORDER BY run_id").fetchall()
    assert runs == [("run_1",), ("run_2",)]


def test_loading_another_month_leaves_the_first_untouched(pg_conn, pg_schema, cleaned_months):
    (january, january_stats), (february, february_stats) = cleaned_months[JANUARY], cleaned_months[FEBRUARY]
    replace_month(pg_conn, JANUARY, batches(january), schema=pg_schema)
    checksum = f"SELECT sum(total_amount), count(*) FROM {pg_schema}.yellow_tripdata WHERE source_month = '2021-01-01'"
    before = pg_conn.execute(checksum).fetchone()
    replace_month(pg_conn, FEBRUARY, batches(february), schema=pg_schema)
    assert pg_conn.execute(checksum).fetchone() == before
    assert rows_per_month(pg_conn, pg_schema) == {"2021-01": january_stats.rows_kept, "2021-02": february_stats.rows_kept}


def test_a_load_failing_mid_copy_keeps_the_previous_rows(pg_conn, pg_schema, cleaned_months):
    cleaned, stats = cleaned_months[JANUARY]
    replace_month(pg_conn, JANUARY, batches(cleaned), audit(stats, "good_run"), schema=pg_schema)

    def batches_then_failure():
        iterator = batches(cleaned)
        yield next(iterator)
        yield next(iterator)
        raise OSError("staging file unreadable")

    with pytest.raises(OSError):
        replace_month(pg_conn, JANUARY, batches_then_failure(), audit(stats, "bad_run"), schema=pg_schema)
    assert rows_per_month(pg_conn, pg_schema) == {"2021-01": stats.rows_kept}
    assert pg_conn.execute(f"SELECT run_id FROM {pg_schema}.load_audit").fetchall() == [("good_run",)]


def test_a_row_postgres_rejects_mid_copy_keeps_the_previous_rows(pg_conn, pg_schema, cleaned_months):
    import psycopg
    import pyarrow as pa

    cleaned, stats = cleaned_months[JANUARY]
    replace_month(pg_conn, JANUARY, batches(cleaned), schema=pg_schema)
    good = list(batches(cleaned))
    flags = good[0].schema.get_field_index("store_and_fwd_flag")
    nul_in_text = good[0].set_column(flags, "store_and_fwd_flag", pa.array(["N\x00"] * good[0].num_rows))
    with pytest.raises(psycopg.errors.CharacterNotInRepertoire):
        replace_month(pg_conn, JANUARY, [good[1], nul_in_text], schema=pg_schema)
    assert rows_per_month(pg_conn, pg_schema) == {"2021-01": stats.rows_kept}


def test_concurrent_loads_of_one_month_leave_one_copy(postgres_dsn, pg_conn, pg_schema, cleaned_months):
    import psycopg

    cleaned, stats = cleaned_months[JANUARY]
    errors = []

    def load():
        try:
            with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                replace_month(conn, JANUARY, batches(cleaned, 1_000), schema=pg_schema)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    loaders = [threading.Thread(target=load) for _ in range(3)]
    for loader in loaders:
        loader.start()
    for loader in loaders:
        loader.join(timeout=120)
    assert errors == []
    assert rows_per_month(pg_conn, pg_schema) == {"2021-01": stats.rows_kept}


def test_checks_pass_on_a_clean_month(pg_conn, pg_schema, cleaned_months, zones):
    cleaned, stats = cleaned_months[JANUARY]
    replace_month(pg_conn, JANUARY, batches(cleaned), schema=pg_schema)
    replace_zones(pg_conn, zones, schema=pg_schema)
    assert check_month(pg_conn, JANUARY, stats.rows_kept, schema=pg_schema) == {
        "row_count": stats.rows_kept, "unknown_location_ids": {}}


def test_an_fhv_month_loads_with_its_counted_rules_in_the_audit_and_passes_its_checks(
        pg_conn, pg_schema, cleaned_months, zones):
    cleaned, stats = cleaned_months[FHV_JANUARY]
    assert stats.flagged["drop_off_datetime > pickup_datetime"] > 0
    replace_zones(pg_conn, zones, schema=pg_schema)
    for run in ("run_1", "run_2"):
        assert replace_month(pg_conn, FHV_JANUARY, batches(cleaned), audit(stats, run), schema=pg_schema) == (
            stats.rows_kept)
    assert check_month(pg_conn, FHV_JANUARY, stats.rows_kept, schema=pg_schema) == {
        "row_count": stats.rows_kept, "unknown_location_ids": {}}
    empty_ids, ids_as_integers = pg_conn.execute(
        f"SELECT count(*) FILTER (WHERE pu_location_id IS NULL), count(*) FILTER (WHERE pu_location_id = 264)"
        f" FROM {pg_schema}.fhv_tripdata").fetchone()
    assert empty_ids > 0 and ids_as_integers > 0
    assert pg_conn.execute(f"SELECT rows_dropped, rows_flagged FROM {pg_schema}.load_audit WHERE run_id = 'run_2'"
                           ).fetchone() == (stats.dropped, stats.flagged)


def test_an_fhv_row_without_a_base_fails_the_check(pg_conn, pg_schema, cleaned_months):
    cleaned, stats = cleaned_months[FHV_JANUARY]
    replace_month(pg_conn, FHV_JANUARY, batches(cleaned), schema=pg_schema)
    pg_conn.execute(f"UPDATE {pg_schema}.fhv_tripdata SET dispatching_base_num = NULL"
                    f" WHERE ctid IN (SELECT ctid FROM {pg_schema}.fhv_tripdata LIMIT 2)")
    with pytest.raises(DataQualityError, match="rule 'dispatching_base_num is present' broken by 2 rows"):
        check_month(pg_conn, FHV_JANUARY, stats.rows_kept, schema=pg_schema)


def test_location_ids_the_lookup_lacks_warn_with_their_counts_and_do_not_fail(
        pg_conn, pg_schema, cleaned_months, zones, caplog):
    cleaned, stats = cleaned_months[FHV_JANUARY]
    replace_month(pg_conn, FHV_JANUARY, batches(cleaned), schema=pg_schema)
    with caplog.at_level(logging.WARNING, logger="nyc_taxi.zones"):
        assert check_month(pg_conn, FHV_JANUARY, stats.rows_kept, schema=pg_schema)["unknown_location_ids"] is None
    assert f"{pg_schema}.zones is not loaded (run the DAG taxi_zones_to_postgres" in caplog.text

    replace_zones(pg_conn, zones, schema=pg_schema)
    pg_conn.execute(f"UPDATE {pg_schema}.fhv_tripdata SET pu_location_id = 266, do_location_id = 0"
                    f" WHERE ctid IN (SELECT ctid FROM {pg_schema}.fhv_tripdata LIMIT 3)")
    pg_conn.execute(f"UPDATE {pg_schema}.fhv_tripdata SET do_location_id = 266"
                    f" WHERE ctid IN (SELECT ctid FROM {pg_schema}.fhv_tripdata WHERE pu_location_id <> 266 LIMIT 1)")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nyc_taxi.zones"):
        checked = check_month(pg_conn, FHV_JANUARY, stats.rows_kept, schema=pg_schema)
    assert checked == {"row_count": stats.rows_kept, "unknown_location_ids": {"266": 4, "0": 3}}
    assert f"7 pickups or dropoffs name 2 location ids that {pg_schema}.zones lacks, e.g. 266 (4), 0 (3)" in caplog.text


def test_the_zone_lookup_is_replaced_whole(pg_conn, pg_schema, zones):
    pg_conn.execute(f"CREATE SCHEMA {pg_schema}")
    assert replace_zones(pg_conn, zones.slice(0, 10), schema=pg_schema) == 10
    assert replace_zones(pg_conn, zones, schema=pg_schema) == 265
    rows = pg_conn.execute(f"SELECT * FROM {pg_schema}.zones ORDER BY location_id").fetchall()
    assert len(rows) == 265
    assert rows[0] == (1, "EWR", "Newark Airport", "EWR")
    assert rows[-1] == (265, "Unknown", "NA", "N/A")
    columns = pg_conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s"
        " AND table_name = 'zones' ORDER BY ordinal_position", (pg_schema,)).fetchall()
    assert columns == [(c.name, STORED_TYPES[c.kind].postgres) for c in zone_columns()]


def test_an_audit_table_from_before_fhv_gains_the_counted_rules(pg_conn, pg_schema, cleaned_months):
    cleaned, stats = cleaned_months[JANUARY]
    create_tables(pg_conn, "yellow", pg_schema)
    pg_conn.execute(f"ALTER TABLE {pg_schema}.load_audit DROP COLUMN rows_flagged")
    replace_month(pg_conn, JANUARY, batches(cleaned), audit(stats), schema=pg_schema)
    assert pg_conn.execute(f"SELECT rows_flagged FROM {pg_schema}.load_audit").fetchone() == ({},)


def test_a_failing_check_names_the_rule_and_the_rows(pg_conn, pg_schema, cleaned_months):
    cleaned, stats = cleaned_months[JANUARY]
    replace_month(pg_conn, JANUARY, batches(cleaned), schema=pg_schema)
    pg_conn.execute(f"""
        UPDATE {pg_schema}.yellow_tripdata SET passenger_count = 0, vendor_id = 9
        WHERE ctid IN (SELECT ctid FROM {pg_schema}.yellow_tripdata LIMIT 4)""")
    with pytest.raises(DataQualityError) as caught:
        check_month(pg_conn, JANUARY, stats.rows_kept + 1, schema=pg_schema)
    message = str(caught.value)
    assert f"{stats.rows_kept:,} rows loaded, {stats.rows_kept + 1:,} expected" in message
    assert "rule 'passenger_count > 0' broken by 4 rows" in message
    assert "rule 'vendor_id in known vendors' broken by 4 rows" in message
    assert '"vendor_id":9' in message
    assert "trip_distance > 0" not in message


def test_schema_names_from_configuration_are_validated(pg_conn, cleaned_months):
    cleaned, _ = cleaned_months[JANUARY]
    with pytest.raises(ValueError, match="not a valid schema or table name"):
        replace_month(pg_conn, JANUARY, batches(cleaned), schema='ny_taxi"; DROP TABLE x; --')


def test_postgres_crashing_mid_copy_keeps_the_previous_rows_and_a_retry_succeeds(cleaned_months):
    """A cluster of its own, durable (fsync on), stopped the hard way while a load is copying."""
    import time

    import psycopg

    from devstack.postgres_cluster import PostgresCluster
    from devstack.server_process import free_port
    from tests.conftest import SESSION_DIR

    cleaned, stats = cleaned_months[JANUARY]
    cluster = PostgresCluster(SESSION_DIR / "crashing" / "data", free_port()).start()
    try:
        cluster.create_role_and_database("taxi", "taxi", "ny_taxi")
        dsn = cluster.dsn("taxi", "taxi", "ny_taxi")
        with psycopg.connect(dsn, autocommit=True) as conn:
            replace_month(conn, JANUARY, batches(cleaned), schema="ny_taxi")

        def batches_until_the_crash():
            for number, batch in enumerate(batches(cleaned, 1_000)):
                if number == 3:
                    cluster.stop(mode="immediate")
                    time.sleep(0.5)
                yield batch

        with pytest.raises(psycopg.OperationalError):
            with psycopg.connect(dsn, autocommit=True) as conn:
                replace_month(conn, JANUARY, batches_until_the_crash(), schema="ny_taxi")

        cluster.start()
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert rows_per_month(conn, "ny_taxi") == {"2021-01": stats.rows_kept}
            replace_month(conn, JANUARY, batches(cleaned), schema="ny_taxi")
            assert rows_per_month(conn, "ny_taxi") == {"2021-01": stats.rows_kept}
    finally:
        cluster.stop()


# --- The TLC's Parquet months: a newer month's column widens the table -----------------------------------------------

import pyarrow as pa  # noqa: E402

from devstack.synthetic_parquet import write_parquet_month  # noqa: E402
from nyc_taxi.postgres import TableSchemaRefused  # noqa: E402
from nyc_taxi.transform import TransformStats, clean_month_batches  # noqa: E402


def _load_parquet_month(conn, schema, tmp_path, service, year, month, rows=2_000, **kwargs):
    path = tmp_path / f"{service}_tripdata_{year:04d}-{month:02d}.parquet"
    written = write_parquet_month(path, service, year, month, rows, seed=month, row_group_rows=500, **kwargs)
    stats = TransformStats.for_color(service)
    taxi_month = TaxiMonth(service, year, month)
    loaded = replace_month(conn, taxi_month, clean_month_batches(path, service, stats), schema=schema)
    assert loaded == stats.rows_kept == written.kept
    check_month(conn, taxi_month, loaded, schema=schema)
    return loaded


def _columns(conn, schema, table):
    return dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                             "AND table_name = %s", (schema, table)).fetchall())


def test_a_newer_month_with_a_new_column_widens_the_table_and_older_months_read_null(pg_conn, pg_schema, tmp_path):
    _load_parquet_month(pg_conn, pg_schema, tmp_path, "yellow", 2024, 12)
    assert "cbd_congestion_fee" not in _columns(pg_conn, pg_schema, "yellow_tripdata")
    assert _columns(pg_conn, pg_schema, "yellow_tripdata")["airport_fee"] == "double precision"
    january = _load_parquet_month(pg_conn, pg_schema, tmp_path, "yellow", 2025, 1)
    assert _columns(pg_conn, pg_schema, "yellow_tripdata")["cbd_congestion_fee"] == "double precision"
    by_month = dict(pg_conn.execute(
        f"SELECT to_char(source_month, 'YYYY-MM'), count(cbd_congestion_fee) FROM {pg_schema}.yellow_tripdata "
        "GROUP BY 1").fetchall())
    assert by_month == {"2024-12": 0, "2025-01": january}


def test_2009_and_the_modern_eras_share_one_table(pg_conn, pg_schema, tmp_path):
    _load_parquet_month(pg_conn, pg_schema, tmp_path, "yellow", 2023, 3)
    _load_parquet_month(pg_conn, pg_schema, tmp_path, "yellow", 2009, 3)
    columns = _columns(pg_conn, pg_schema, "yellow_tripdata")
    assert columns["pickup_longitude"] == "double precision" and columns["payment_type_name"] == "text"
    assert columns["payment_type"] == "bigint"


def test_a_column_that_changes_type_in_a_later_month_is_refused_naming_month_and_column(pg_conn, pg_schema,
                                                                                       tmp_path):
    _load_parquet_month(pg_conn, pg_schema, tmp_path, "yellow", 2026, 6, extra_columns={"request_source": pa.string()})
    assert _columns(pg_conn, pg_schema, "yellow_tripdata")["request_source"] == "text"
    with pytest.raises(TableSchemaRefused, match="yellow 2026-07 refused, a column changed meaning: request_source "
                                                 "is bigint in the month but text in"):
        _load_parquet_month(pg_conn, pg_schema, tmp_path, "yellow", 2026, 7,
                            extra_columns={"request_source": pa.int64()})


def test_an_fhvhv_month_loads_and_passes_its_check(pg_conn, pg_schema, tmp_path):
    assert _load_parquet_month(pg_conn, pg_schema, tmp_path, "fhvhv", 2021, 2) == 2_000
