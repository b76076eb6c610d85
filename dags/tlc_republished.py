"""
### TLC months re-published → loaded again

Only with `nyc_taxi_source = tlc-parquet`. Once a day, for each service, `find_republished_months` asks the URL of
every month loaded into Postgres (HEAD) and compares the file's ETag, or its size when there is none, with what the
month's latest audit row in `ny_taxi.load_audit` recorded when it was loaded. Each month whose file changed is loaded
again: `reload_<service>` starts a run of `<service>_taxi_to_postgres` with the params `year` and `month`, which
replaces the month exactly, like any re-run.

The TLC does re-publish: every file was rewritten on 2022-06-30 when it moved to Parquet, and later files in batches
(docs/parquet-eras.md). GCS and BigQuery are not reloaded by this DAG.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag

from nyc_taxi.dag_settings import DEFAULT_ARGS
from nyc_taxi.sources import source_of_dags
from nyc_taxi.tasks import find_republished_months

SOURCE = source_of_dags()

if SOURCE.live:

    @dag(
        dag_id="tlc_republished_months",
        description="Load again the months whose TLC file was re-published since it was loaded",
        doc_md=__doc__,
        schedule="0 7 * * *",
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["nyc-taxi", "postgres", "tlc"],
        default_args=DEFAULT_ARGS,
    )
    def tlc_republished_months():
        for service in SOURCE.services:
            months = find_republished_months.override(task_id=f"find_republished_{service}")(service)
            TriggerDagRunOperator.partial(
                task_id=f"reload_{service}", trigger_dag_id=f"{service}_taxi_to_postgres",
            ).expand(conf=months)

    tlc_republished_months()
