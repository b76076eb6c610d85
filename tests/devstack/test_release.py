"""The release's row counts reproduce the known totals, and its generated months are cached, reproducible and
carry their own count of the trips the rules keep."""

from __future__ import annotations

import json

from devstack.release import MANIFEST, generate_release, real_rows, release_files, scaled_rows
from devstack.synthetic_month import release_path
from nyc_taxi.months import TAXI_COLORS
from tests.dags.conftest import kept_trips


def test_every_color_has_every_month_of_the_release_once():
    files = release_files()
    assert len(files) == 93
    assert len({(file.color, file.month) for file in files}) == 93
    for color in TAXI_COLORS:
        months = [file.month for file in files if file.color == color]
        assert (len(months), months[0], months[-1]) == (31, "2019-01", "2021-07")


def year_total(color: str, year: int) -> int:
    return sum(file.rows for file in release_files([color], f"{year}-01", f"{year}-12"))


def test_the_counts_reproduce_the_known_totals():
    assert year_total("yellow", 2019) == 84_399_019
    assert year_total("yellow", 2020) == 24_648_499
    assert year_total("green", 2020) == 1_734_051
    assert year_total("fhv", 2019) == 43_244_696
    assert real_rows("yellow", "2021-03") == 1_925_152
    assert real_rows("yellow", "2019-01") == 7_667_792
    assert real_rows("yellow", "2021-01") == 1_369_765
    assert real_rows("yellow", "2018-12") is None


def test_every_count_says_where_it_was_read_or_that_it_is_an_estimate():
    files = release_files()
    assert all(len(file.source) > 20 for file in files)
    estimated = [file for file in files if file.estimated]
    assert all(file.source.startswith("estimate: ") for file in estimated)
    # What could be read (2026-12-07): every month of 2020 for yellow and green, FHV 2019, a few more.
    assert 40 <= len(estimated) <= 45
    assert not [file for file in files if file.month.startswith("2020") and file.color != "fhv" and file.estimated]


def test_a_generated_release_counts_the_trips_the_rules_keep(tmp_path):
    files = release_files(first="2020-03", last="2020-04")
    generated = generate_release(tmp_path, files, fraction=0.001, progress=lambda line: None)
    assert sorted(generated) == sorted((file.color, file.month) for file in files)
    for file in files:
        month = generated[(file.color, file.month)]
        assert month.rows == scaled_rows(file, 0.001)
        path = release_path(tmp_path, file.color, *map(int, file.month.split("-")))
        assert month.kept == kept_trips(path, file.color), file


def test_a_second_generation_reuses_what_is_there_and_redoes_another_size(tmp_path):
    files = release_files(["green"], "2021-01", "2021-02")
    lines = []
    first = generate_release(tmp_path, files, fraction=0.01, progress=lines.append)
    again = generate_release(tmp_path, files, fraction=0.01, progress=lines.append)
    assert again == first and len([line for line in lines if line.startswith("==>")]) == 1
    bigger = generate_release(tmp_path, files[:1], fraction=0.02, progress=lines.append)
    assert bigger[files[0].color, files[0].month].rows == 2 * first[files[0].color, files[0].month].rows
    recorded = {(entry["color"], entry["month"]): entry["rows"]
                for entry in json.loads((tmp_path / MANIFEST).read_text())}
    assert recorded == {("green", "2021-01"): bigger[("green", "2021-01")].rows,
                        ("green", "2021-02"): first[("green", "2021-02")].rows}


def test_the_same_seed_gives_the_same_bytes(tmp_path):
    files = release_files(["yellow"], "2020-04", "2020-04")
    one = generate_release(tmp_path / "a", files, fraction=0.001, seed=3, progress=lambda line: None)
    two = generate_release(tmp_path / "b", files, fraction=0.001, seed=3, progress=lambda line: None)
    path = release_path(tmp_path / "{}", "yellow", 2020, 4)
    assert one == two
    assert (tmp_path / "a" / path.relative_to(tmp_path / "{}")).read_bytes() == \
        (tmp_path / "b" / path.relative_to(tmp_path / "{}")).read_bytes()
