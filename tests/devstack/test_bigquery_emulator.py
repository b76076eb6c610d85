"""The BigQuery emulator's contract, tested with the real clients: the contract the pipeline relies on, what
else the emulator does that a change to the pipeline could use, and what the emulator does not do.

- Relied on by the pipeline (`nyc_taxi.bigquery`): a one-time install; a load job of hive-partitioned Parquet
  from the GCS emulator into a partitioned, clustered table, also through `BigQueryHook.insert_job`; DML with
  query parameters; counts per partition. The transaction that swaps a month in is tested through the
  pipeline's own functions, in tests/nyc_taxi/test_bigquery.py.
- Done, not used by the pipeline today (tests named `test_also_...`): TIMESTAMP columns, replacing a month
  by DELETE then append, MERGE, CREATE TABLE AS SELECT, DataFrames over REST and the Storage Read API, the
  provider's load and query operators, and its DB-API path and check operators with an adapter.
- Not done as BigQuery does it (tests named `..._not_...`): partition decorators, external tables, extract
  jobs the GCS emulator can list, the DB-API path without that adapter, the Storage Read API for the
  table check operator.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from airflow.exceptions import AirflowException
from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook
from airflow.providers.google.cloud.operators.bigquery import (
    BigQueryCheckOperator,
    BigQueryInsertJobOperator,
    BigQueryTableCheckOperator,
    BigQueryValueCheckOperator,
)
from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator
from google.api_core.exceptions import BadRequest, GoogleAPICallError, NotFound
from google.cloud import bigquery, storage

from devstack.bigquery_emulator import PYTHON_VERSION, BigQueryEmulator, ensure_installed, find_python
from devstack.gcs_emulator import GcsEmulator

PROJECT = "nyc-taxi-local"
BUCKET = "lake"
DATASET = "nyc_taxi"
TRIPS_PREFIX = f"gs://{BUCKET}/trips/"
MONTH_ROWS = {"2021-01": 100, "2021-02": 80}


def trips(pickup_month: str, rows: int) -> pa.Table:
    """One month of trips as the pipeline writes them; the month itself lives in the hive path, not the file."""
    start = dt.datetime.strptime(pickup_month, "%Y-%m")
    pickups = [start + dt.timedelta(hours=7 * i) for i in range(rows)]
    return pa.table({
        "vendor_id": pa.array([1 + i % 2 for i in range(rows)], pa.int64()),
        "pickup_datetime": pa.array(pickups, pa.timestamp("us")),
        "pickup_date": pa.array([pickup.date() for pickup in pickups], pa.date32()),
        "passenger_count": pa.array([None if i % 3 == 0 else i % 5 for i in range(rows)], pa.int64()),
        "fare_amount": pa.array([1.5 * i for i in range(rows)], pa.float64()),
    })


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GcsEmulator, BigQueryEmulator]]:
    """Both emulators, their variables set for the whole module, and two months of trips in the lake."""
    root = tmp_path_factory.mktemp("emulators")
    with (
        GcsEmulator(root / "gcs", project=PROJECT) as gcs,
        BigQueryEmulator(gcs.root, PROJECT) as bigquery_emulator,
        pytest.MonkeyPatch.context() as patch,
    ):
        for name, value in {**gcs.environment(), **bigquery_emulator.environment()}.items():
            patch.setenv(name, value)
        gcs.create_bucket(BUCKET)
        for month, rows in MONTH_ROWS.items():
            ds.write_dataset(
                trips(month, rows), f"{BUCKET}/trips/pickup_month={month}", filesystem=gcs.arrow_filesystem(),
                format="parquet", basename_template="part-{i}.parquet",
            )
        bigquery_emulator.client().create_dataset(DATASET)
        yield gcs, bigquery_emulator


@pytest.fixture(scope="module")
def bq(emulators: tuple[GcsEmulator, BigQueryEmulator]) -> bigquery.Client:
    return emulators[1].client()


def load_config(**overrides: Any) -> bigquery.LoadJobConfig:
    """The pipeline's load: Parquet with hive partitioning, into a table partitioned by day and clustered."""
    options = bigquery.HivePartitioningOptions()
    options.mode = "AUTO"
    options.source_uri_prefix = TRIPS_PREFIX
    settings: dict[str, Any] = {
        "source_format": bigquery.SourceFormat.PARQUET,
        "hive_partitioning": options,
        "time_partitioning": bigquery.TimePartitioning(field="pickup_date"),
        "clustering_fields": ["vendor_id"],
        "write_disposition": bigquery.WriteDisposition.WRITE_TRUNCATE,
    }
    return bigquery.LoadJobConfig(**{**settings, **overrides})


