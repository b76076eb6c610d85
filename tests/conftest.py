"""One test session, one set of real services: an Airflow home, a PostgreSQL cluster and a source server.

Airflow reads its configuration when first imported, so the environment is set here, before any test
module imports it. Tests that need Airflow running or an emulator are marked `slow` here, from the fixtures
they use, so `./dev test --quick` (`-m "not slow"`) leaves them out without anyone remembering to mark them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from devstack.airflow_stack import airflow_environment
from devstack.server_process import free_port

REPO = Path(__file__).resolve().parents[1]
SESSION_DIR = Path(tempfile.mkdtemp(prefix="nyc-taxi-tests-"))
SESSION_DIR.chmod(0o755)  # the postgres OS user must reach its data directory below

os.environ.update(airflow_environment(
    SESSION_DIR / "airflow", f"sqlite:///{SESSION_DIR}/airflow/airflow.db", SESSION_DIR / "staging"
))
(SESSION_DIR / "airflow").mkdir()

DATABASE = {"user": "taxi", "password": "taxi", "dbname": "ny_taxi"}


@pytest.fixture(scope="session")
def postgres_cluster():
    from devstack.postgres_cluster import PostgresCluster

    cluster = PostgresCluster(SESSION_DIR / "postgres" / "data", free_port(), fast=True).start()
    cluster.create_role_and_database(**DATABASE)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster) -> str:
    return postgres_cluster.dsn(**DATABASE)


_schema_numbers = itertools.count(1)


@pytest.fixture
def pg_schema(postgres_dsn) -> str:
    """A schema of the test's own, dropped afterwards, so tests never see each other's months."""
    import psycopg

    schema = f"test_{next(_schema_numbers)}"
    yield schema
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def pg_conn(postgres_dsn):
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def source_server():
    """Serves `<root>/<color>/<color>_tripdata_YYYY-MM.csv.gz` like the release; tests write files into `root`."""
    from devstack.source_server import SourceServer

    root = SESSION_DIR / "source"
    root.mkdir()
    with SourceServer(root) as server:
        yield server


@pytest.fixture
def source(source_server):
    """The session's source server, with any faults a test scripted cleared afterwards."""
    yield source_server
    source_server.reset_faults()


GCP_PROJECT = "nyc-taxi-local"


@pytest.fixture(scope="session")
def gcs_emulator():
    from devstack.gcs_emulator import GcsEmulator

    with GcsEmulator(SESSION_DIR / "gcs", project=GCP_PROJECT) as gcs:
        yield gcs


@pytest.fixture(scope="session")
def bigquery_emulator(gcs_emulator):
    from devstack.bigquery_emulator import BigQueryEmulator

    with BigQueryEmulator(gcs_emulator.root, GCP_PROJECT) as bigquery:
        yield bigquery


@pytest.fixture
def gcp(gcs_emulator, monkeypatch):
    """The GCS emulator's variables (STORAGE_EMULATOR_HOST, the google_cloud_default connection) for a test."""
    for name, value in gcs_emulator.environment().items():
        monkeypatch.setenv(name, value)
    return gcs_emulator


@pytest.fixture
def bigquery(gcp, bigquery_emulator, monkeypatch):
    """Both emulators' variables for a test: BIGQUERY_EMULATOR_HOST too."""
    for name, value in bigquery_emulator.environment().items():
        monkeypatch.setenv(name, value)
    return bigquery_emulator


@pytest.fixture(scope="session")
def redis_server():
    """A Redis, the Celery workers' broker."""
    from devstack.redis_server import RedisServer

    with RedisServer(SESSION_DIR / "redis") as server:
        yield server


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (SQLite), migrated once per session."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=os.environ.copy()
    )


# Fixtures that start Airflow (its metadata database, the scheduler and api-server) or an emulator, directly or
# through others (`gcp`, `bigquery`, `bucket` ...: pytest lists a test's fixtures transitively). A new fixture
# that starts such a service belongs here.
SLOW_FIXTURES = {"airflow_db", "airflow_stack", "gcs_emulator", "bigquery_emulator", "redis_server"}
# Modules that start these services themselves, without the session's fixtures (the emulators' own tests).
SLOW_SERVICES = {"AirflowStack", "GcsEmulator", "BigQueryEmulator", "RedisServer", "backfill_phase"}
# Browser tests drive the UI of a running Airflow.
SLOW_DIRS = (REPO / "tests" / "ui",)


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true", help='leave out the tests marked slow (-m "not slow")')


def pytest_collection_modifyitems(config, items):
    for item in items:
        module_names = vars(item.module) if getattr(item, "module", None) else {}
        if (
            SLOW_FIXTURES.intersection(item.fixturenames)
            or SLOW_SERVICES.intersection(module_names)
            or any(item.path.is_relative_to(folder) for folder in SLOW_DIRS)
        ):
            item.add_marker(pytest.mark.slow)
    if config.getoption("--quick"):
        slow = [item for item in items if item.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0:
        shutil.rmtree(SESSION_DIR, ignore_errors=True)
    else:
        print(f"\nKept {SESSION_DIR} for its logs (Airflow homes, servers); remove it when done.")


@pytest.fixture(scope="session")
def mail_server():
    """A real SMTP server (aiosmtpd) keeping each mail it receives as an .eml file."""
    from devstack.mail_server import MailServer

    with MailServer(SESSION_DIR / "mail") as server:
        yield server


@pytest.fixture(scope="session")
def json_receiver():
    """An HTTP server keeping each JSON body POSTed to it: Slack's webhook and the OpenLineage endpoint."""
    from devstack.json_receiver import JsonReceiver

    with JsonReceiver() as receiver:
        yield receiver
