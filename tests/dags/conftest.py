import gzip

import pandas as pd
import pytest

from devstack.synthetic_month import release_path, write_month


def kept_trips(path) -> int:
    """The trips the module's rules keep in a release file, counted independently of the pipeline, with pandas."""
    with gzip.open(path) as csv:
        trips = pd.read_csv(csv, usecols=["passenger_count", "trip_distance"])
    return int(((trips.passenger_count > 0) & (trips.trip_distance > 0)).sum())


@pytest.fixture(scope="session")
def publish(source_server):
    """Put a generated month on the source server; returns how many of its trips should load."""

    def publish_month(color: str, year: int, month: int, rows: int = 10_000) -> int:
        path = release_path(source_server.root, color, year, month)
        if not path.exists():
            write_month(path, color, year, month, rows=rows, seed=year * 100 + month)
        return kept_trips(path)

    return publish_month


def postgres_conn_uri(postgres_dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    target = conninfo_to_dict(postgres_dsn)
    return f"postgresql://{target['user']}:{target['password']}@{target['host']}:{target['port']}/{target['dbname']}"
