"""`./dev bench --backfill`: a backfill the way a user runs one, timed on the local stack.

Starts Airflow's api-server, scheduler and dag-processor (LocalExecutor, 2 task slots, metadata in the bench's
PostgreSQL cluster), then `airflow backfill create` over N generated months at real size. The wall time runs
from the CLI's start to the last run's end; beside it, the same months loaded by the plain functions (`ours`),
one process each, and Airflow's share of the wall time: (wall - pure / slots) / wall. Each task's life is read
back from the metadata database: the scheduler's wait before it, the executor's before its process starts, its
own duration.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from devstack.server_process import wait_for

DAG_ID = "yellow_taxi_to_postgres"
SLOTS = 2
SHORT_TASK_NAMES = {"download_month": "download", "clean_and_load_month_to_postgres": "clean+load",
                    "check_month_in_postgres": "check", "remove_staging_files": "cleanup"}


@dataclass
class TaskLife:
    """One task instance's timestamps, from the metadata database."""

    task: str
    run: str
    scheduled: dt.datetime | None
    queued: dt.datetime | None
    started: dt.datetime | None
    ended: dt.datetime | None
    upstream_ended: dt.datetime | None = None  # the latest end among the tasks it waits for

    @property
    def scheduler_wait(self) -> float | None:
        """From the upstream task's end (the run's start for the first) to this task being queued."""
        if self.upstream_ended and self.queued:
            return (self.queued - self.upstream_ended).total_seconds()
        return None

    @property
    def executor_wait(self) -> float | None:
        """From queued to the task's start (the supervisor's first call to the execution API)."""
        return (self.started - self.queued).total_seconds() if self.started and self.queued else None

    @property
    def duration(self) -> float | None:
        return (self.ended - self.started).total_seconds() if self.ended and self.started else None


@dataclass
class BackfillResult:
    months: list[str]
    wall_seconds: float
    pure_seconds: float  # the months' `ours` wall times, added up
    slots: int
    rows_loaded: int
    tasks: list[TaskLife] = field(default_factory=list)
    pure_in_parallel_seconds: float | None = None  # the months loaded by ours `slots` at a time, wall

    @property
    def airflow_share(self) -> float:
        return (self.wall_seconds - self.pure_seconds / self.slots) / self.wall_seconds

    def task_medians(self) -> dict[str, dict[str, float]]:
        """Per task: the median scheduler wait, executor wait and duration over the months."""
        medians = {}
        for task in SHORT_TASK_NAMES:
            lives = [life for life in self.tasks if life.task == task]
            medians[SHORT_TASK_NAMES[task]] = {
                name: statistics.median(values) if (values := [v for life in lives
                                                               if (v := getattr(life, name)) is not None]) else 0.0
                for name in ("scheduler_wait", "executor_wait", "duration")
            }
        return medians


def backfill_months(count: int) -> list[str]:
    """`count` consecutive months ending 2021-02: 2020-11, 2020-12, 2021-01, 2021-02 for 4."""
    months = []
    year, month = 2021, 2
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(months)


def run_backfill(cluster, env: dict[str, str], home: Path, staging_dir: Path, months: list[str],
                 slots: int = SLOTS, extra_env: dict[str, str] | None = None,
                 on_started=None) -> tuple[float, list[TaskLife]]:
    """Start the stack on a fresh metadata database, backfill the months, return (wall seconds, task lives)."""
    from devstack.airflow_stack import AirflowStack, airflow_environment
    from devstack.server_process import free_port

    metadata_db = "airflow_bench"
    cluster.drop_database(metadata_db)
    cluster.create_role_and_database("airflow", "airflow", metadata_db)
    stack_env = airflow_environment(
        home, f"postgresql+psycopg2://airflow:airflow@127.0.0.1:{cluster.port}/{metadata_db}", staging_dir,
        {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the backfill's runs take the slots
         "NYC_TAXI_SCHEDULE_START": months[0], "NYC_TAXI_SCHEDULE_END": months[-1], **(extra_env or {})},
        base=env,
    )
    metadata_dsn = cluster.dsn("airflow", "airflow", metadata_db)
    with AirflowStack(stack_env, free_port(), parallelism=slots) as stack:
        wait_for(lambda: stack.cli("dags", "unpause", DAG_ID, check=False).returncode == 0, 180,
                 f"{DAG_ID} to be parsed", 0.5)
        if on_started:
            on_started(stack)
        started = dt.datetime.now(dt.timezone.utc)
        stack.cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", f"{months[0]}-01",
                  "--to-date", f"{months[-1]}-01", "--max-active-runs", str(slots))
        wait_for(lambda: _backfill_done(metadata_dsn), 60 * 30, "the backfill to complete", 0.5)
        states, last_end, tasks = _runs_and_tasks(metadata_dsn)
    if set(states) != {"success"} or len(states) != len(months):
        raise RuntimeError(f"the backfill's runs ended {states}; see {home / 'logs'}")
    return (last_end - started).total_seconds(), tasks