def load_all_months(bq: bigquery.Client, table: str) -> bigquery.LoadJob:
    return bq.load_table_from_uri(f"{TRIPS_PREFIX}*.parquet", f"{DATASET}.{table}", job_config=load_config()).result()


def rows(bq: bigquery.Client, sql: str, **parameters: Any) -> list[tuple]:
    types = {str: "STRING", int: "INT64", dt.date: "DATE"}
    config = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter(name, types[type(value)], value) for name, value in parameters.items()
    ])
    return [tuple(row.values()) for row in bq.query_and_wait(sql, job_config=config)]


def rows_per_month(bq: bigquery.Client, table: str) -> dict[str, int]:
    return dict(rows(bq, f"SELECT pickup_month, COUNT(*) FROM {DATASET}.{table} GROUP BY 1 ORDER BY 1"))


class _TaskInstance:
    """The little of a TaskInstance that operators' execute() touches outside a task run."""

    try_number = 1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.xcom[key] = value


def run_operator(operator: Any) -> tuple[Any, dict[str, Any]]:
    """Execute an operator with a minimal context; return its result and what it pushed to XCom."""
    task_instance = _TaskInstance()
    return operator.execute({"ti": task_instance, "task": operator}), task_instance.xcom


# Installation


def test_install_is_quick_once_done() -> None:
    ensure_installed()  # the fixture may not have run yet
    started = time.monotonic()
    ensure_installed()
    assert time.monotonic() - started < 1.0
    assert find_python()  # a Python 3.13 interpreter, found without hard-coding where it lives
    assert PYTHON_VERSION == (3, 13)


# Load jobs and SQL through google-cloud-bigquery


def test_load_of_hive_partitioned_parquet_makes_a_partitioned_clustered_table(bq: bigquery.Client) -> None:
    job = load_all_months(bq, "trips_loaded")
    assert job.output_rows == sum(MONTH_ROWS.values())

    table = bq.get_table(f"{DATASET}.trips_loaded")
    assert table.num_rows == sum(MONTH_ROWS.values())
    assert table.time_partitioning.field == "pickup_date"
    assert table.time_partitioning.type_ == "DAY"
    assert table.clustering_fields == ["vendor_id"]
    # A timezone-naive timestamp[us] lands as DATETIME (give a schema, or write UTC timestamps, for TIMESTAMP);
    # the hive key becomes a STRING column.
    assert {field.name: field.field_type for field in table.schema} == {
        "vendor_id": "INTEGER", "pickup_datetime": "DATETIME", "pickup_date": "DATE",
        "passenger_count": "INTEGER", "fare_amount": "FLOAT", "pickup_month": "STRING",
    }
    assert rows_per_month(bq, "trips_loaded") == MONTH_ROWS
    assert rows(bq, f"SELECT COUNTIF(passenger_count IS NULL) FROM {DATASET}.trips_loaded") == [(34 + 27,)]


