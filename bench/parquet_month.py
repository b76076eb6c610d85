"""`./dev bench --fhvhv`: a high-volume FHV month of the TLC's Parquet files at real size (fhvhv 2019-02, 20,159,102
trips in the TLC's file) into Postgres, ours beside its floor, each in a process of its own, with wall time and peak RSS.

The floor is pyarrow reading the file batch by batch into a binary COPY (pgpq) of a table with the file's own
columns: no mapping, no cleaning, no check. Ours is the DAG's `clean_and_load_month_to_postgres` function: the era's
mapping, the rules, the pickup date, the month's partition replaced in one transaction. Generated with the era's real
schema (devstack/synthetic_parquet.py) into .local/bench/tlc unless there; a PostgreSQL cluster of its own in
.local/bench/tlc-postgres, stopped and removed at the end (it holds 13 GB by then). Written to bench/results.md under "The TLC's Parquet".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

from bench import REPO

BENCH_DIR = REPO / ".local" / "bench"
SOURCE_ROOT = BENCH_DIR / "tlc"
SERVICE, YEAR, MONTH, ROWS = "fhvhv", 2019, 2, 20_159_102
DATABASE = {"user": "taxi", "password": "taxi", "dbname": "ny_taxi"}
FLOOR_TABLE = "fhvhv_trips_raw"
RESULTS_FILE = REPO / "bench" / "results.md"
SECTION = "## The TLC's Parquet: fhvhv 2019-02 at real size"


def floor(path: Path, dsn: str) -> dict:
    """pyarrow -> pgpq -> binary COPY, the file's columns as they are, nothing else."""
    import pgpq
    import psycopg
    import pyarrow.parquet as pq
    from psycopg import sql

    from nyc_taxi.transform import PARQUET_BATCH_ROWS, PARQUET_BUFFER_BYTES, PARQUET_THREADS

    # Read as ours reads: the same batches, buffer and threads.
    parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
    started = time.monotonic()
    rows = 0
    with psycopg.connect(dsn) as conn:
        encoder = pgpq.ArrowToPostgresBinaryEncoder(parquet.schema_arrow)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(FLOOR_TABLE)))
        # The file's own columns, typed as pgpq encodes them; a plain table, as the CSV floors' (bench/sql).
        conn.execute(encoder.schema().ddl(FLOOR_TABLE).replace("CREATE TEMP TABLE", "CREATE TABLE"))
        with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN WITH (FORMAT binary)").format(
                sql.Identifier(FLOOR_TABLE))) as copy:
            copy.write(encoder.write_header())
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=PARQUET_THREADS):
                copy.write(encoder.write_batch(batch))
                rows += batch.num_rows
            copy.write(encoder.finish())
    return {"rows": rows, "seconds": round(time.monotonic() - started, 2)}


def ours(path: Path, dsn: str) -> dict:
    """The DAG's load, as `clean_and_load_month_to_postgres` runs it."""
    import psycopg

    from nyc_taxi.months import TaxiMonth
    from nyc_taxi.postgres import LoadAudit, replace_month
    from nyc_taxi.transform import TransformStats, clean_month_batches

    started = time.monotonic()
    stats = TransformStats.for_color(SERVICE)
    audit = LoadAudit("bench", str(path), path.stat().st_size, 0.0, stats)
    with psycopg.connect(dsn) as conn:
        rows = replace_month(conn, TaxiMonth(SERVICE, YEAR, MONTH), clean_month_batches(path, SERVICE, stats),
                             audit)
    return {"rows": rows, "seconds": round(time.monotonic() - started, 2), "transform": round(stats.seconds, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--way", choices=("floor", "ours"), help="run one way here (the bench's child process)")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--dsn")
    parser.add_argument("--runs", type=int, default=1, help="runs of each way; the report gives each run")
    args = parser.parse_args(argv)
    if args.way:
        print(json.dumps((floor if args.way == "floor" else ours)(args.file, args.dsn)))
        return 0
    return bench(args.runs)


def bench(runs: int) -> int:
    from bench.measure import run_measured
    from devstack.local_env import local_environment
    from devstack.postgres_cluster import PostgresCluster
    from devstack.server_process import free_port
    from devstack.synthetic_parquet import tlc_path, write_parquet_month

    path = tlc_path(SOURCE_ROOT, SERVICE, YEAR, MONTH)
    if not path.exists():
        started = time.monotonic()
        write_parquet_month(path, SERVICE, YEAR, MONTH, ROWS, seed=YEAR * 100 + MONTH)
        print(f"generated {path}: {ROWS:,} trips, {path.stat().st_size:,} bytes in {time.monotonic() - started:.0f} s")
    cluster = PostgresCluster(BENCH_DIR / "tlc-postgres" / "data", free_port()).start()
    results = []
    try:
        cluster.create_role_and_database(**DATABASE)
        dsn = cluster.dsn(**DATABASE)
        for run in range(runs):
            for way in ("floor", "ours"):
                measured = run_measured(
                    [sys.executable, "-m", "bench.parquet_month", "--way", way, "--file", str(path), "--dsn", dsn],
                    BENCH_DIR / "logs" / f"tlc-{way}-{run}.log",
                    env=local_environment())  # the deployment's settings, ARROW_DEFAULT_MEMORY_POOL among them
                if measured.returncode != 0:
                    raise SystemExit(f"{way} failed: see {BENCH_DIR / 'logs' / f'tlc-{way}-{run}.log'}")
                results.append((way, measured.wall_seconds, measured.peak_rss_mb, measured.steps.get("rows")))
                print(f"{way:5s} run {run + 1}: {measured.wall_seconds:6.1f} s, peak RSS {measured.peak_rss_mb:5.0f} MB, "
                      f"{measured.steps.get('rows'):,} rows", flush=True)
    finally:
        cluster.stop()
        # Two copies of 20 M trips: 13 GB that no later run reads.
        shutil.rmtree(BENCH_DIR / "tlc-postgres", ignore_errors=True)
    write_results(path, results)
    return 0


def write_results(path: Path, results: list[tuple[str, float, float, int]]) -> None:
    floors = [seconds for way, seconds, _, _ in results if way == "floor"]
    lines = [SECTION, "",
             f"`./dev bench --fhvhv`, {dt.date.today():%Y-%m-%d}: {path.name} generated with its era's schema "
             f"({ROWS:,} trips, {path.stat().st_size / 1e6:,.0f} MB of Parquet, row groups of 1,048,576), each way "
             f"in a process of its own (peak RSS by GNU time). Floor: pyarrow batches into a binary COPY of the "
             f"file's columns, nothing else. Ours: the DAG's load (mapping, rules, pickup date, partition replaced "
             f"in one transaction).", "",
             "| way | run | wall s | × floor | peak RSS MB | rows |", "|---|---|---|---|---|---|"]
    for index, (way, seconds, peak, rows) in enumerate(results):
        floor_seconds = floors[index // 2] if floors else seconds
        lines.append(f"| {way} | {index // 2 + 1} | {seconds:.1f} | {seconds / floor_seconds:.2f} | {peak:.0f} | "
                     f"{rows:,} |")
    text = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else ""
    if SECTION in text:
        before, _, after = text.partition(SECTION)
        rest = after.split("\n## ", 1)
        text = before + "\n".join(lines) + ("\n\n## " + rest[1] if len(rest) > 1 else "\n")
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    RESULTS_FILE.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
