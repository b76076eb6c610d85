"""`./dev bench --release`: the whole release through the scheduler, at its real size, beside its floors.

1. The release is generated once (devstack/release.py, into .local/release; reused after).
2. Floors: each month's gzip stream into `COPY ... (FORMAT csv)`, one after another (bench.ways floor).
3. Pure: each month through the plain functions the DAG runs (bench.ways ours, then check_month), two at a time.
4. Airflow's floor: `airflow backfill create` of the same DAG shape with tasks that do nothing (bench/empty_dags),
   over the same months, on a stack with the same settings.
5. The release: `airflow backfill create` of each color's Postgres DAG, all at once, on a stack like
   `./dev stack`'s (LocalExecutor with 2 slots, or Celery with two workers), recording each task's peak RSS and the
   peak disk of staging, Postgres, GCS and BigQuery.
6. GCS, then BigQuery, for the months of --gcs-months (default: yellow and green 2020, the homework's year).
7. The checks of devstack/release_check.py: every month exact, its audit, nothing left running.
With --chaos, 5 and 6 run under the faults of devstack/faults.py, struck on a seed-chosen schedule, with a
supervisor restarting what they kill; the fault log goes in the report.
"""

from __future__ import annotations

import contextlib
import hashlib
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from bench import REPO
from bench.measure import PeakDisks, run_measured
from devstack import faults
from devstack.server_process import Polling
from devstack.release import GeneratedFile, generate_release, release_files
from devstack.release_check import audit_problems, inexact_months, postgres_month_rows, unfinished_runs


def release_root(fraction: float, seed: int) -> Path:
    """Where the release is kept at this size and seed: `.local/release` at its real size."""
    name = "release" if (fraction, seed) == (1.0, 0) else f"release-x{fraction:g}-seed{seed}"
    return REPO / ".local" / name

SLOTS = 2
SCHEMA = "ny_taxi"
EMPTY_DAGS = REPO / "bench" / "empty_dags"
GCS_BUCKET = "nyc-taxi-lake"
GCP_PROJECT = "bench-release"
RESULTS_START, RESULTS_END = "<!-- release:start -->", "<!-- release:end -->"


@dataclass
class Phase:
    """One backfill on the stack: its wall time, each task's peak RSS, the disks' peaks."""

    name: str
    wall_seconds: float
    task_peaks_mb: dict[str, list[float]] = field(default_factory=dict)  # task id -> each instance's peak
    disk_peaks: dict[str, int] = field(default_factory=dict)
    tries: int = 0  # task instances' tries beyond the first


class TaskPeakRss(Polling):
    """Every task process's peak RSS (VmHWM), polled from /proc: Airflow names a task's process
    `airflow worker -- <task instance id>`; at the end, the ids are mapped to task ids."""

    interval = 0.25

    def __init__(self) -> None:
        self.peaks_kb = {}

    def poll(self) -> None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            with contextlib.suppress(OSError):
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace")
                if found := re.match(r"airflow worker -- ([0-9a-f-]{36})", title):
                    with open(f"/proc/{pid}/status") as status:
                        # A process that has exited but not been reaped yet has no memory lines.
                        hwm = next((int(line.split()[1]) for line in status if line.startswith("VmHWM")), 0)
                    self.peaks_kb[found.group(1)] = max(self.peaks_kb.get(found.group(1), 0), hwm)


    def by_task(self, metadata_dsn: str) -> dict[str, list[float]]:
        with psycopg.connect(metadata_dsn) as conn:
            ids = dict(conn.execute("SELECT id::text, task_id FROM task_instance").fetchall())
            ids.update(conn.execute("SELECT task_instance_id::text, task_id FROM task_instance_history").fetchall())
        peaks: dict[str, list[float]] = {}
        for ti_id, kb in self.peaks_kb.items():
            peaks.setdefault(ids.get(ti_id, "?"), []).append(kb / 1024)
        return peaks