def test_also_utc_timestamps_or_an_explicit_schema_give_a_timestamp_column(
    emulators: tuple[GcsEmulator, BigQueryEmulator], bq: bigquery.Client
) -> None:
    gcs, _ = emulators
    utc = trips("2021-03", 10)
    utc = utc.set_column(1, "pickup_datetime", utc["pickup_datetime"].cast(pa.timestamp("us", tz="UTC")))
    pq.write_table(utc, f"{BUCKET}/utc/2021-03.parquet", filesystem=gcs.arrow_filesystem())
    bq.load_table_from_uri(
        f"gs://{BUCKET}/utc/*.parquet", f"{DATASET}.trips_utc", job_config=load_config(hive_partitioning=None)
    ).result()
    assert bq.get_table(f"{DATASET}.trips_utc").schema[1].field_type == "TIMESTAMP"

    schema = [
        bigquery.SchemaField("vendor_id", "INT64"), bigquery.SchemaField("pickup_datetime", "TIMESTAMP"),
        bigquery.SchemaField("pickup_date", "DATE"), bigquery.SchemaField("passenger_count", "INT64"),
        bigquery.SchemaField("fare_amount", "FLOAT64"), bigquery.SchemaField("pickup_month", "STRING"),
    ]
    bq.load_table_from_uri(
        f"{TRIPS_PREFIX}*.parquet", f"{DATASET}.trips_schema", job_config=load_config(schema=schema)
    ).result()
    assert bq.get_table(f"{DATASET}.trips_schema").schema[1].field_type == "TIMESTAMP"
    assert rows(bq, f"SELECT MIN(pickup_datetime) FROM {DATASET}.trips_schema") == [
        (dt.datetime(2021, 1, 1, tzinfo=dt.UTC),)
    ]


def test_counts_per_partition_and_information_schema_partitions(bq: bigquery.Client) -> None:
    load_all_months(bq, "trips_partitions")
    per_day = rows(bq, f"SELECT pickup_date, COUNT(*) FROM {DATASET}.trips_partitions GROUP BY 1 ORDER BY 1")
    assert per_day[:2] == [(dt.date(2021, 1, 1), 4), (dt.date(2021, 1, 2), 3)]

    partitions = rows(
        bq,
        f"SELECT partition_id, total_rows FROM {DATASET}.INFORMATION_SCHEMA.PARTITIONS "
        "WHERE table_name = @table ORDER BY partition_id",
        table="trips_partitions",
    )
    assert partitions == [(day.strftime("%Y%m%d"), count) for day, count in per_day]
    assert sum(count for _, count in partitions) == sum(MONTH_ROWS.values())


def test_also_delete_by_date_range_then_append_replaces_a_month(bq: bigquery.Client) -> None:
    load_all_months(bq, "trips_replaced")
    january = {"first_day": dt.date(2021, 1, 1), "last_day": dt.date(2021, 1, 31)}
    for _ in range(2):  # a re-run of the same month must not duplicate it
        deleted = bq.query_and_wait(
            f"DELETE FROM {DATASET}.trips_replaced WHERE pickup_date BETWEEN @first_day AND @last_day",
            job_config=bigquery.QueryJobConfig(query_parameters=[
                bigquery.ScalarQueryParameter(name, "DATE", value) for name, value in january.items()
            ]),
        )
        assert deleted.num_dml_affected_rows == MONTH_ROWS["2021-01"]
        assert rows_per_month(bq, "trips_replaced") == {"2021-02": MONTH_ROWS["2021-02"]}

        reloaded = bq.load_table_from_uri(
            f"{TRIPS_PREFIX}pickup_month=2021-01/*.parquet", f"{DATASET}.trips_replaced",
            job_config=load_config(write_disposition=bigquery.WriteDisposition.WRITE_APPEND),
        ).result()
        assert reloaded.output_rows == MONTH_ROWS["2021-01"]
        assert rows_per_month(bq, "trips_replaced") == MONTH_ROWS


def test_also_merge_updates_matched_rows_and_inserts_new_ones(bq: bigquery.Client) -> None:
    load_all_months(bq, "trips_merged")
    bq.query_and_wait(
        f"CREATE TABLE {DATASET}.trips_staging AS SELECT * REPLACE (fare_amount + 1 AS fare_amount) "
        f"FROM {DATASET}.trips_merged WHERE pickup_date = '2021-01-02' UNION ALL "
        f"SELECT 9, DATETIME '2021-03-01 00:00:00', DATE '2021-03-01', 1, 5.0, '2021-03'"
    )
    merged = bq.query_and_wait(
        f"MERGE {DATASET}.trips_merged AS target USING {DATASET}.trips_staging AS source "
        "ON target.pickup_datetime = source.pickup_datetime AND target.vendor_id = source.vendor_id "
        "WHEN MATCHED THEN UPDATE SET fare_amount = source.fare_amount "
        "WHEN NOT MATCHED THEN INSERT ROW"
    )
    assert merged.num_dml_affected_rows == 3 + 1
    assert rows_per_month(bq, "trips_merged") == {**MONTH_ROWS, "2021-03": 1}


