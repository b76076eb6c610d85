"""The pipeline's Airflow tasks, defined once and shared by every DAG: each wraps one plain function.

Heavy imports (pyarrow, psycopg, requests) happen inside the tasks so that parsing a DAG file stays cheap.
A month's tasks hand each other one `StagedMonth` record (as JSON through XCom): the month, the files staged
under the Variable `nyc_taxi_staging_url` and the counts, never data. Any task may run on any worker.
"""

from __future__ import annotations

import contextlib

from airflow.sdk import get_current_context, task

from nyc_taxi.connections import bigquery_target, gcs_client, postgres_connection
from nyc_taxi.settings import setting_from_airflow, settings_from_airflow


def source_of_run():
    """The source the Variable `nyc_taxi_source` names, which must be the one the DAG files were parsed for (their
    months and services follow it): a Variable set in the metadata database but not in the environment would
    otherwise leave the DAGs reading one source and the tasks another."""
    from airflow.sdk.exceptions import AirflowFailException

    from nyc_taxi.sources import SOURCE_ENV, UnknownSource, source_named, source_of_dags

    try:
        parsed_for = source_of_dags()
        configured = source_named(setting_from_airflow("source"))
    except UnknownSource as error:
        raise AirflowFailException(str(error)) from error
    if configured != parsed_for:
        raise AirflowFailException(
            f"the Variable nyc_taxi_source is {configured.name!r}, but the DAG files were parsed for "
            f"{parsed_for.name!r}: set it in the environment ({SOURCE_ENV}) of every Airflow process, since the DAG "
            f"files read it when they are parsed"
        )
    return configured


def _month_and_staging_path_of_run(source=None):
    """The run's month, and the staging path that only this run of this DAG writes to."""
    from nyc_taxi.months import month_of_run
    from nyc_taxi.staging import month_run_path

    context = get_current_context()
    month = month_of_run(context["params"], context.get("logical_date"), source or source_of_run())
    return month, month_run_path(setting_from_airflow("staging_url"), context["dag"].dag_id, month,
                                 context["run_id"])


@contextlib.contextmanager
def _failing_without_retries(*errors: type[Exception]):
    """Bad data or a missing month does not get better by retrying: fail the task at once, with the message."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except errors as error:
        raise AirflowFailException(str(error)) from error


def _staged_month(record: dict):
    from nyc_taxi.staging import StagedMonth

    return StagedMonth.from_xcom(record)


def _staged_path(url: str):
    from nyc_taxi.staging import staging_root

    return staging_root(url)


@task
def download_month() -> dict:
    """Stream the run's month from its source to a staging file, checking that it is whole (gzip or Parquet)."""
    from airflow.sdk.exceptions import AirflowFailException

    from nyc_taxi.months import NotAMonthOfTheRelease
    from nyc_taxi.source import MonthNotPublished, download_month_file
    from nyc_taxi.staging import StagedMonth, url_of

    source = source_of_run()
    with _failing_without_retries(NotAMonthOfTheRelease):
        month, staging_path = _month_and_staging_path_of_run(source)
    url = source.url(month.color, month.label, setting_from_airflow(source.base_url_setting))
    try:
        download = download_month_file(url, staging_path / source.file_name(month.color, month.label))
    except MonthNotPublished as error:
        # Retrying will not publish the month: fail now instead of burning the retries.
        status = str(error).split()[1] if str(error).startswith("HTTP ") else "404"
        raise AirflowFailException(f"no data for {month} at {url} (HTTP {status}: not published)") from error
    return StagedMonth(
        color=month.color, month=month.label, source_url=url, download_url=url_of(download.path),
        bytes_downloaded=download.bytes_downloaded, extract_seconds=round(download.seconds, 3),
        source_etag=download.etag, source_last_modified=download.last_modified,
    ).as_xcom()


@task
def clean_month(downloaded: dict) -> dict:
    """Type, filter and rename the month's trips into a staging file, counting what each rule drops."""
    from nyc_taxi.schema import HeaderMismatch, ParquetSchemaRefused
    from nyc_taxi.staging import url_of
    from nyc_taxi.transform import TransformError, cleaned_path_beside, transform_month_file

    staged = _staged_month(downloaded)
    csv_path = _staged_path(staged.download_url)
    cleaned_path = cleaned_path_beside(csv_path)
    with _failing_without_retries(TransformError, HeaderMismatch, ParquetSchemaRefused):
        stats = transform_month_file(csv_path, staged.color, cleaned_path, name=staged.source_url)
    return staged.cleaned(url_of(cleaned_path), stats).as_xcom()