def _backfill_done(metadata_dsn: str) -> bool:
    with psycopg.connect(metadata_dsn) as conn:
        row = conn.execute("SELECT completed_at FROM backfill WHERE dag_id = %s ORDER BY id DESC LIMIT 1",
                           (DAG_ID,)).fetchone()
    return bool(row and row[0])


def _runs_and_tasks(metadata_dsn: str) -> tuple[list[str], dt.datetime, list[TaskLife]]:
    with psycopg.connect(metadata_dsn) as conn:
        runs = conn.execute(
            "SELECT dag_run.run_id, dag_run.state, dag_run.start_date, dag_run.end_date FROM backfill_dag_run"
            " JOIN dag_run ON dag_run.id = backfill_dag_run.dag_run_id"
            " WHERE backfill_dag_run.backfill_id = (SELECT max(id) FROM backfill WHERE dag_id = %s)",
            (DAG_ID,),
        ).fetchall()
        rows = conn.execute(
            "SELECT task_id, run_id, scheduled_dttm, queued_dttm, start_date, end_date FROM task_instance"
            " WHERE dag_id = %s ORDER BY run_id, start_date", (DAG_ID,),
        ).fetchall()
    run_start = {run_id: start for run_id, _, start, _ in runs}
    tasks = [TaskLife(*row) for row in rows]
    order = list(SHORT_TASK_NAMES)
    by_run = {(life.run, life.task): life for life in tasks}
    for life in tasks:
        if life.task == "download_month":
            life.upstream_ended = run_start.get(life.run)
        elif life.task == "remove_staging_files":
            ends = [by_run[(life.run, task)].ended for task in order[:-1] if (life.run, task) in by_run]
            life.upstream_ended = max((end for end in ends if end), default=None)
        elif life.task in order:
            upstream = by_run.get((life.run, order[order.index(life.task) - 1]))
            life.upstream_ended = upstream.ended if upstream else None
    return [state for _, state, _, _ in runs], max(end for *_, end in runs if end), tasks


def markdown_section(result: BackfillResult, load_average: str) -> str:
    medians = result.task_medians()
    lines = [
        f"## A backfill on the local stack: {len(result.months)} months ({result.months[0]}..{result.months[-1]})",
        "",
        f"`airflow backfill create --dag-id {DAG_ID}` on `./dev stack`'s Airflow (LocalExecutor, "
        f"{result.slots} task slots, Postgres metadata), each month generated at 1,369,765 trips; wall time from the "
        "CLI's start to the last run's end. Pure: the same months each loaded by `ours` in a process of its own, "
        f"added up. Load average at the backfill's start: {load_average}.",
        "",
        "| | seconds |",
        "|---|---:|",
        f"| backfill, wall | {result.wall_seconds:.1f} |",
        f"| pure (ours), the months added up | {result.pure_seconds:.1f} |",
        f"| pure ÷ {result.slots} slots | {result.pure_seconds / result.slots:.1f} |",
        f"| **Airflow's share** = (wall − pure ÷ slots) ÷ wall | **{result.airflow_share:.0%}** |",
        *([f"| pure, {result.slots} months at a time (wall): what {result.slots} slots on this machine allow | "
           f"{result.pure_in_parallel_seconds:.1f} |",
           f"| Airflow's share against that: (wall − pure at a time) ÷ wall | "
           f"{(result.wall_seconds - result.pure_in_parallel_seconds) / result.wall_seconds:.0%} |"]
          if result.pure_in_parallel_seconds else []),
        f"| rows loaded | {result.rows_loaded:,} |",
        "",
        "Each task's life, median over the months (seconds): the scheduler's wait from the upstream task's end (the "
        "run's start for the first task) to queued; the executor's from queued to the task's start; its duration.",
        "",
        "| task | scheduler wait | executor wait | duration |",
        "|---|---:|---:|---:|",
        *(f"| {task} | {m['scheduler_wait']:.1f} | {m['executor_wait']:.1f} | {m['duration']:.1f} |"
          for task, m in medians.items()),
    ]
    return "\n".join(lines)
