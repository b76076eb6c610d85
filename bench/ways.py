"""The ways of loading a month, each run by the benchmark in a process of its own:

    python -m bench.ways WAY --dsn DSN --base-url URL --month YYYY-MM [--color C] --source-root DIR --work-dir DIR

A way loads the month (yellow unless --color says otherwise; the floors and the reference ways only know yellow) and prints, as its last line, a JSON object with each step's seconds and the
process's peak RSS when the step ended.
The benchmark measures wall time and peak RSS from outside and counts the rows that landed. Each way
imports only what it uses, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import shlex
import shutil
import sys
import time
from pathlib import Path

import bench  # noqa: F401  (puts plugins/ on sys.path)

SCHEMA = "bench"
RAW_TABLE = f"{SCHEMA}.yellow_trips_raw"  # bench/sql/create_raw_trips.sql
# and create_raw_green_trips.sql, create_raw_fhv_trips.sql
RAW_TABLES = {"yellow": RAW_TABLE, "green": f"{SCHEMA}.green_trips_raw", "fhv": f"{SCHEMA}.fhv_trips_raw"}
TO_SQL_TABLE = "yellow_taxi_data"  # created by pandas, as the week-1 script does
GCS_BUCKET = "bench"  # in the GCS emulator the benchmark starts


def floor(args) -> dict:
    """The floor: gzip chunks written to psycopg's COPY into a typed table as they are inflated; no parsing,
    no filtering on the client. The cheaper of the two floors measured."""
    import gzip

    import psycopg

    with (
        psycopg.connect(args.dsn) as conn,
        conn.cursor().copy(f"COPY {RAW_TABLES[args.color]} FROM STDIN (FORMAT csv, HEADER)") as copy,
        gzip.open(source_file(args)) as csv_bytes,
    ):
        while chunk := csv_bytes.read(1 << 20):
            copy.write(chunk)
    return {}


def floor_psql(args) -> dict:
    """The floor from the shell: `gzip -dc FILE | psql -c '\\copy ... FROM STDIN (FORMAT csv, HEADER)'`.

    This process is replaced by the pipeline (exec), so no Python stays resident. psql reads its input line
    by line (to spot the `\\.` end marker), which makes it a little slower than `floor` here.
    """
    copy = f"\\copy {RAW_TABLE} FROM STDIN (FORMAT csv, HEADER)"
    pipeline = (
        f"gzip -dc {shlex.quote(str(source_file(args)))} "
        f"| psql {shlex.quote(args.dsn)} --quiet --no-psqlrc -v ON_ERROR_STOP=1 -c {shlex.quote(copy)}"
    )
    sys.stdout.flush()
    os.execvp("bash", ["bash", "-o", "pipefail", "-c", pipeline])


def mage(args) -> dict:
    """Mage's blocks in the zoomcamp module: read_csv of the URL with the module's dtypes, keep
    `passenger_count > 0`, then the exporter's one CSV buffer of the whole frame, COPYed."""
    import io

    import pandas as pd
    import psycopg

    taxi_dtypes = {
        "VendorID": pd.Int64Dtype(),
        "passenger_count": pd.Int64Dtype(),
        "trip_distance": float,
        "RatecodeID": pd.Int64Dtype(),
        "store_and_fwd_flag": str,
        "PULocationID": pd.Int64Dtype(),
        "DOLocationID": pd.Int64Dtype(),
        "payment_type": pd.Int64Dtype(),
        "fare_amount": float,
        "extra": float,
        "mta_tax": float,
        "tip_amount": float,
        "tolls_amount": float,
        "improvement_surcharge": float,
        "total_amount": float,
        "congestion_surcharge": float,
    }
    parse_dates = ["tpep_pickup_datetime", "tpep_dropoff_datetime"]
    steps = Steps()
    trips = pd.read_csv(source_url(args), sep=",", compression="gzip", dtype=taxi_dtypes, parse_dates=parse_dates)
    steps.done("read_csv")
    trips = trips[trips["passenger_count"] > 0]
    steps.done("filter")
    buffer = io.StringIO()
    trips.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    steps.done("to_csv")
    with psycopg.connect(args.dsn) as conn, conn.cursor().copy(f"COPY {RAW_TABLE} FROM STDIN (FORMAT csv)") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)
    steps.done("copy")
    return steps.report