def test_also_partitioned_clustered_create_table_as_select(bq: bigquery.Client) -> None:
    load_all_months(bq, "trips_source")
    bq.query_and_wait(
        f"CREATE OR REPLACE TABLE {DATASET}.trips_by_vendor PARTITION BY pickup_date CLUSTER BY vendor_id AS "
        f"SELECT * FROM {DATASET}.trips_source WHERE vendor_id = 1"
    )
    table = bq.get_table(f"{DATASET}.trips_by_vendor")
    assert (table.time_partitioning.field, table.clustering_fields) == ("pickup_date", ["vendor_id"])
    assert table.num_rows == sum(MONTH_ROWS.values()) // 2


def test_partition_decorator_is_not_a_partition_here(bq: bigquery.Client) -> None:
    """BigQuery replaces one partition on a WRITE_TRUNCATE load into `table$20210101`; the emulator makes a
    separate table of that name and leaves the real one alone. Replace a month with DELETE + append instead."""
    load_all_months(bq, "trips_decorated")
    job = bq.load_table_from_uri(
        f"{TRIPS_PREFIX}pickup_month=2021-01/*.parquet", f"{DATASET}.trips_decorated$20210101",
        job_config=load_config(),
    ).result()
    assert job.output_rows == MONTH_ROWS["2021-01"]  # BigQuery would refuse rows of other days
    assert "trips_decorated$20210101" in [table.table_id for table in bq.list_tables(DATASET)]
    assert rows_per_month(bq, "trips_decorated") == MONTH_ROWS


def test_external_tables_are_not_supported(bq: bigquery.Client) -> None:
    with pytest.raises(BadRequest, match="syntax error"):
        bq.query_and_wait(
            f"CREATE EXTERNAL TABLE {DATASET}.trips_external "
            f"OPTIONS (format = 'PARQUET', uris = ['{TRIPS_PREFIX}*.parquet'])"
        )


def test_extract_to_gcs_is_not_seen_by_the_gcs_emulator(
    emulators: tuple[GcsEmulator, BigQueryEmulator], bq: bigquery.Client
) -> None:
    """Extract jobs write files straight into the GCS root, without fake-gcs-server's metadata, and the
    bucket's listing breaks (404). Keep extracts (and EXPORT DATA) to a bucket of their own, or avoid them."""
    gcs, _ = emulators
    gcs.create_bucket("exports")
    load_all_months(bq, "trips_exported")
    bq.extract_table(
        f"{DATASET}.trips_exported", "gs://exports/trips-*.parquet",
        job_config=bigquery.ExtractJobConfig(destination_format="PARQUET"),
    ).result()
    assert list((gcs.root / "exports").glob("trips-*.parquet"))
    with pytest.raises(NotFound):
        list(storage.Client(project=PROJECT).list_blobs("exports"))


def test_also_results_as_dataframes_over_rest_and_the_storage_read_api(
    emulators: tuple[GcsEmulator, BigQueryEmulator], bq: bigquery.Client
) -> None:
    load_all_months(bq, "trips_frames")
    sql = f"SELECT vendor_id, passenger_count FROM {DATASET}.trips_frames ORDER BY pickup_datetime"
    over_rest = bq.query_and_wait(sql).to_dataframe(create_bqstorage_client=False)
    over_grpc = bq.query_and_wait(sql).to_dataframe(bqstorage_client=emulators[1].read_client())
    assert len(over_rest) == len(over_grpc) == sum(MONTH_ROWS.values())
    assert str(over_rest["passenger_count"].dtype) == "Int64"
    assert over_rest["passenger_count"].isna().sum() == over_grpc["passenger_count"].isna().sum() == 61


# The Airflow provider


