from pathlib import Path

import pytest

from tests.nyc_taxi.trip_files import write_trip_file


@pytest.fixture
def write_trips(tmp_path: Path):
    """Write trips to `<tmp>/<color>_tripdata_2021-01.csv.gz` (or `name`); see `write_trip_file`."""

    def write(color: str, trips: list[dict], header: list[str] | None = None, line_end: str = "\n",
              name: str | None = None) -> Path:
        path = tmp_path / (name or f"{color}_tripdata_2021-01.csv.gz")
        return write_trip_file(path, color, trips, header, line_end)

    return write
