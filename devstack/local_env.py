"""What every local command shares: its settings, the PostgreSQL cluster they name, and months served like the release.

Settings are `.env`, then `.env.local`, then the shell, the later winning: `./dev demo`, `./dev stack`,
`./dev airflow` and `./dev bench` all start from `local_environment()`, so a value put in the git-ignored
`.env.local` or exported in the shell overrides the repo's local defaults in `.env`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from devstack.postgres_cluster import PostgresCluster
from devstack.source_server import SourceServer

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / ".local"
ENV_FILES = (".env", ".env.local")  # in this order; .env.local is optional
# Trips in a generated month the release does not hold (the source then serves a month the DAGs refuse).
FALLBACK_ROWS = 100_000
# The emulators' project and bucket, for the demo and the stack.
GCP_PROJECT = "nyc-taxi-local"
LOCAL_BUCKET = "nyc-taxi-lake"


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines; blank lines and `#` comments are skipped, quotes around a value dropped."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return values


def local_environment(root: Path = REPO, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`root/.env`, overridden by `root/.env.local` if it exists, overridden by `environ` (the shell)."""
    values: dict[str, str] = {}
    for name in ENV_FILES:
        if (root / name).exists():
            values.update(read_env_file(root / name))
    return {**values, **environ}


def local_postgres_cluster(conn_uri: str) -> tuple[PostgresCluster, dict[str, str]]:
    """The cluster under .local that the connection URI names (not started), and the URI's login and database."""
    target = urlsplit(conn_uri)
    if target.hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"the local commands start a local cluster, but AIRFLOW_CONN_NY_TAXI_POSTGRES points at "
                 f"{target.hostname}")
    login = {"user": target.username, "password": target.password, "dbname": target.path.lstrip("/")}
    return PostgresCluster(LOCAL / "postgres" / "data", target.port or 5432), login


def serve_generated_months(months: list[str], colors: list[str]) -> SourceServer:
    """Generate the months and the zone lookup (once; they are kept in .local/source) and serve them like the
    release."""
    # numpy and pyarrow only when months are served: `./dev airflow` needs neither.
    from devstack.release import real_rows
    from devstack.synthetic_month import release_path, write_month
    from devstack.synthetic_zones import write_zone_lookup, zone_lookup_path

    if not zone_lookup_path(LOCAL / "source").exists():
        write_zone_lookup(LOCAL / "source")

    for label in months:
        year, month = (int(part) for part in label.split("-"))
        for color in colors:
            path = release_path(LOCAL / "source", color, year, month)
            if not path.exists():
                # The real file's row count, so a generated month moves a realistic volume.
                rows = real_rows(color, label) or FALLBACK_ROWS
                print(f"==> generating {rows:,} realistic {color} trips for {label} in {path.relative_to(REPO)}")
                write_month(path, color, year, month, rows)
    server = SourceServer(LOCAL / "source").start()
    print(f"==> serving them like the release at {server.base_url}")
    return server


def start_gcp_emulators(env: dict[str, str]) -> list:
    """The GCS and BigQuery emulators under .local (started), with the variables the DAGs need to reach them set in
    `env` and in this process; returns them, to stop."""
    from devstack.bigquery_emulator import BigQueryEmulator
    from devstack.gcs_emulator import GcsEmulator

    print("==> GCS and BigQuery emulators (the first start installs .venv-bigquery)")
    gcs = GcsEmulator(LOCAL / "gcs", project=GCP_PROJECT).start()
    gcs.create_bucket(LOCAL_BUCKET)
    bigquery = BigQueryEmulator(gcs.root, GCP_PROJECT, data_dir=LOCAL / "bigquery").start()
    for emulator in (gcs, bigquery):
        env.update(emulator.environment())
        os.environ.update(emulator.environment())
    env["AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET"] = LOCAL_BUCKET
    return [bigquery, gcs]