def test_bigquery_hook_insert_job_runs_queries_and_loads(emulators: tuple[GcsEmulator, BigQueryEmulator]) -> None:

    hook = BigQueryHook(gcp_conn_id="google_cloud_default")
    assert hook.project_id == PROJECT
    load = hook.insert_job(configuration={"load": {
        "sourceUris": [f"{TRIPS_PREFIX}*.parquet"], "sourceFormat": "PARQUET",
        "destinationTable": {"projectId": PROJECT, "datasetId": DATASET, "tableId": "trips_hook"},
        "writeDisposition": "WRITE_TRUNCATE",
        "hivePartitioningOptions": {"mode": "AUTO", "sourceUriPrefix": TRIPS_PREFIX},
        "timePartitioning": {"type": "DAY", "field": "pickup_date"}, "clustering": {"fields": ["vendor_id"]},
    }})
    assert load.output_rows == sum(MONTH_ROWS.values())
    assert hook.table_exists(project_id=PROJECT, dataset_id=DATASET, table_id="trips_hook")

    query = hook.insert_job(configuration={"query": {
        "query": f"DELETE FROM {DATASET}.trips_hook WHERE pickup_month = @month", "useLegacySql": False,
        "queryParameters": [
            {"name": "month", "parameterType": {"type": "STRING"}, "parameterValue": {"value": "2021-02"}},
        ],
    }})
    assert query.num_dml_affected_rows == MONTH_ROWS["2021-02"]
    assert [tuple(row.values()) for row in hook.get_client().query_and_wait(
        f"SELECT COUNT(*) FROM {DATASET}.trips_hook"
    )] == [(MONTH_ROWS["2021-01"],)]


def test_also_gcs_to_bigquery_operator_loads_a_month(bq: bigquery.Client) -> None:

    operator = GCSToBigQueryOperator(
        task_id="load_month", bucket=BUCKET, source_objects=["trips/pickup_month=2021-02/*.parquet"],
        destination_project_dataset_table=f"{PROJECT}.{DATASET}.trips_operator", source_format="PARQUET",
        write_disposition="WRITE_TRUNCATE", time_partitioning={"type": "DAY", "field": "pickup_date"},
        cluster_fields=["vendor_id"],
        # The operator has no hive argument; extra_config goes into the load configuration as it is.
        extra_config={"hivePartitioningOptions": {"mode": "AUTO", "sourceUriPrefix": TRIPS_PREFIX}},
    )
    _, xcom = run_operator(operator)
    assert xcom["job_id"]
    assert rows_per_month(bq, "trips_operator") == {"2021-02": MONTH_ROWS["2021-02"]}
    assert bq.get_table(f"{DATASET}.trips_operator").clustering_fields == ["vendor_id"]


def test_also_bigquery_insert_job_operator_runs_a_query(bq: bigquery.Client) -> None:

    load_all_months(bq, "trips_insert_job")
    operator = BigQueryInsertJobOperator(task_id="delete_month", configuration={"query": {
        "query": f"DELETE FROM {DATASET}.trips_insert_job WHERE pickup_date BETWEEN @first_day AND @last_day",
        "useLegacySql": False,
        "queryParameters": [
            {"name": "first_day", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2021-01-01"}},
            {"name": "last_day", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2021-01-31"}},
        ],
    }})
    job_id, _ = run_operator(operator)
    assert bq.get_job(job_id).state == "DONE"
    assert rows_per_month(bq, "trips_insert_job") == {"2021-02": MONTH_ROWS["2021-02"]}


@pytest.fixture
def no_api_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection without the discovery client's retries, so a call to Google fails at once."""
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", json.dumps({
        "conn_type": "google_cloud_platform", "extra": {"project": PROJECT, "is_anonymous": True, "num_retries": 0},
    }))