def run_release(args, work: Path, env: dict[str, str]) -> str:
    """The release bench; returns the report's Markdown section."""
    from devstack.bigquery_emulator import BigQueryEmulator
    from devstack.gcs_emulator import GcsEmulator
    from devstack.postgres_cluster import PostgresCluster
    from devstack.server_process import free_port
    from devstack.source_server import SourceServer

    colors = args.colors.split(",")
    first, last = args.release_months.split("..")
    files = release_files(colors, first, last)
    root = release_root(args.fraction, args.seed)
    generated = generate_release(root, files, args.fraction, args.seed)
    gcs_months = _gcs_months(args.gcs_months, generated)

    shutil.rmtree(work / "postgres", ignore_errors=True)
    cluster = PostgresCluster(work / "postgres" / "data", free_port())
    cluster.start()
    cluster.create_role_and_database("taxi", "taxi", "ny_taxi")
    taxi_dsn = cluster.dsn("taxi", "taxi", "ny_taxi")
    source = SourceServer(root).start()
    gcs = bigquery = None
    report = Report(args, generated, gcs_months)
    try:
        env = {**env, "AIRFLOW_CONN_NY_TAXI_POSTGRES": _conn_uri(cluster.port),
               "AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL": source.base_url,
               "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": SCHEMA}
        if gcs_months or args.executor == "celery":
            shutil.rmtree(work / "gcs", ignore_errors=True)
            shutil.rmtree(work / "bigquery", ignore_errors=True)
            gcs = GcsEmulator(work / "gcs", project=GCP_PROJECT).start()
            gcs.create_bucket(GCS_BUCKET)
            bigquery = BigQueryEmulator(gcs.root, GCP_PROJECT, data_dir=work / "bigquery").start()
            env.update({**gcs.environment(), **bigquery.environment(), "AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET": GCS_BUCKET})
        floors_file = work.parent / f"floors-{root.name}-{len(generated)}-files-{args.executor}.json"
        if not args.skip_floors:
            report.floor_seconds = floors(cluster, taxi_dsn, generated, root, work, env)
            report.pure_seconds = pure(cluster, taxi_dsn, source.base_url, generated, root, work, env)
            report.empty = backfill_phase("Airflow's floor (empty tasks)", cluster, env, work, generated, {},
                                          executor=args.executor, dags_folder=EMPTY_DAGS,
                                          dag_format="{}_empty_taxi_to_postgres")
            floors_file.write_text(json.dumps({
                "floor_seconds": report.floor_seconds, "pure_seconds": report.pure_seconds,
                "empty_seconds": report.empty.wall_seconds, "measured_at": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
                "load_average": " ".join(f"{load:.2f}" for load in os.getloadavg())}))
        elif floors_file.exists():
            # The floors of the same files, measured by an earlier run: the report says when.
            earlier = json.loads(floors_file.read_text())
            report.floor_seconds, report.pure_seconds = earlier["floor_seconds"], earlier["pure_seconds"]
            report.empty = Phase("Airflow's floor (empty tasks)", earlier["empty_seconds"])
            report.floors_measured = f"{earlier['measured_at']} (load average then {earlier['load_average']})"
        reset_taxi_schema(cluster)
        servers = {"gcs": gcs} if gcs else {}
        report.release = backfill_phase(
            "the release", cluster, env, work, generated, gcs_months, executor=args.executor,
            chaos_seed=args.seed if args.chaos else None, servers=servers, taxi_dsn=taxi_dsn,
            folders={"staging": work / "staging", "Postgres": cluster.data_dir,
                     **({"GCS": gcs.root, "BigQuery": work / "bigquery"} if gcs else {})},
            report=report,
        )
        report.postgres_facts = postgres_facts(cluster, taxi_dsn)
        if gcs_months:
            report.problems += lake_problems(gcs, bigquery, gcs_months, report.held)
    finally:
        for server in (bigquery, gcs, source):
            if server:
                server.stop()
        cluster.stop()
    return report.markdown()


