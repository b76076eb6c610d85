"""`./dev demo`: load a month through the real DAGs on local stand-ins, then show what landed.

Starts the PostgreSQL cluster named by `.env`, serves generated months in the release's layout (this
machine may have no internet; `--real-source` uses the real release), runs each color's DAG with
`airflow dags test`, and prints rows per month and the audit rows. Safe to run again.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from devstack.airflow_stack import airflow_environment
from devstack.postgres_cluster import PostgresCluster
from devstack.source_server import SourceServer
from devstack.synthetic_month import release_path, write_month

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / ".local"
# Row counts of the real files, so the demo moves a realistic volume.
DEMO_ROWS = {("yellow", "2021-01"): 1_369_765, ("green", "2021-01"): 76_518}
TASK_STARTED = re.compile(r"running task <TaskInstance: [\w-]+\.(\w+) ")
OUR_LOG_LINE = re.compile(r"\] (.*?) +\[nyc_taxi\.")
ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Mismatch|NotPublished): ")
RUN_FINISHED = re.compile(r"DagRun Finished: .*?(state=\w+)")


def summary_of(line: str) -> str | None:
    """The lines of an `airflow dags test` log worth showing: tasks starting, our own messages, errors."""
    for pattern, shown in ((TASK_STARTED, "  > {}"), (OUR_LOG_LINE, "      {}"), (ERROR_LINE, "      !! {}"),
                           (RUN_FINISHED, "  run finished: {}")):
        found = pattern.search(line)
        if found:
            return shown.format(line.strip() if pattern is ERROR_LINE else found.group(1))
    return None


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return values


def postgres_cluster(conn_uri: str) -> tuple[PostgresCluster, dict[str, str]]:
    target = urlsplit(conn_uri)
    if target.hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"the demo starts a local cluster, but AIRFLOW_CONN_NY_TAXI_POSTGRES points at {target.hostname}")
    login = {"user": target.username, "password": target.password, "dbname": target.path.lstrip("/")}
    return PostgresCluster(LOCAL / "postgres" / "data", target.port or 5432), login


def serve_generated_months(months: list[str], colors: list[str]) -> SourceServer:
    """Generate the months (once; they are kept in .local/source) and serve them like the release."""
    for label in months:
        year, month = (int(part) for part in label.split("-"))
        for color in colors:
            path = release_path(LOCAL / "source", color, year, month)
            if not path.exists():
                rows = DEMO_ROWS.get((color, label), 100_000)
                print(f"==> generating {rows:,} realistic {color} trips for {label} in {path.relative_to(REPO)}")
                write_month(path, color, year, month, rows)
    server = SourceServer(LOCAL / "source").start()
    print(f"==> serving them like the release at {server.base_url}")
    return server


def run_dag(dag_id: str, logical_date: str, env: dict[str, str], log_file: Path) -> bool:
    print(f"\n==> airflow dags test {dag_id} {logical_date}   (full log: {log_file.relative_to(REPO)})")
    with open(log_file, "w") as log, subprocess.Popen(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as airflow:
        for line in airflow.stdout:
            log.write(line)
            shown = summary_of(line)
            if shown:
                print(shown[:240], flush=True)
    return airflow.returncode == 0 and "state=success" in log_file.read_text()


def show_results(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn) as conn:
        for color in ("yellow", "green"):
            table = f"{schema}.{color}_tripdata"
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                continue
            print(f"\nRows per month in {table}:")
            for month, rows in conn.execute(
                f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {table} GROUP BY 1 ORDER BY 1"
            ):
                print(f"    {month}  {rows:>12,}")
        print(f"\nLatest audit rows ({schema}.load_audit):")
        audit = conn.execute(
            f"""SELECT color, to_char(source_month, 'YYYY-MM'), rows_read, rows_dropped, rows_loaded,
                       bytes_downloaded, extract_seconds, transform_seconds, load_seconds, run_id
                FROM {schema}.load_audit ORDER BY loaded_at DESC LIMIT 4"""
        ).fetchall()
        for color, month, read, dropped, loaded, size, extract_s, transform_s, load_s, run_id in audit:
            print(f"    {color} {month}: read {read:,}, dropped {dropped}, loaded {loaded:,}; "
                  f"{size / 1e6:.1f} MB downloaded; extract {extract_s:.1f} s, transform {transform_s:.1f} s, "
                  f"load {load_s:.1f} s  [{run_id}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", default="2021-01", help="YYYY-MM to load (default 2021-01)")
    parser.add_argument("--color", choices=("yellow", "green"), action="append", help="default: both")
    parser.add_argument("--real-source", action="store_true", help="download from the real release (needs internet)")
    parser.add_argument("--stop", action="store_true", help="stop the demo's PostgreSQL cluster and exit")
    args = parser.parse_args(argv)

    env_file = read_env_file(REPO / ".env")
    cluster, login = postgres_cluster(env_file["AIRFLOW_CONN_NY_TAXI_POSTGRES"])
    if args.stop:
        cluster.stop()
        print("PostgreSQL stopped")
        return 0

    env = airflow_environment(LOCAL / "airflow", f"sqlite:///{LOCAL}/airflow/airflow.db", LOCAL / "staging", env_file)
    (LOCAL / "logs").mkdir(parents=True, exist_ok=True)
    print(f"==> PostgreSQL on 127.0.0.1:{cluster.port} (data in {cluster.data_dir.relative_to(REPO)})")
    cluster.start()
    cluster.create_role_and_database(**login)

    year, month = (int(part) for part in args.month.split("-"))
    colors = args.color or ["yellow", "green"]
    server = None
    if not args.real_source:
        server = serve_generated_months([args.month], colors)
        env["AIRFLOW_VAR_NYC_TLC_BASE_URL"] = server.base_url

    try:
        print("==> airflow db migrate (SQLite in .local/airflow)")
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = {
            color: run_dag(f"{color}_taxi_to_postgres", f"{year:04d}-{month:02d}-01", env,
                           LOCAL / "logs" / f"{color}_taxi_to_postgres.log")
            for color in colors
        }
    finally:
        if server:
            server.stop()

    show_results(cluster.dsn(**login), env_file.get("AIRFLOW_VAR_NY_TAXI_POSTGRES_SCHEMA", "ny_taxi"))
    print(f"\nPostgreSQL keeps running: psql '{cluster.dsn(**login)}'   (stop it with ./dev stop)")
    failed = [color for color, ok in results.items() if not ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}; see .local/logs/", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
