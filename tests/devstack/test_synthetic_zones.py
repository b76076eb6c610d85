"""The generated zone lookup has the release file's layout, size and traps."""

import csv

from devstack.synthetic_zones import BOROUGH_ZONES, write_zone_lookup


def test_265_zones_in_the_release_layout(tmp_path):
    path = write_zone_lookup(tmp_path)
    assert path == tmp_path / "misc" / "taxi_zone_lookup.csv"
    lines = path.read_text().splitlines()
    assert lines[0] == '"LocationID","Borough","Zone","service_zone"'
    assert lines[1] == '1,"EWR","Newark Airport","EWR"'
    assert lines[-2:] == ['264,"Unknown","NV","N/A"', '265,"Unknown","NA","N/A"']
    rows = list(csv.DictReader(lines))
    assert [int(row["LocationID"]) for row in rows] == list(range(1, 266))
    boroughs = {}
    for row in rows:
        boroughs[row["Borough"]] = boroughs.get(row["Borough"], 0) + 1
    assert boroughs == BOROUGH_ZONES
    assert {row["service_zone"] for row in rows} == {"EWR", "Airports", "Boro Zone", "Yellow Zone", "N/A"}
    assert len({row["Zone"] for row in rows}) == 264  # one name for two zones, as the real file's Corona


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    assert write_zone_lookup(tmp_path / "a").read_bytes() == write_zone_lookup(tmp_path / "b").read_bytes()