def _gcs_months(spec: str, generated: dict[tuple[str, str], GeneratedFile]) -> dict[tuple[str, str], GeneratedFile]:
    """`yellow,green:2020-01..2020-12`, `all` or `none`."""
    if spec == "none":
        return {}
    if spec == "all":
        return dict(generated)
    colors, months = spec.split(":")
    first, last = months.split("..")
    return {key: file for key, file in generated.items()
            if key[0] in colors.split(",") and first <= key[1] <= last}


def _conn_uri(port: int) -> str:
    return f"postgresql://taxi:taxi@127.0.0.1:{port}/ny_taxi"


def reset_taxi_schema(cluster) -> None:
    with psycopg.connect(cluster.superuser_dsn("ny_taxi"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("CHECKPOINT")


def floors(cluster, taxi_dsn: str, generated: dict, root: Path, work: Path, env: dict) -> float:
    """Each month's floor, one after another; the raw table emptied between months (not timed)."""
    reset_taxi_schema(cluster)
    with psycopg.connect(taxi_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA bench")
        for color, name in (("yellow", "yellow_trips_raw"), ("green", "green_trips_raw"), ("fhv", "fhv_trips_raw")):
            file = {"yellow": "create_raw_trips.sql", "green": "create_raw_green_trips.sql",
                    "fhv": "create_raw_fhv_trips.sql"}[color]
            ddl = (REPO / "bench" / "sql" / file).read_text()
            conn.execute(sql.SQL(ddl).format(schema=sql.Identifier("bench"), table=sql.Identifier(name)))
    total = 0.0
    print(f"--> floors: {len(generated)} months one after another", flush=True)
    for (color, month), _ in sorted(generated.items()):
        measured = run_measured(_way_command("floor", taxi_dsn, "", color, month, root, work),
                                work / "logs" / "floor.log", env=env)
        if measured.returncode:
            raise RuntimeError(f"the floor failed on {color} {month}: see {work / 'logs' / 'floor.log'}")
        total += measured.wall_seconds
        with psycopg.connect(taxi_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier("bench", f"{color}_trips_raw")))
    print(f"    {total:.1f} s", flush=True)
    return total


def pure(cluster, taxi_dsn: str, base_url: str, generated: dict, root: Path, work: Path, env: dict) -> float:
    """Every month through the DAG's plain functions (download, clean and load, check), SLOTS at a time, wall."""
    reset_taxi_schema(cluster)
    print(f"--> pure: {len(generated)} months through the plain functions, {SLOTS} at a time", flush=True)

    def load(key) -> None:
        color, month = key
        command = _way_command("ours", taxi_dsn, base_url, color, month, root, work / f"pure-{color}-{month}")
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"ours failed on {color} {month}:\n{result.stderr[-2000:]}")
        from nyc_taxi.months import TaxiMonth
        from nyc_taxi.postgres import check_month

        with psycopg.connect(taxi_dsn, autocommit=True) as conn:
            check_month(conn, TaxiMonth.parse(color, month), generated[key].kept)

    started = time.monotonic()
    # Largest first, as the backfill's scheduler cannot: the fairest two-at-a-time.
    with ThreadPoolExecutor(SLOTS) as pool:
        list(pool.map(load, sorted(generated, key=lambda key: -generated[key].rows)))
    wall = time.monotonic() - started
    print(f"    {wall:.1f} s", flush=True)
    return wall


def _way_command(way: str, dsn: str, base_url: str, color: str, month: str, root: Path, work: Path) -> list[str]:
    return [sys.executable, "-m", "bench.ways", way, "--dsn", dsn, "--base-url", base_url or "http://unused",
            "--month", month, "--color", color, "--source-root", str(root), "--work-dir", str(work)]


def backfill_phase(name: str, cluster, env: dict, work: Path, generated: dict, gcs_months: dict, *,
                   executor: str = "local", dags_folder: Path = REPO / "dags",
                   dag_format: str = "{}_taxi_to_postgres", chaos_seed: int | None = None,
                   servers: dict | None = None, taxi_dsn: str = "", folders: dict | None = None,
                   report: Report | None = None, fault_window_seconds: float | None = None,
                   slots: int = SLOTS) -> Phase:
    """Backfill each color's months (and the GCS months) on a stack of its own; the phase's figures."""
    from devstack.airflow_stack import AirflowStack, airflow_environment
    from devstack.redis_server import RedisServer
    from devstack.server_process import free_port

    slug = re.sub(r"\W+", "-", name).strip("-").lower()
    metadata_db = f"airflow_{slug.replace('-', '_')}"
    cluster.drop_database(metadata_db)
    cluster.create_role_and_database("airflow", "airflow", metadata_db)
    metadata_dsn = cluster.dsn("airflow", "airflow", metadata_db)
    # A short path: a Celery worker's forkserver socket lives under its TMPDIR in the home, within 108 bytes.
    home = Path(tempfile.gettempdir()) / f"nyc-taxi-bench-{hashlib.sha1(str(work / slug).encode()).hexdigest()[:6]}"
    shutil.rmtree(home, ignore_errors=True)
    print(f"    Airflow home {home} (its logs)", flush=True)
    staging = work / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    months = sorted({month for _, month in generated})
    extra = {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
             "NYC_TAXI_SCHEDULE_START": months[0], "NYC_TAXI_SCHEDULE_END": months[-1]}
    if chaos_seed is not None:
        extra.update(faults.RECOVERY_ENVIRONMENT)
        faults.install_retry_delay_policy(home)
    broker = None
    staging_target: Path | str = staging
    with contextlib.ExitStack() as cleanup:
        if executor == "celery":
            broker = cleanup.enter_context(RedisServer(work / f"redis-{slug}"))
            extra.update(broker.environment())
            staging_target = f"gs://{GCS_BUCKET}/_staging"
        if chaos_seed is not None and executor == "local":
            disk = cleanup.enter_context(faults.StagingDisk(staging, size_mb=staging_tmpfs_mb(generated)))
        stack_env = airflow_environment(home, f"postgresql+psycopg2://airflow:airflow@127.0.0.1:{cluster.port}/"
                                              f"{metadata_db}", staging_target, extra, base=env)
        stack_env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
        stack = cleanup.enter_context(AirflowStack(stack_env, free_port(), parallelism=slots,
                                                   celery_workers=2 if executor == "celery" else 0))
        colors = sorted({color for color, _ in generated})
        dag_ids = [dag_format.format(color) for color in colors]
        peaks = cleanup.enter_context(TaskPeakRss())
        disks = cleanup.enter_context(PeakDisks(folders or {}))
        supervisor = chaos = None
        if chaos_seed is not None:
            supervisor = cleanup.enter_context(faults.Supervisor(stack, cluster, servers))
            chaos = cleanup.enter_context(faults.ChaosSchedule(
                release_faults(stack, cluster, servers or {}, disk if executor == "local" else None,
                               metadata_dsn, taxi_dsn, chaos_seed, executor, bool(gcs_months),
                               fault_window_seconds or expected_seconds(generated)),
                metadata_dsn, supervisor))
        print(f"--> {name}: backfill of {', '.join(dag_ids)} over {months[0]}..{months[-1]}"
              + (f", GCS for {len(gcs_months)} months" if gcs_months else "")
              + (f", under faults (seed {chaos_seed})" if chaos else ""), flush=True)
        started = time.monotonic()
        backfills = [(dag_id, *_month_range(generated, dag_id.split("_")[0])) for dag_id in dag_ids]
        backfills += [(f"{color}_taxi_to_gcs", *_month_range(gcs_months, color))
                      for color in sorted({color for color, _ in gcs_months})]
        # At once, as several users or a script would: each CLI takes seconds to start.
        with ThreadPoolExecutor(len(backfills)) as pool:
            list(pool.map(lambda backfill: _cli_surviving_faults(
                stack, "backfill", "create", "--dag-id", backfill[0], "--from-date", f"{backfill[1]}-01",
                "--to-date", f"{backfill[2]}-01", "--max-active-runs", str(slots)), backfills))
        _wait(lambda: all(_backfill_done(metadata_dsn, dag_id) for dag_id, _, _ in backfills), 6 * 3600,
              "the backfills to complete")
        if gcs_months:
            for color in sorted({color for color, _ in gcs_months}):
                _cli_surviving_faults(stack, "dags", "trigger", f"{color}_taxi_gcs_to_bigquery")
            _wait(lambda: not _runs_in(metadata_dsn, ("queued", "running")), 3 * 3600,
                  "the BigQuery runs to finish")
        wall = time.monotonic() - started
        if chaos:
            report.fault_log, report.restarts = chaos.records, supervisor.restarts
            report.restart_failures = supervisor.failures
        phase = Phase(name, wall, peaks.by_task(metadata_dsn), disks.peaks, _retries(metadata_dsn))
        if report is not None:
            report.problems += unfinished_runs(metadata_dsn)
            if dags_folder == REPO / "dags":
                report.held = postgres_month_rows(taxi_dsn, SCHEMA, colors)
                report.problems += inexact_months(generated, report.held, "Postgres")
                report.problems += audit_problems(taxi_dsn, SCHEMA, metadata_dsn, generated)
            report.failed_runs = _runs_in(metadata_dsn, ("failed",))
    print(f"    {wall:.1f} s", flush=True)
    return phase


def _month_range(files: dict, color: str) -> tuple[str, str]:
    months = sorted(month for file_color, month in files if file_color == color)
    return months[0], months[-1]


def _cli_surviving_faults(stack, *args: str) -> None:
    """The CLI, tried again while a fault has the metadata database or the api-server down."""
    deadline = time.monotonic() + 300
    while True:
        result = stack.cli(*args, check=False)
        if result.returncode == 0 or time.monotonic() > deadline:
            if result.returncode:
                raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stderr[-2000:]}")
            return
        time.sleep(3)