@task
def clean_and_load_month_to_postgres(downloaded: dict) -> dict:
    """Clean the downloaded month as `clean_month` does and copy its batches as they come into the month's partition,
    replacing it in one transaction with a row in the audit table. One task, not two: the cleaning and Postgres's
    side of the COPY then run at once on two cores, and no cleaned copy of the month is staged."""
    from nyc_taxi.postgres import LoadAudit, TableSchemaRefused, replace_month
    from nyc_taxi.schema import HeaderMismatch, ParquetSchemaRefused
    from nyc_taxi.transform import TransformError, TransformStats, clean_month_batches

    staged = _staged_month(downloaded)
    stats = TransformStats.for_color(staged.color)
    audit = LoadAudit(
        run_id=get_current_context()["run_id"],
        source_url=staged.source_url,
        bytes_downloaded=staged.bytes_downloaded,
        extract_seconds=staged.extract_seconds,
        transform=stats,
        source_etag=staged.source_etag,
        source_last_modified=staged.source_last_modified,
    )
    batches = clean_month_batches(_staged_path(staged.download_url), staged.color, stats, name=staged.source_url)
    with postgres_connection() as conn, _failing_without_retries(TransformError, HeaderMismatch,
                                                                 ParquetSchemaRefused, TableSchemaRefused):
        rows_loaded = replace_month(conn, staged.taxi_month, batches, audit,
                                    schema=setting_from_airflow("postgres_schema"))
    return {"color": staged.color, "month": staged.month, "rows_expected": stats.rows_kept,
            "rows_loaded": rows_loaded}


@task
def check_month_in_postgres(loaded: dict) -> dict:
    """Fail, naming the rule, if the loaded month breaks its color's rules (zero passengers or distances, unknown
    vendors; FHV: no base or pickup) or has a wrong count; warn of location ids the zone lookup lacks."""
    from nyc_taxi.months import TaxiMonth
    from nyc_taxi.postgres import DataQualityError, check_month

    month = TaxiMonth.parse(loaded["color"], loaded["month"])
    with postgres_connection() as conn, _failing_without_retries(DataQualityError):
        return check_month(conn, month, loaded["rows_expected"], schema=setting_from_airflow("postgres_schema"))


@task(trigger_rule="all_done")
def remove_staging_files() -> None:
    """Remove the run's staged files once its other tasks are done, whether or not they succeeded, and from
    whichever worker ran them."""
    from nyc_taxi.months import NotAMonthOfTheRelease
    from nyc_taxi.staging import remove

    try:
        _, staging_path = _month_and_staging_path_of_run()
    except NotAMonthOfTheRelease:
        return  # the run named no month, so its download failed before staging anything
    remove(staging_path)


def _gcs_layout(color: str, month_label: str):
    from nyc_taxi.gcs import MonthLayout
    from nyc_taxi.months import TaxiMonth

    settings = settings_from_airflow()
    return MonthLayout(settings.gcs_bucket, settings.gcs_prefix, TaxiMonth.parse(color, month_label))


@task
def write_month_to_gcs(cleaned: dict) -> dict:
    """Publish the month as Parquet partitioned by pickup date, replacing its objects whole; emits the asset event."""
    import tempfile
    from pathlib import Path

    from nyc_taxi.gcs import publish_month_from_local_files, write_month_partitions
    from nyc_taxi.transform import cleaned_batches

    context = get_current_context()
    staged = _staged_month(cleaned)
    layout = _gcs_layout(staged.color, staged.month)
    # The partition files are this task's own scratch, uploaded before it ends: a local directory will do.
    with tempfile.TemporaryDirectory(prefix="nyc_taxi_partitions_") as scratch:
        local_dir = Path(scratch)
        written = write_month_partitions(cleaned_batches(_staged_path(staged.cleaned_url)), layout.month, local_dir)
        manifest = publish_month_from_local_files(gcs_client(), layout, local_dir, written, context["run_id"])
    for asset in context["task"].outlets:
        context["outlet_events"][asset].extra = {"month": layout.month.label, "rows": manifest["rows"]}
    return {"color": layout.month.color, "month": layout.month.label, "rows": manifest["rows"],
            "objects": len(manifest["objects"]), "manifest": layout.uri(layout.manifest_name)}


