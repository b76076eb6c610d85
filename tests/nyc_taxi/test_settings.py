import pytest

from nyc_taxi.settings import Settings, setting_from_airflow, settings_from_airflow


def test_every_setting_is_a_nyc_taxi_variable(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_STAGING_URL", "gs://my-lake/_staging")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", "taxi_dev")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET", "my-lake")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_GCS_PREFIX", "trips")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_BIGQUERY_PROJECT", "my-project")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_BIGQUERY_DATASET", "taxi")
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_BIGQUERY_LOCATION", "EU")
    assert settings_from_airflow() == Settings(
        source_base_url="http://127.0.0.1:8000", staging_url="gs://my-lake/_staging", postgres_schema="taxi_dev",
        gcs_bucket="my-lake", gcs_prefix="trips", bigquery_project="my-project", bigquery_dataset="taxi",
        bigquery_location="EU",
    )


def test_an_unset_variable_takes_the_default_of_its_setting(monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_NY_TAXI_POSTGRES_SCHEMA", "the_old_name_is_not_read")
    assert settings_from_airflow().postgres_schema == Settings.postgres_schema == "ny_taxi"


def test_a_task_reads_only_the_settings_it_needs(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA", "taxi_dev")
    assert setting_from_airflow("postgres_schema") == "taxi_dev"
    assert setting_from_airflow("gcs_prefix") == Settings.gcs_prefix
    with pytest.raises(KeyError, match="'staging_dir' is not a setting"):
        setting_from_airflow("staging_dir")