def _wait(condition, timeout_seconds: float, what: str) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error):
            if condition():
                return
        time.sleep(2)
    raise TimeoutError(f"gave up waiting for {what} after {timeout_seconds:.0f} s")


def _backfill_done(metadata_dsn: str, dag_id: str) -> bool:
    with psycopg.connect(metadata_dsn, connect_timeout=3) as conn:
        row = conn.execute("SELECT completed_at FROM backfill WHERE dag_id = %s ORDER BY id DESC LIMIT 1",
                           (dag_id,)).fetchone()
    return bool(row and row[0])


def _runs_in(metadata_dsn: str, states: tuple[str, ...]) -> list[str]:
    with psycopg.connect(metadata_dsn, connect_timeout=3) as conn:
        return [f"{dag_id} {run_id}" for dag_id, run_id in conn.execute(
            "SELECT dag_id, run_id FROM dag_run WHERE state = ANY(%s)", (list(states),)).fetchall()]


def _retries(metadata_dsn: str) -> int:
    with psycopg.connect(metadata_dsn) as conn:
        return conn.execute("SELECT coalesce(sum(greatest(try_number - 1, 0)), 0) FROM task_instance").fetchone()[0]


def staging_tmpfs_mb(generated: dict) -> int:
    """Room for SLOTS of the largest months, downloaded and cleaned, and a margin: what the staging goal allows."""
    largest = max(file.bytes for file in generated.values())
    return max(64, int(largest * 2.5 * SLOTS / 2**20) + 64)


