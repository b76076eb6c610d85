"""A throwaway cluster starts, takes a password login over TCP for a created role, and stops."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from devstack.postgres_cluster import PostgresCluster, PostgresClusterError
from devstack.server_process import free_port

BIN_DIR = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
pytestmark = pytest.mark.skipif(not (BIN_DIR / "initdb").exists(), reason=f"no PostgreSQL binaries in {BIN_DIR}")


@pytest.fixture(scope="module")
def base_dir():
    # Not pytest's tmp_path: /tmp/pytest-of-root is 0700, so the postgres OS user could not reach it.
    base = Path(tempfile.mkdtemp(prefix="devstack-pg-test-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(base_dir: Path):
    with PostgresCluster(base_dir / "nested" / "data", free_port(), BIN_DIR, fast=True) as running:
        yield running
    assert not running.is_running()


def test_started_cluster_listens_on_loopback(cluster: PostgresCluster) -> None:
    assert cluster.is_running()
    assert (cluster.data_dir / "PG_VERSION").exists()
    assert (cluster.socket_dir / f".s.PGSQL.{cluster.port}").exists()
    with psycopg.connect(cluster.superuser_dsn(), autocommit=True) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'fsync', 'max_connections')"
        ).fetchall())
    assert settings == {"listen_addresses": "127.0.0.1", "fsync": "off", "max_connections": "100"}


def test_start_is_idempotent(cluster: PostgresCluster) -> None:
    cluster.start()
    assert cluster.is_running()


def test_role_and_database_take_a_password_login(cluster: PostgresCluster) -> None:
    cluster.create_role_and_database("taxi", "s3cret'pw", "nyc_taxi")
    cluster.create_role_and_database("taxi", "s3cret'pw", "nyc_taxi")
    with psycopg.connect(cluster.dsn("taxi", "s3cret'pw", "nyc_taxi"), autocommit=True) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == ("taxi", "nyc_taxi")
        conn.execute("CREATE TABLE trips (id int)")  # the owner may create in the public schema
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(cluster.dsn("taxi", "wrong", "nyc_taxi")).close()


def test_a_busy_port_fails_with_the_log_tail(cluster: PostgresCluster, base_dir: Path) -> None:
    clash = PostgresCluster(base_dir / "clash", cluster.port, BIN_DIR, fast=True)
    with pytest.raises(PostgresClusterError, match="Address already in use"):
        clash.start()
    assert not clash.is_running()


def test_stop_and_restart(cluster: PostgresCluster) -> None:
    cluster.stop()
    assert not cluster.is_running()
    cluster.stop()  # idempotent
    cluster.start()
    with psycopg.connect(cluster.dsn("taxi", "s3cret'pw", "nyc_taxi")) as conn:
        assert conn.execute("SELECT count(*) FROM trips").fetchone() == (0,)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the data directory to the postgres user")
def test_an_unreachable_parent_is_reported(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    with pytest.raises(PostgresClusterError, match="cannot reach") as raised:
        PostgresCluster(tmp_path / "data", free_port(), BIN_DIR).start()
    closed = re.search(r"`chmod o\+x (\S+)`", str(raised.value))[1]
    assert tmp_path == Path(closed) or Path(closed) in tmp_path.parents
