"""`./dev demo`: load a month through the real DAGs on local stand-ins, then show what landed.

Starts the PostgreSQL cluster named by `.env` (or `.env.local`, or the shell) and the GCS and BigQuery
emulators, serves generated months and the zone lookup in the release's layout (this machine may have no internet;
`--real-source` uses the real release), runs the zone lookup's DAGs, then each color's Postgres, GCS and BigQuery
DAGs with `airflow dags test`, and prints rows per month, the audit rows, the objects and partitions in the bucket
and the rows per partition in BigQuery.
Safe to run again.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import psycopg

from devstack.airflow_stack import STACK_HOME, airflow_environment
from devstack.local_env import (
    GCP_PROJECT,
    LOCAL,
    LOCAL_BUCKET,
    REPO,
    local_environment,
    local_postgres_cluster,
    serve_generated_months,
    start_gcp_emulators,
)
from nyc_taxi.months import TAXI_COLORS, TaxiMonth
from nyc_taxi.schema import pickup_date_column
from nyc_taxi.settings import Settings

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


def run_dag(dag_id: str, arguments: list[str], env: dict[str, str], log_file: Path) -> bool:
    print(f"\n==> airflow dags test {dag_id} {' '.join(arguments)}   (full log: {log_file.relative_to(REPO)})")
    with open(log_file, "w") as log, subprocess.Popen(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, *arguments],
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
        if conn.execute("SELECT to_regclass(%s)", (f"{schema}.zones",)).fetchone()[0] is not None:
            zones, boroughs = conn.execute(f"SELECT count(*), count(DISTINCT borough) FROM {schema}.zones").fetchone()
            print(f"\nZones in {schema}.zones: {zones} in {boroughs} boroughs")
        for color in TAXI_COLORS:
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
            f"""SELECT color, to_char(source_month, 'YYYY-MM'), rows_read, rows_dropped, rows_flagged, rows_loaded,
                       bytes_downloaded, extract_seconds, transform_seconds, load_seconds, run_id
                FROM {schema}.load_audit ORDER BY loaded_at DESC LIMIT {len(TAXI_COLORS)}"""
        ).fetchall()
        for color, month, read, dropped, flagged, loaded, size, extract_s, transform_s, load_s, run_id in audit:
            flagged_text = f", kept but flagged {flagged}" if flagged else ""
            print(f"    {color} {month}: read {read:,}, dropped {dropped}{flagged_text}, loaded {loaded:,}; "
                  f"{size / 1e6:.1f} MB downloaded; extract {extract_s:.1f} s, transform {transform_s:.1f} s, "
                  f"load {load_s:.1f} s  [{run_id}]")


def show_gcs_and_bigquery(bucket: str, months: list[TaxiMonth], bigquery_emulator) -> None:
    from google.cloud import storage

    objects = list(storage.Client(project=GCP_PROJECT).list_blobs(bucket))
    prefix = Settings.gcs_prefix
    print(f"\nObjects in gs://{bucket}: {len(objects)}")
    for month in months:
        manifest = next((blob for blob in objects if blob.name.endswith(f"{month.color}/_manifests/{month.label}.json")),
                        None)
        partitions = {blob.name.rsplit("/", 2)[-2] for blob in objects if blob.name.startswith(f"{prefix}/{month.color}/")
                      and f"/{month.label}-" in blob.name}
        print(f"    {month}: {len(partitions)} pickup-date partitions, e.g. gs://{bucket}/{prefix}/{month.color}/"
              f"{sorted(partitions)[len(partitions) // 2] if partitions else '-'}/; manifest "
              f"{'written' if manifest else 'MISSING'}")
    client = bigquery_emulator.client()
    dataset = Settings.bigquery_dataset
    for month in months:
        rows = list(client.query_and_wait(
            f"SELECT {pickup_date_column(month.color)} AS day, COUNT(*) AS trips FROM `{GCP_PROJECT}.{dataset}."
            f"{month.color}_tripdata` WHERE source_month = DATE '{month.first_day}' GROUP BY 1 ORDER BY 1"))
        print(f"\nRows per partition in BigQuery {GCP_PROJECT}.{dataset}.{month.color}_tripdata ({month}): "
              f"{sum(row['trips'] for row in rows):,} in {len(rows)} partitions")
        shown = rows if len(rows) <= 6 else [*rows[:3], None, *rows[-3:]]
        for row in shown:
            print("    ..." if row is None else f"    {row['day']}  {row['trips']:>10,}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", default="2021-01", help="YYYY-MM to load (default 2021-01)")
    parser.add_argument("--color", choices=TAXI_COLORS, action="append", help="default: all")
    parser.add_argument("--real-source", action="store_true", help="download from the real release (needs internet)")
    parser.add_argument("--postgres-only", action="store_true", help="skip the GCS and BigQuery pipelines")
    parser.add_argument("--stop", action="store_true", help="stop the demo's PostgreSQL cluster and exit")
    args = parser.parse_args(argv)

    configured = local_environment()
    cluster, login = local_postgres_cluster(configured["AIRFLOW_CONN_NY_TAXI_POSTGRES"])
    if args.stop:
        cluster.stop()
        print("PostgreSQL stopped")
        return 0

    env = airflow_environment(LOCAL / "airflow", f"sqlite:///{LOCAL}/airflow/airflow.db", LOCAL / "staging",
                              base=configured)
    (LOCAL / "logs").mkdir(parents=True, exist_ok=True)
    print(f"==> PostgreSQL on 127.0.0.1:{cluster.port} (data in {cluster.data_dir.relative_to(REPO)})")
    cluster.start()
    cluster.create_role_and_database(**login)

    year, month = (int(part) for part in args.month.split("-"))
    colors = args.color or list(TAXI_COLORS)
    server = None
    if not args.real_source:
        server = serve_generated_months([args.month], colors)
        env["AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL"] = server.base_url

    emulators = [] if args.postgres_only else start_gcp_emulators(env)
    # The zones first, so that the months' checks find them.
    dag_runs = [("taxi_zones_to_postgres", [])] + ([] if args.postgres_only else [("taxi_zones_to_bigquery", [])])
    dag_runs += [(f"{color}_taxi_to_postgres", [f"{year:04d}-{month:02d}-01"]) for color in colors]
    if not args.postgres_only:
        dag_runs += [(f"{color}_taxi_to_gcs", [f"{year:04d}-{month:02d}-01"]) for color in colors]
        # Run by hand, the BigQuery DAG takes its month from params; the scheduler would hand it the asset event.
        dag_runs += [(f"{color}_taxi_gcs_to_bigquery", ["-c", json.dumps({"year": year, "month": month})])
                     for color in colors]
    try:
        print("==> airflow db migrate (SQLite in .local/airflow)")
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = {dag_id: run_dag(dag_id, arguments, env, LOCAL / "logs" / f"{dag_id}.log")
                   for dag_id, arguments in dag_runs}
        schema = configured.get("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", Settings.postgres_schema)
        show_results(cluster.dsn(**login), schema)
        if emulators:
            show_gcs_and_bigquery(LOCAL_BUCKET, [TaxiMonth(color, year, month) for color in colors], emulators[0])
    finally:
        for running in emulators + ([server] if server else []):
            running.stop()

    print(f"\nPostgreSQL keeps running: psql '{cluster.dsn(**login)}'   (stop it with ./dev stop)")
    print("See it in the Airflow UI: ./dev stack, then http://127.0.0.1:8080 (user admin, password in "
          f"{STACK_HOME.relative_to(REPO)}/simple_auth_manager_passwords.json.generated). The page 'NYC taxi loads' "
          "shows the months this demo loaded; trigger or backfill more there.")
    failed = [dag_id for dag_id, ok in results.items() if not ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}; see .local/logs/", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