def expected_seconds(generated: dict) -> float:
    """A rough length of the backfill, to spread the faults over: about 700,000 trips a second, and 4 s a month."""
    return sum(file.rows for file in generated.values()) / 700_000 + 4 * len(generated) / SLOTS


def release_faults(stack, cluster, servers: dict, disk, metadata_dsn: str, taxi_dsn: str, seed: int,
                   executor: str, with_gcs: bool, within_seconds: float) -> list[faults.Fault]:
    """The chaos schedule's faults, each at its seed-chosen time."""
    planned = {
        "kill the scheduler": dict(
            ready=lambda: bool(faults.running_tasks(metadata_dsn, "%")),
            strike=lambda: faults.kill_airflow_process(stack, "scheduler"), restarted="scheduler"),
        "stop Postgres in immediate mode": dict(
            ready=lambda: faults.copy_running(taxi_dsn),
            strike=lambda: (cluster.stop("immediate"), "the taxi and metadata databases")[1], restarted="postgres",
            recovered_by="clean_and_load_month_to_postgres"),
    }
    if disk is not None:
        planned["fill the staging disk"] = dict(
            ready=lambda: True, strike=lambda: f"{disk.fill() / 2**20:,.0f} MiB of ballast",
            # Freed once a try has failed for it, as an operator told of it would: the retry then has room.
            undo_when=lambda struck: faults.failed_tries_since(metadata_dsn, "download_month", struck) > 0, undo=disk.free,
            recovered_by="download_month")
    if with_gcs and "gcs" in servers:
        planned["kill the GCS emulator during a publish"] = dict(
            ready=lambda: bool(faults.running_tasks(metadata_dsn, "write_month_to_gcs")),
            strike=lambda: (servers["gcs"].kill(), "fake-gcs-server")[1], restarted="gcs",
            recovered_by="write_month_to_gcs")
    if executor == "celery":
        planned["SIGKILL a Celery worker mid-COPY"] = dict(
            ready=lambda: faults.copy_running(taxi_dsn),
            strike=lambda: faults.kill_airflow_process(stack, stack.workers[0]), restarted=stack.workers[0],
            recovered_by="clean_and_load_month_to_postgres")
    times = faults.seeded_times(seed, list(planned), within_seconds)
    return [faults.Fault(name, times[name], **spec) for name, spec in planned.items()]


