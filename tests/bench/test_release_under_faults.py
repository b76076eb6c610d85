"""A year of all three colors through the scheduler while the scheduler is killed, Postgres crashes and the staging
disk fills: with the supervisor restarting what died, every month ends exact (the chaos bench, small)."""

from __future__ import annotations

import os

from bench.release import Report, backfill_phase
from devstack.postgres_cluster import PostgresCluster
from devstack.release import generate_release, release_files
from devstack.server_process import free_port
from devstack.source_server import SourceServer
from tests.conftest import REPO, SESSION_DIR

FRACTION = 0.0005  # of each month's real rows: 11,572 trips for FHV 2019-01, 52 for green 2019-12
YEAR = "2019"
SEED = 7
RECOVERY_BOUND_SECONDS = 120


def test_a_year_of_every_color_survives_three_faults_and_ends_exact():
    from devstack.local_env import read_env_file

    generated = generate_release(SESSION_DIR / "release", release_files(first=f"{YEAR}-01", last=f"{YEAR}-12"),
                                 FRACTION, SEED, progress=lambda line: None)
    # A cluster of its own: the faults crash it, and the session's other stacks keep their metadata in theirs.
    # Durable, as a user's: with the session's fast settings (synchronous_commit off) an immediate stop loses commits
    # already acknowledged, such as a finished task's XCom, and its downstream task fails on nothing.
    cluster = PostgresCluster(SESSION_DIR / "chaos-postgres" / "data", free_port()).start()
    try:
        cluster.create_role_and_database("taxi", "taxi", "ny_taxi")
        with SourceServer(SESSION_DIR / "release") as source:
            env = {**read_env_file(REPO / ".env"),
                   "AIRFLOW_CONN_NY_TAXI_POSTGRES": f"postgresql://taxi:taxi@127.0.0.1:{cluster.port}/ny_taxi",
                   "AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL": source.base_url,
                   "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": "ny_taxi"}
            report = Report(None, generated, {})
            phase = backfill_phase(
                "chaos test", cluster, {**os.environ, **env}, SESSION_DIR / "chaos", generated, {},
                chaos_seed=SEED, taxi_dsn=cluster.dsn("taxi", "taxi", "ny_taxi"), report=report,
                # Months this small are mostly Airflow's own waits: four at a time on two cores.
                fault_window_seconds=30, slots=4,
            )
    finally:
        cluster.stop()
    struck = {record.name for record in report.fault_log}
    assert struck == {"kill the scheduler", "stop Postgres in immediate mode", "fill the staging disk"}, \
        report.fault_log
    assert all(record.recovery_seconds is not None and record.recovery_seconds < RECOVERY_BOUND_SECONDS
               for record in report.fault_log), report.fault_log
    # Every month exact against the source's own count, its audit row that of its last successful run, nothing
    # left queued or running.
    assert report.problems == []
    assert phase.tries > 0  # the faults cost retries, and the retries did the work
