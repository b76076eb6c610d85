"""OpenLineage for the pipeline's tasks: which source file, Postgres table, GCS objects and BigQuery table each run of
a month read and wrote, and how many rows, from the small records the tasks already return.

An extractor of the OpenLineage provider (`[openlineage] extractors`, set in `.env`), so no task body knows lineage
exists. The provider emits the events (transport: `[openlineage] transport`, a file or HTTP to Marquez; without one
OpenLineage is off) and sends nothing when a task is not one of ours.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import attr
from airflow.providers.openlineage.extractors.base import BaseExtractor, OperatorLineage
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import DatasetFacet, output_statistics_output_dataset

# The task type of every `@task`: the extractor answers for those whose task id it knows and no others.
TASKFLOW_OPERATOR = "_PythonDecoratedOperator"
MONTH_FACET = "nycTaxiMonth"
# Our own facet: no public schema document, so a URN names it (docs/lineage.md describes its fields).
MONTH_FACET_SCHEMA = "urn:nyc-taxi:openlineage:NycTaxiMonthDatasetFacet:1-0-0"


@attr.define
class NycTaxiMonthDatasetFacet(DatasetFacet):
    """Which month of which color a dataset's rows are, and where in the dataset they are (partition or manifest)."""

    color: str
    month: str
    part: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return MONTH_FACET_SCHEMA


def source_file(url: str) -> InputDataset:
    """The release's file, named as OpenLineage names a file on a web server: `scheme://host[:port]` and its path."""
    parts = urlsplit(url)
    return InputDataset(namespace=f"{parts.scheme}://{parts.netloc}", name=parts.path.lstrip("/"))


def _month_facets(color: str, month: str, part: str | None, rows: int | None = None, files: int | None = None):
    facets = {MONTH_FACET: NycTaxiMonthDatasetFacet(color=color, month=month, part=part)}
    output_facets = {}
    if rows is not None:
        output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=rows, fileCount=files
        )
    return facets, output_facets


def postgres_table(color: str, month: str, rows: int | None = None) -> OutputDataset:
    """`<database>.<schema>.<color>_tripdata` on `postgres://host:port`, the month's partition in the month facet."""
    from airflow.sdk import Connection

    from nyc_taxi.months import TaxiMonth
    from nyc_taxi.postgres import partition_name
    from nyc_taxi.settings import POSTGRES_CONN_ID, setting_from_airflow

    conn = Connection.get(POSTGRES_CONN_ID)
    schema = setting_from_airflow("postgres_schema")
    facets, output_facets = _month_facets(color, month, f"{schema}.{partition_name(TaxiMonth.parse(color, month))}",
                                          rows)
    return OutputDataset(namespace=f"postgres://{conn.host}:{conn.port or 5432}",
                         name=f"{conn.schema}.{schema}.{color}_tripdata", facets=facets, outputFacets=output_facets)


def gcs_month(color: str, month: str, rows: int | None = None, objects: int | None = None, manifest: str | None = None,
              dataset_class=OutputDataset):
    """The color's partitioned Parquet folder `gs://<bucket>/<prefix>/<color>`; the month facet names the manifest
    that lists the month's objects."""
    from nyc_taxi.gcs import color_prefix
    from nyc_taxi.settings import settings_from_airflow

    settings = settings_from_airflow()
    facets, output_facets = _month_facets(color, month, manifest, rows, objects)
    kwargs = {"outputFacets": output_facets} if dataset_class is OutputDataset else {}
    return dataset_class(namespace=f"gs://{settings.gcs_bucket}", name=color_prefix(settings.gcs_prefix, color),
                         facets=facets, **kwargs)


def bigquery_table(color: str, month: str, rows: int | None = None) -> OutputDataset:
    from nyc_taxi.connections import bigquery_target
    from nyc_taxi.settings import settings_from_airflow

    settings = settings_from_airflow()
    # The connection's project only when the Variable names none: no hook to build for a name.
    project = settings.bigquery_project or bigquery_target(settings)[1]
    dataset = settings.bigquery_dataset
    facets, output_facets = _month_facets(color, month, None, rows)
    return OutputDataset(namespace="bigquery", name=f"{project}.{dataset}.{color}_tripdata", facets=facets,
                         outputFacets=output_facets)


def lineage_of(task_id: str, returned: dict | None, pull) -> OperatorLineage:
    """The inputs and outputs of one of our tasks, from what it returned (None if it failed) and what the tasks
    before it returned (`pull(task_id)`)."""
    if task_id == "download_month":
        return OperatorLineage(inputs=[source_file(returned["source_url"])] if returned else [])
    if task_id == "clean_and_load_month_to_postgres":
        downloaded = pull("download_month")
        if not downloaded:
            return OperatorLineage()
        rows = returned["rows_loaded"] if returned else None
        return OperatorLineage(inputs=[source_file(downloaded["source_url"])],
                               outputs=[postgres_table(downloaded["color"], downloaded["month"], rows)])
    if task_id == "write_month_to_gcs":
        cleaned = pull("clean_month")
        if not cleaned:
            return OperatorLineage()
        written = returned or {}
        return OperatorLineage(
            inputs=[source_file(cleaned["source_url"])],
            outputs=[gcs_month(cleaned["color"], cleaned["month"], written.get("rows"), written.get("objects"),
                               written.get("manifest"))],
        )
    if task_id == "load_month_to_bigquery" and returned:
        color, month = returned["color"], returned["month"]
        return OperatorLineage(inputs=[gcs_month(color, month, dataset_class=InputDataset)],
                               outputs=[bigquery_table(color, month, returned["rows"])])
    return OperatorLineage()


class MonthLineageExtractor(BaseExtractor):
    """Lineage of the pipeline's `@task`s, read from their return values when they finish."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return [TASKFLOW_OPERATOR]

    def _execute_extraction(self) -> OperatorLineage | None:
        return OperatorLineage()

    def extract_on_complete(self, task_instance) -> OperatorLineage | None:
        return self._extract(task_instance, succeeded=True)

    def extract_on_failure(self, task_instance) -> OperatorLineage | None:
        return self._extract(task_instance, succeeded=False)

    def _extract(self, task_instance, succeeded: bool) -> OperatorLineage:
        map_index = getattr(task_instance, "map_index", -1)
        own = None
        if succeeded:
            own = task_instance.xcom_pull(task_ids=task_instance.task_id,
                                          map_indexes=map_index if map_index is not None and map_index >= 0 else None)

        def pull(task_id: str):
            return task_instance.xcom_pull(task_ids=task_id)

        return lineage_of(task_instance.task_id, own, pull)