def postgres_facts(cluster, taxi_dsn: str) -> dict:
    """Where Postgres's time and disk went: WAL written, checkpoints, the tables' and the indexes' sizes."""
    with psycopg.connect(cluster.superuser_dsn("ny_taxi")) as conn:
        wal_bytes = conn.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()[0]
        timed, requested, write_ms, sync_ms = conn.execute(
            "SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time"
            " FROM pg_stat_bgwriter").fetchone()
        tables, indexes, partitions = conn.execute(
            "SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0), count(*)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r'", (SCHEMA,)).fetchone()
        settings = dict(conn.execute("SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN"
                                     " ('max_wal_size', 'checkpoint_timeout', 'shared_buffers', 'wal_level',"
                                     " 'synchronous_commit', 'fsync')").fetchall())
    with psycopg.connect(taxi_dsn) as conn:
        loads = conn.execute(sql.SQL("SELECT rows_loaded, load_seconds, transform_seconds FROM {}")
                             .format(sql.Identifier(SCHEMA, "load_audit"))).fetchall()
    return {"wal_bytes": int(wal_bytes), "checkpoints_timed": timed, "checkpoints_requested": requested,
            "checkpoint_write_s": write_ms / 1000, "checkpoint_sync_s": sync_ms / 1000, "table_bytes": int(tables),
            "index_bytes": int(indexes), "tables": partitions, "settings": settings, "loads": loads}


