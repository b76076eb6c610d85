import datetime as dt

from nyc_taxi.run_notes import month_label_of_run, note_of_run

TODAY = dt.datetime(2026, 11, 30, 9, tzinfo=dt.timezone.utc)


def test_a_manual_run_with_params_is_noted_by_the_month_it_loads():
    assert note_of_run("green_taxi_to_postgres", {"year": 2021, "month": 2}, TODAY) == "Loads green 2021-02"
    assert month_label_of_run("green_taxi_to_gcs", {"year": 2021, "month": 2}, TODAY) == "2021-02"


def test_a_scheduled_run_is_noted_by_the_month_of_its_date():
    assert note_of_run("yellow_taxi_to_gcs", {}, dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)) == "Loads yellow 2021-01"


def test_a_run_that_names_no_month_of_the_release_says_so():
    note = note_of_run("yellow_taxi_to_postgres", {}, TODAY)
    assert note.startswith("Loads nothing: yellow 2026-11 is not a month of the release, which holds 2019-01..2021-07")
    assert month_label_of_run("yellow_taxi_to_postgres", {}, TODAY) is None


def test_other_dags_get_no_note():
    assert note_of_run("yellow_taxi_gcs_to_bigquery", {}, TODAY) is None