def zoomcamp(args) -> dict:
    """The week-1 `ingest_data.py`: wget the file, read_csv in 100k-row chunks, `to_sql(if_exists="append")`."""
    import urllib.request

    import pandas as pd
    from sqlalchemy import create_engine

    steps = Steps()
    csv_name = Path(args.work_dir) / "output.csv.gz"
    csv_name.parent.mkdir(parents=True, exist_ok=True)
    urllib.request.urlretrieve(source_url(args), csv_name)
    steps.done("download")
    engine = create_engine(args.dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    trips_iter = pd.read_csv(csv_name, iterator=True, chunksize=100_000)
    first = True
    for trips in trips_iter:
        trips.tpep_pickup_datetime = pd.to_datetime(trips.tpep_pickup_datetime)
        trips.tpep_dropoff_datetime = pd.to_datetime(trips.tpep_dropoff_datetime)
        if first:
            trips.head(n=0).to_sql(name=TO_SQL_TABLE, con=engine, schema=SCHEMA, if_exists="replace")
            first = False
        trips.to_sql(name=TO_SQL_TABLE, con=engine, schema=SCHEMA, if_exists="append")
    steps.done("read_csv+to_sql")
    csv_name.unlink()
    return steps.report


def ours(args) -> dict:
    """The project's pipeline as the Postgres DAG chains its tasks: download_month_file to a staging file, then
    replace_month over clean_month_batches of it (cleaned as copied); the staging files removed after."""
    import psycopg

    from nyc_taxi.postgres import LoadAudit, replace_month
    from nyc_taxi.transform import TransformStats, clean_month_batches

    steps = Steps()
    with downloaded(args, steps) as (month, url, download):
        stats = TransformStats.for_color(month.color)
        audit = LoadAudit(run_id="bench", source_url=url, bytes_downloaded=download.bytes_downloaded,
                          extract_seconds=round(download.seconds, 3), transform=stats)
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            replace_month(conn, month, clean_month_batches(download.path, month.color, stats, name=url), audit)
        steps.done("clean+load")
    return steps.report


def ours_gcs(args) -> dict:
    """The GCS DAG's tasks: download and clean as above, then partitions written locally, uploaded to the
    emulator's staging prefix and published with a manifest (write_month_to_gcs). Like `ours` with psycopg,
    it takes the client straight from the library; the task gets the same client from GCSHook."""
    from google.cloud import storage

    from nyc_taxi.gcs import MonthLayout, publish_month, upload_to_staging, write_month_partitions
    from nyc_taxi.transform import cleaned_batches

    steps = Steps()
    with downloaded_and_cleaned(args, steps) as (month, cleaned_path):
        layout = MonthLayout(GCS_BUCKET, "ours", month)
        local_dir = Path(args.work_dir) / "staging" / "gcs"
        try:
            written = write_month_partitions(cleaned_batches(cleaned_path), month, local_dir)
            steps.done("partition")
            client = storage.Client(project="bench")
            manifest = publish_month(client, layout, upload_to_staging(client, layout, local_dir, written, "bench"))
            steps.done("upload+publish")
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
    steps.report["_rows"] = manifest["rows"]
    return steps.report


def pyarrow_gcs(args) -> dict:
    """The one-call way: pyarrow reads the whole CSV (types inferred, no filters), adds the pickup date and
    writes a hive-partitioned dataset straight to the emulator with `write_to_dataset`."""
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from devstack.gcs_emulator import arrow_filesystem

    steps = Steps()
    trips = pa_csv.read_csv(source_file(args))
    trips = trips.append_column("tpep_pickup_date", pc.cast(trips["tpep_pickup_datetime"], "date32"))
    steps.done("read_csv")
    filesystem = arrow_filesystem(os.environ["STORAGE_EMULATOR_HOST"], "bench")
    pq.write_to_dataset(trips, f"{GCS_BUCKET}/pyarrow/yellow", partition_cols=["tpep_pickup_date"],
                        filesystem=filesystem)
    steps.done("write_to_dataset")
    steps.report["_rows"] = trips.num_rows
    return steps.report


@contextlib.contextmanager
def downloaded(args, steps):
    """Every DAG's first task, staged under --staging-url (default: a folder of --work-dir), removed afterwards."""
    from nyc_taxi.months import TaxiMonth
    from nyc_taxi.source import download_month_file
    from nyc_taxi.staging import remove, staging_root

    month = TaxiMonth.parse(args.color, args.month)
    url = month.source_url(args.base_url)
    staging = staging_root(args.staging_url or (Path(args.work_dir) / "staging").as_uri()) / month.color / month.label
    try:
        download = download_month_file(url, staging / month.file_name)
        steps.done("download")
        yield month, url, download
    finally:
        remove(staging)


@contextlib.contextmanager
def downloaded_and_cleaned(args, steps):
    """The GCS DAG's first two tasks: the download, then the month cleaned into a staging file beside it."""
    from nyc_taxi.transform import cleaned_path_beside, transform_month_file

    with downloaded(args, steps) as (month, url, download):
        cleaned_path = cleaned_path_beside(download.path)
        transform_month_file(download.path, month.color, cleaned_path, name=url)
        steps.done("transform")
        yield month, cleaned_path


class Steps:
    """Seconds per step, each from the end of the one before, and the process's peak RSS when it ended."""

    def __init__(self) -> None:
        self.report: dict[str, dict] = {}
        self._last = time.monotonic()

    def done(self, step: str) -> None:
        now = time.monotonic()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.report[step] = {"seconds": round(now - self._last, 3), "peak_mb": round(peak_mb)}
        self._last = now


def source_file(args) -> Path:
    year, month = (int(part) for part in args.month.split("-"))
    return Path(args.source_root) / args.color / f"{args.color}_tripdata_{year:04d}-{month:02d}.csv.gz"


def source_url(args) -> str:
    return f"{args.base_url.rstrip('/')}/{args.color}/{source_file(args).name}"


def all_ways() -> dict:
    return {
        "floor": floor,
        "floor-psql": floor_psql,
        "mage": mage,
        "zoomcamp": zoomcamp,
        "ours": ours,
        "ours-gcs": ours_gcs,
        "pyarrow-gcs": pyarrow_gcs,
    }


def main(argv: list[str] | None = None) -> int:
    ways = all_ways()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("way", choices=sorted(ways))
    parser.add_argument("--dsn", required=True, help="postgresql://USER:PASSWORD@127.0.0.1:PORT/DBNAME")
    parser.add_argument("--base-url", required=True, help="the source server, laid out like the release")
    parser.add_argument("--month", default="2021-01", help="the month, YYYY-MM")
    parser.add_argument("--color", default="yellow", help="the color of the month (ours only; default yellow)")
    parser.add_argument("--source-root", type=Path, required=True, help="the served files, read by the floors")
    parser.add_argument("--work-dir", type=Path, required=True, help="where a way may stage files")
    parser.add_argument("--staging-url", help="ours: stage here instead (e.g. gs://bench/_staging on the emulator)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    steps = ways[args.way](args)
    print(json.dumps(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