def lake_problems(gcs, bigquery, gcs_months: dict, in_postgres: dict) -> list[str]:
    """GCS's manifests and BigQuery's rows agree with the source's kept count and with Postgres, month by month."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from nyc_taxi.gcs import published_months

    client = storage.Client(project=GCP_PROJECT, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs.endpoint})
    bq = bigquery.client()
    in_gcs, in_bigquery = {}, {}
    for color in sorted({color for color, _ in gcs_months}):
        in_gcs.update({(color, month): written.rows
                       for month, written in published_months(client, GCS_BUCKET, "nyc_taxi", color).items()})
        rows = bq.query_and_wait(f"SELECT FORMAT_DATE('%Y-%m', source_month) AS month, COUNT(*) AS n"
                                 f" FROM `{GCP_PROJECT}.ny_taxi.{color}_tripdata` GROUP BY 1")
        in_bigquery.update({(color, row["month"]): row["n"] for row in rows})
    problems = inexact_months(gcs_months, in_gcs, "GCS") + inexact_months(gcs_months, in_bigquery, "BigQuery")
    problems += [f"Postgres and GCS differ on {color} {month}" for (color, month) in gcs_months
                 if in_postgres.get((color, month)) != in_gcs.get((color, month))]
    return problems


@dataclass
class Report:
    args: object
    generated: dict
    gcs_months: dict
    floor_seconds: float | None = None
    pure_seconds: float | None = None
    empty: Phase | None = None
    release: Phase | None = None
    postgres_facts: dict = field(default_factory=dict)
    held: dict = field(default_factory=dict)  # {(color, month): rows} in Postgres at the end
    problems: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    fault_log: list = field(default_factory=list)
    restarts: list = field(default_factory=list)
    restart_failures: list = field(default_factory=list)
    floors_measured: str | None = None  # when the floors were measured, if by an earlier run

    def markdown(self) -> str:
        files, release = self.generated, self.release
        trips = sum(file.rows for file in files.values())
        kept = sum(file.kept for file in files.values())
        largest = max(files.values(), key=lambda file: file.bytes)
        lines = [
            f"## The release through the scheduler: {len(files)} months, {trips:,} trips"
            + (" (under faults)" if self.args.chaos else ""),
            "",
            f"`{' '.join(['./dev bench', *sys.argv[1:]])}`, {dt.datetime.now():%Y-%m-%d %H:%M}; "
            f"{self.args.executor} executor, {SLOTS} task slots; the load average at the end: "
            f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}. The months generated at "
            f"{self.args.fraction:g}× the real files' rows (devstack/release_counts.csv), seed {self.args.seed}.",
            "",
            *([f"The floors, the pure way and Airflow's floor below were measured by an earlier run of the same "
               f"files, {self.floors_measured}; the release's backfill by this one.", ""]
              if self.floors_measured else []),
            "| | seconds | × the floors |",
            "|---|---:|---:|",
        ]
        floor = self.floor_seconds

        def ratio(seconds):
            return f"{seconds / floor:.2f}" if floor and seconds else "—"

        if floor:
            lines.append(f"| the floors, one month after another (gzip → COPY csv) | {floor:.1f} | 1.00 |")
        if self.pure_seconds:
            lines.append(f"| pure: the DAG's functions, {SLOTS} months at a time | {self.pure_seconds:.1f} | "
                         f"{ratio(self.pure_seconds)} |")
        if self.empty:
            lines.append(f"| Airflow's floor: the same backfill, tasks that do nothing | "
                         f"{self.empty.wall_seconds:.1f} | {ratio(self.empty.wall_seconds)} |")
        lines.append(f"| **the release's backfill** ({', '.join(sorted({c for c, _ in files}))} into Postgres"
                     + (f"; {len(self.gcs_months)} months into GCS and BigQuery" if self.gcs_months else "")
                     + f") | **{release.wall_seconds:.1f}** | **{ratio(release.wall_seconds)}** |")
        if self.pure_seconds and self.empty:
            part = release.wall_seconds - self.pure_seconds
            lines += ["", f"Airflow's part, wall − pure: {part:.1f} s, **{part / self.empty.wall_seconds:.2f}×** "
                          f"its own floor of {self.empty.wall_seconds:.1f} s for the same {len(files)} runs "
                          f"({release.tries} retried tries in the release's run)."]
        lines += ["", "Each task's peak RSS (MB), over its instances:", "", "| task | instances | median | max |",
                  "|---|---:|---:|---:|"]
        for task, peaks in sorted(release.task_peaks_mb.items()):
            lines.append(f"| {task} | {len(peaks)} | {statistics.median(peaks):.0f} | {max(peaks):.0f} |")
        lines += ["", "Peak disk (MiB): " + ", ".join(f"{name} {peak / 2**20:,.0f}"
                                                      for name, peak in release.disk_peaks.items())
                  + f"; staging's peak is {release.disk_peaks.get('staging', 0) / largest.bytes:.2f}× the largest "
                    f"month's .csv.gz ({largest.color} {largest.month}, {largest.bytes / 2**20:,.0f} MiB)."]
        facts = self.postgres_facts
        if facts:
            loads = facts["loads"]
            lines += ["", f"Postgres: {facts['tables']} partitions, {facts['table_bytes'] / 2**30:.1f} GiB of tables, "
                          f"{facts['index_bytes'] / 2**20:.0f} MiB of indexes; {facts['wal_bytes'] / 2**30:.1f} GiB of "
                          f"WAL written; {facts['checkpoints_timed']} timed and {facts['checkpoints_requested']} "
                          f"requested checkpoints ({facts['checkpoint_write_s']:.0f} s writing, "
                          f"{facts['checkpoint_sync_s']:.0f} s syncing); the loads' own seconds: "
                          f"{sum(row[1] for row in loads):.0f} s storing, {sum(row[2] for row in loads):.0f} s "
                          f"reading and cleaning; settings {facts['settings']}."]
        lines += ["", f"Checked: {sum(self.held.values()):,} rows in Postgres against {kept:,} the source keeps; "
                      + ("**every month exact**, one audit row for each month's last successful load, no run left "
                         "queued or running" if not self.problems else f"**{len(self.problems)} problems**")
                      + (f"; failed runs along the way: {len(self.failed_runs)}" if self.failed_runs else "") + "."]
        lines += [f"- {problem}" for problem in self.problems[:30]]
        if self.fault_log:
            lines += ["", "Fault log (seconds from the fault; a fault that is undone, from its undoing):", "",
                      "| fault | what | at | restarted | undone | recovered |", "|---|---|---|---:|---:|---:|"]
            for record in self.fault_log:
                restarted = ((record.restarted_at - record.at).total_seconds() if record.restarted_at else None)
                undone = (record.undone_at - record.at).total_seconds() if record.undone_at else None
                lines.append(f"| {record.name} | {record.detail} | {record.at:%H:%M:%S} | "
                             f"{f'{restarted:.1f}' if restarted is not None else '—'} | "
                             f"{f'{undone:.1f}' if undone is not None else '—'} | "
                             f"{f'{record.recovery_seconds:.1f}' if record.recovery_seconds is not None else '—'} |")
            lines += ["", "The supervisor restarted: " + (", ".join(f"{name} at {at:%H:%M:%S}"
                                                                for name, at in self.restarts) or "nothing")
                      + (f"; {len(self.restart_failures)} restarts failed and were tried again (first: "
                         f"{self.restart_failures[0]})" if self.restart_failures else "") + "."]
        return "\n".join(lines)


def write_section(results_file: Path, section: str, key: str) -> None:
    """Put the section in results.md between its markers, replacing the same run's earlier one."""
    start, end = f"{RESULTS_START[:-4]} {key} -->", f"{RESULTS_END[:-4]} {key} -->"
    text = results_file.read_text() if results_file.exists() else ""
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results_file.write_text(text)


def kept_sections(results_file: Path) -> str:
    """The release sections of results.md, which a run of the month bench keeps as they are."""
    text = results_file.read_text() if results_file.exists() else ""
    blocks = re.findall(rf"{RESULTS_START[:-4]} .*? -->.*?{RESULTS_END[:-4]} .*? -->", text, flags=re.S)
    return "".join(f"\n{block}\n" for block in blocks)
