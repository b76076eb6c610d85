import pytest

from nyc_taxi.schema import HeaderMismatch
from nyc_taxi.source import SourceError
from nyc_taxi.zones import (
    ZoneLookupError,
    ZoneLookupNotPublished,
    download_zone_lookup_file,
    read_zone_lookup,
    zone_lookup_url,
)

from devstack.synthetic_zones import ZONE_LOOKUP_PATH, write_zone_lookup

HEADER = '"LocationID","Borough","Zone","service_zone"'


def lookup_file(tmp_path, *lines):
    path = tmp_path / "taxi_zone_lookup.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_lookup_reads_typed_with_the_unknown_zones_as_text(tmp_path):
    zones = read_zone_lookup(write_zone_lookup(tmp_path))
    assert zones.column_names == ["location_id", "borough", "zone", "service_zone"]
    assert zones.num_rows == 265
    assert str(zones.schema.field("location_id").type) == "int64"
    assert zones.slice(263).to_pylist() == [
        {"location_id": 264, "borough": "Unknown", "zone": "NV", "service_zone": "N/A"},
        {"location_id": 265, "borough": "Unknown", "zone": "NA", "service_zone": "N/A"},
    ]


def test_a_changed_header_is_named(tmp_path):
    path = lookup_file(tmp_path, '"LocationID","Borough","Zone"', '1,"EWR","Newark Airport"')
    with pytest.raises(HeaderMismatch, match="zone lookup layout .missing columns: service_zone"):
        read_zone_lookup(path)


def test_an_id_named_twice_or_not_at_all_is_refused(tmp_path):
    path = lookup_file(tmp_path, HEADER, '1,"EWR","Newark Airport","EWR"', '1,"Queens","Jamaica Bay","Boro Zone"',
                       ',"Queens","Astoria","Boro Zone"')
    with pytest.raises(ZoneLookupError, match=r"'location_id is present' broken by 1 rows.*"
                                              r"'location_id is unique' broken by ids \[1\]"):
        read_zone_lookup(path)


def test_a_non_integer_id_is_refused(tmp_path):
    with pytest.raises(ZoneLookupError, match="taxi_zone_lookup.csv: .*'one'"):
        read_zone_lookup(lookup_file(tmp_path, HEADER, 'one,"EWR","Newark Airport","EWR"'))


def test_the_lookup_downloads_from_the_release_path(source, tmp_path):
    write_zone_lookup(source.root)
    url = zone_lookup_url(source.base_url + "/")
    assert url == f"{source.base_url}/{ZONE_LOOKUP_PATH}"
    download = download_zone_lookup_file(url, tmp_path / "zones.csv")
    assert read_zone_lookup(download.path).num_rows == 265


def test_a_missing_lookup_or_an_html_page_is_named(source, tmp_path):
    with pytest.raises(ZoneLookupNotPublished, match="HTTP 404"):
        download_zone_lookup_file(f"{source.base_url}/misc/nothing.csv", tmp_path / "zones.csv")
    write_zone_lookup(source.root)
    source.serve_html(ZONE_LOOKUP_PATH)
    with pytest.raises(SourceError, match="is not the zone lookup CSV: .* starting b'<!DOCTYPE html>"):
        download_zone_lookup_file(zone_lookup_url(source.base_url), tmp_path / "zones.csv")
    assert not (tmp_path / "zones.csv").exists()