@task
def write_run_date_object_to_gcs(cleaned: dict) -> dict:
    """The module's single Parquet object for the run, at `<color>/by_run_date/YYYY/MM/DD/daily-trips.parquet`."""
    import tempfile
    from pathlib import Path

    from nyc_taxi.gcs import upload_run_date_object
    from nyc_taxi.transform import cleaned_batches

    context = get_current_context()
    staged = _staged_month(cleaned)
    layout = _gcs_layout(staged.color, staged.month)
    # A run with params and no logical date is named by its month, so two such runs never share an object.
    run_date = context["logical_date"].date() if context.get("logical_date") else layout.month.first_day
    with tempfile.TemporaryDirectory(prefix="nyc_taxi_run_date_") as scratch:
        uri, rows = upload_run_date_object(
            gcs_client(), cleaned_batches(_staged_path(staged.cleaned_url)), layout,
            Path(scratch) / "daily-trips.parquet", run_date,
        )
    return {"uri": uri, "rows": rows}


@task
def months_to_load_into_bigquery() -> list[str]:
    """The params' month on a run given one; otherwise every month whose latest GCS write BigQuery does not hold.

    Found by comparing GCS with BigQuery, not by reading the triggering asset events: Airflow 3.3 can leave an
    event that arrives while this DAG is at max_active_runs unconsumed (apache/airflow#56050). Such an event
    arrives before the next run is created, so that run, comparing after it starts, loads the event's month.
    """
    import logging

    from nyc_taxi.bigquery import loaded_manifest_generations, months_to_load
    from nyc_taxi.gcs import manifest_generations
    from nyc_taxi.months import NotAMonthOfTheRelease, month_of_run

    context = get_current_context()
    params = context["params"]
    if _params_name_a_month(params):
        with _failing_without_retries(NotAMonthOfTheRelease):
            return [month_of_run(params, None, source_of_run()).label]
    settings = settings_from_airflow()
    in_gcs = manifest_generations(gcs_client(), settings.gcs_bucket, settings.gcs_prefix, params["color"])
    hook, project, dataset, location = bigquery_target(settings)
    months = months_to_load(in_gcs, loaded_manifest_generations(hook, project, dataset, location, params["color"]))
    announced = sorted({event.extra.get("month") for events in context["triggering_asset_events"].values()
                        for event in events if event.extra})
    logging.getLogger(__name__).info("months the triggering events name: %s; months to load: %s", announced, months)
    return months


def _params_name_a_month(params) -> bool:
    return params.get("year") is not None or params.get("month") is not None


# One load at a time per DAG: BigQuery cancels one of two transactions that change the same table.
@task(max_active_tis_per_dag=1)
def load_month_to_bigquery(month: str) -> dict:
    """Replace the month in `<dataset>.<color>_tripdata` with the objects its GCS manifest lists."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from nyc_taxi.bigquery import replace_month
    from nyc_taxi.gcs import MonthNotInGcs, read_manifest

    params = get_current_context()["params"]
    layout = _gcs_layout(params["color"], month)
    try:
        manifest = read_manifest(gcs_client(), layout)
    except MonthNotInGcs as error:
        if not _params_name_a_month(params):
            # Chosen as out of date, then found mid-rewrite: the rewrite's own asset event loads it.
            raise AirflowSkipException(f"{error}; the write under way will start its load") from error
        raise AirflowFailException(f"{error}: run {layout.month.color}_taxi_to_gcs for the month first") from error
    hook, project, dataset, location = bigquery_target(settings_from_airflow())
    rows = replace_month(hook, project, dataset, location, layout.month, manifest)
    return {"color": layout.month.color, "month": month, "rows": rows}


@task
def check_month_in_bigquery(loaded: dict) -> dict:
    """Fail, naming the dates, unless the month's rows per pickup date in BigQuery equal those in GCS."""
    from nyc_taxi.bigquery import BigQueryCheckFailed, check_month
    from nyc_taxi.gcs import read_manifest

    layout = _gcs_layout(loaded["color"], loaded["month"])
    manifest = read_manifest(gcs_client(), layout)
    hook, project, dataset, location = bigquery_target(settings_from_airflow())
    with _failing_without_retries(BigQueryCheckFailed):
        return check_month(hook, project, dataset, location, layout.month, manifest)