@pytest.fixture
def google_unresolvable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under googleapis.com do not resolve (for Python's sockets), so a call that goes to Google fails at
    once, naming the host, with or without internet."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any):
        if isinstance(host, str) and host.endswith("googleapis.com"):
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is made unresolvable by the test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_dbapi_path_does_not_reach_the_emulator(
    emulators: tuple[GcsEmulator, BigQueryEmulator], no_api_retries: None, google_unresolvable: None
) -> None:
    """get_records, get_first and the SQL check operators fetch results with a discovery-based client that
    ignores BIGQUERY_EMULATOR_HOST and goes to bigquery.googleapis.com."""

    with pytest.raises(Exception, match="bigquery.googleapis.com"):
        BigQueryHook(location="US").get_records("SELECT 1")
    with pytest.raises(Exception, match="bigquery.googleapis.com"):
        run_operator(BigQueryCheckOperator(task_id="check", sql="SELECT 1", use_legacy_sql=False, location="US"))


def point_discovery_client_at_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter: when BIGQUERY_EMULATOR_HOST is set, build the hook's discovery client on it."""
    import airflow.providers.google.cloud.hooks.bigquery as bigquery_hooks

    build = bigquery_hooks.build

    def build_on_emulator(service: str, version: str, *args: Any, client_options: Any = None, **kwargs: Any):
        if service == "bigquery" and os.environ.get("BIGQUERY_EMULATOR_HOST"):
            client_options = {"api_endpoint": os.environ["BIGQUERY_EMULATOR_HOST"].rstrip("/") + "/bigquery/v2/"}
        return build(service, version, *args, client_options=client_options, **kwargs)

    monkeypatch.setattr(bigquery_hooks, "build", build_on_emulator)


def test_also_dbapi_path_and_check_operators_with_an_adapter(
    bq: bigquery.Client, monkeypatch: pytest.MonkeyPatch, no_api_retries: None
) -> None:

    point_discovery_client_at_emulator(monkeypatch)
    load_all_months(bq, "trips_checked")
    hook = BigQueryHook(location="US")  # get_records insists on a location
    assert hook.get_records(f"SELECT pickup_month, COUNT(*) FROM {DATASET}.trips_checked GROUP BY 1 ORDER BY 1") == [
        [month, count] for month, count in MONTH_ROWS.items()
    ]
    assert hook.get_first(f"SELECT COUNT(*) FROM {DATASET}.trips_checked") == [sum(MONTH_ROWS.values())]

    count_of_month = f"SELECT COUNT(*) FROM {DATASET}.trips_checked WHERE pickup_month = '2021-02'"
    run_operator(BigQueryCheckOperator(task_id="has_rows", sql=count_of_month, use_legacy_sql=False, location="US"))
    run_operator(BigQueryValueCheckOperator(
        task_id="row_count", sql=count_of_month, pass_value=MONTH_ROWS["2021-02"], use_legacy_sql=False, location="US",
    ))
    with pytest.raises(AirflowException, match="Test failed"):
        run_operator(BigQueryCheckOperator(
            task_id="no_rows", sql=count_of_month.replace("2021-02", "1999-01"), use_legacy_sql=False, location="US",
        ))


def test_table_check_operator_works_over_rest_not_the_storage_read_api(
    bq: bigquery.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BigQueryTableCheckOperator reads results with to_dataframe(), which opens a Storage Read API client on
    bigquerystorage.googleapis.com; without one the client falls back to REST, which the emulator serves."""

    load_all_months(bq, "trips_table_checked")
    check = BigQueryTableCheckOperator(
        task_id="table_checks", table=f"{DATASET}.trips_table_checked", use_legacy_sql=False, location="US",
        checks={"row_count": {"check_statement": f"COUNT(*) = {sum(MONTH_ROWS.values())}"}},
    )
    # gRPC resolves names itself, so on a machine with internet the call reaches Google, and fails there for
    # want of credentials: which host the client was built for is what shows the operator's choice.
    storage_endpoints = []
    ensure_storage_client = bigquery.Client._ensure_bqstorage_client

    def ensure_and_note_endpoint(self: bigquery.Client, *args: Any, **kwargs: Any):
        storage_client = ensure_storage_client(self, *args, **kwargs)
        storage_endpoints.append(storage_client.api_endpoint)
        return storage_client

    monkeypatch.setattr(bigquery.Client, "_ensure_bqstorage_client", ensure_and_note_endpoint)
    with pytest.raises(GoogleAPICallError):
        run_operator(check)
    assert storage_endpoints == ["bigquerystorage.googleapis.com"]

    monkeypatch.setattr(bigquery.Client, "_ensure_bqstorage_client", lambda self, *args, **kwargs: None)
    run_operator(check)
