"""
### Airflow's own floor: the Postgres DAGs' shape with tasks that do nothing

`./dev bench --release` backfills these beside the real DAGs, over the same months, on the same stack settings:
what the scheduler, the executor and the task processes cost with no work in the tasks.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from nyc_taxi.dag_settings import DEFAULT_ARGS, month_params, monthly_schedule
from nyc_taxi.months import TAXI_COLORS


@task
def download_month() -> None:
    """Nothing."""


@task
def clean_and_load_month_to_postgres(downloaded) -> None:
    """Nothing."""


@task
def check_month_in_postgres(loaded) -> None:
    """Nothing."""


@task(trigger_rule="all_done")
def remove_staging_files() -> None:
    """Nothing."""


def empty_taxi_to_postgres(color: str):
    @dag(dag_id=f"{color}_empty_taxi_to_postgres", doc_md=__doc__, **monthly_schedule(), tags=["bench"],
         default_args=DEFAULT_ARGS, params=month_params(color))
    def load_nothing():
        downloaded = download_month()
        checked = check_month_in_postgres(clean_and_load_month_to_postgres(downloaded))
        checked >> remove_staging_files().as_teardown(setups=[downloaded])

    return load_nothing()


for taxi_color in TAXI_COLORS:
    empty_taxi_to_postgres(taxi_color)