def _zone_staging_path():
    from nyc_taxi.staging import run_path

    context = get_current_context()
    return run_path(setting_from_airflow("staging_url"), context["dag"].dag_id, context["run_id"])


@task
def download_zone_lookup() -> dict:
    """Fetch the release's `misc/taxi_zone_lookup.csv` to a staging file, and check it reads as the lookup."""
    from airflow.sdk.exceptions import AirflowFailException

    from nyc_taxi.schema import HeaderMismatch
    from nyc_taxi.staging import url_of
    from nyc_taxi.zones import (
        ZoneLookupError,
        ZoneLookupNotPublished,
        download_zone_lookup_file,
        read_zone_lookup,
        zone_lookup_url,
    )

    url = zone_lookup_url(setting_from_airflow("source_base_url"))
    try:
        downloaded = download_zone_lookup_file(url, _zone_staging_path() / "taxi_zone_lookup.csv")
    except ZoneLookupNotPublished as error:
        raise AirflowFailException(str(error)) from error
    with _failing_without_retries(ZoneLookupError, HeaderMismatch):
        zones = read_zone_lookup(downloaded.path, name=url)
    return {"source_url": url, "csv_url": url_of(downloaded.path), "zones": zones.num_rows}


@task
def load_zones_to_postgres(downloaded: dict) -> dict:
    """Replace `<schema>.zones` whole with the lookup, in one transaction."""
    from nyc_taxi.postgres import replace_zones
    from nyc_taxi.zones import read_zone_lookup

    zones = read_zone_lookup(_staged_path(downloaded["csv_url"]), name=downloaded["source_url"])
    with postgres_connection() as conn:
        return {"zones": replace_zones(conn, zones, schema=setting_from_airflow("postgres_schema"))}


@task
def write_zones_to_gcs(downloaded: dict) -> dict:
    """Write the lookup to `gs://<bucket>/<prefix>/zones/taxi_zone_lookup.parquet`, replacing the object whole."""
    import tempfile
    from pathlib import Path

    from nyc_taxi.gcs import upload_zone_lookup
    from nyc_taxi.zones import read_zone_lookup

    zones = read_zone_lookup(_staged_path(downloaded["csv_url"]), name=downloaded["source_url"])
    settings = settings_from_airflow()
    with tempfile.TemporaryDirectory(prefix="nyc_taxi_zones_") as scratch:
        uri = upload_zone_lookup(gcs_client(), settings.gcs_bucket, settings.gcs_prefix, zones,
                                 Path(scratch) / "taxi_zone_lookup.parquet")
    return {"uri": uri, "zones": zones.num_rows}


@task
def load_zones_to_bigquery(written: dict) -> dict:
    """Replace `<dataset>.zones` whole with the lookup's object in GCS (one load job)."""
    from nyc_taxi.bigquery import replace_zones

    hook, project, dataset, location = bigquery_target(settings_from_airflow())
    return {"zones": replace_zones(hook, project, dataset, location, written["uri"])}


@task(trigger_rule="all_done")
def remove_zone_staging_files() -> None:
    """Remove the run's staged files once its other tasks are done, whether or not they succeeded."""
    from nyc_taxi.staging import remove

    remove(_zone_staging_path())


@task
def find_republished_months(color: str) -> list[dict]:
    """The months of the color loaded into Postgres whose file the source has re-published since (another ETag or
    size), as the params of a run that loads each again."""
    from nyc_taxi.republished import loaded_files, republished
    from nyc_taxi.source import http_session

    session = http_session(retries=2)

    def head(url: str):
        response = session.head(url, allow_redirects=True, timeout=30)
        return response.status_code, response.headers

    with postgres_connection() as conn:
        files = loaded_files(conn, color, setting_from_airflow("postgres_schema"))
    months = republished(files, head)
    return [{"year": int(label[:4]), "month": int(label[5:])} for label in months]
