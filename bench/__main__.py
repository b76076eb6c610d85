"""`./dev bench`: load yellow 2021-01 (synthetic, real size) into Postgres each way, each in a process of its own,
and print wall time, rows, rows/s and peak RSS beside the floor; also written to bench/results.md.

With --fhv, ours also loads FHV 2019-01 at its real size (23.1 million trips): the memory bound on the largest month.
With --backfill N, `airflow backfill create` over N months on the local stack, beside the same months' plain loads.

Generates the months into .local/bench/source unless there, starts a PostgreSQL cluster in .local/bench/postgres
(stopped at the end) and a source server laid out like the release.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bench import REPO
from bench.backfill import SHORT_TASK_NAMES, SLOTS, BackfillResult, backfill_months, markdown_section, run_backfill
from bench.measure import PeakDisks, run_measured
from bench.report import Result, machine, markdown_report, median_results, steps_text, text_table
from bench.ways import GCS_BUCKET
from devstack.gcs_emulator import GcsEmulator
from devstack.postgres_cluster import PostgresCluster
from devstack.server_process import free_port
from devstack.source_server import SourceServer
from devstack.synthetic_month import release_path, write_month

BENCH_DIR = REPO / ".local" / "bench"
SOURCE_ROOT = BENCH_DIR / "source"
PYCACHE = BENCH_DIR / "pycache"
RESULTS_FILE = REPO / "bench" / "results.md"
DATABASE = {"user": "taxi", "password": "taxi", "dbname": "ny_taxi"}
MONTH = "2021-01"  # yellow 2021-01 has 1,369,765 trips
DOUBLE_MONTH = "2021-03"  # generated with twice as many, to show the peak does not grow with the month
MONTH_ROWS = {MONTH: 1_369_765, DOUBLE_MONTH: 2 * 1_369_765}
# With --fhv: FHV 2019-01, the release's largest month (over 20 million trips, before the high-volume services moved
# to files of their own), generated at 23.1 million.
FHV_MONTH, FHV_ROWS = "2019-01", 23_100_000
# With --largest: also yellow at 2019-01's real size, the release's largest yellow month.
LARGEST_YELLOW_MONTH, LARGEST_YELLOW_ROWS = "2019-01", 7_667_792
RAW_TABLE = "bench.yellow_trips_raw"
FHV_RAW_TABLE = "bench.fhv_trips_raw"
TO_SQL_TABLE = "bench.yellow_taxi_data"
OUR_TABLE = "ny_taxi.yellow_tripdata"
AIRFLOW_DAG = "yellow_taxi_to_postgres"


@dataclass(frozen=True)
class Way:
    label: str
    way: str  # a name in bench.ways, or "airflow"
    month: str
    target: str | None  # the table whose rows count as loaded; None: the way reports its rows
    slow: bool = False
    color: str = "yellow"
    staging_url: str | None = None  # ours: where to stage, when not the local folder


FLOOR = "floor"  # the reference of the ratio column: the cheaper floor (see bench/ways.py)


def planned_ways(args) -> list[Way]:
    ways = [
        Way("floor (gzip → psycopg COPY csv)", FLOOR, MONTH, RAW_TABLE),
        Way("floor, psql (gzip -dc | psql \\copy)", "floor-psql", MONTH, RAW_TABLE),
        Way("Mage (read_csv, filter, to_csv, COPY)", "mage", MONTH, RAW_TABLE),
        Way("zoomcamp week 1 (chunks + to_sql)", "zoomcamp", MONTH, TO_SQL_TABLE, slow=True),
        Way("ours, Postgres", "ours", MONTH, OUR_TABLE),
        Way("ours, Postgres, staged on the GCS emulator", "ours", MONTH, OUR_TABLE,
            staging_url=f"gs://{GCS_BUCKET}/_staging"),
        Way("ours under Airflow (dags test)", "airflow", MONTH, OUR_TABLE),
        Way("ours, GCS (partitioned Parquet, published)", "ours-gcs", MONTH, None),
        Way("pyarrow, one call (read_csv + write_to_dataset)", "pyarrow-gcs", MONTH, None),
        Way("floor (gzip → psycopg COPY csv)", FLOOR, DOUBLE_MONTH, RAW_TABLE),
        Way("ours, Postgres", "ours", DOUBLE_MONTH, OUR_TABLE),
    ]
    if args.largest:
        ways += [
            Way("floor (gzip → psycopg COPY csv)", FLOOR, LARGEST_YELLOW_MONTH, RAW_TABLE),
            Way("ours, Postgres", "ours", LARGEST_YELLOW_MONTH, OUR_TABLE),
        ]
    if args.fhv or args.largest:
        ways += [
            Way("floor (gzip → psycopg COPY csv), FHV", FLOOR, FHV_MONTH, FHV_RAW_TABLE, color="fhv"),
            Way("ours, Postgres, FHV", "ours", FHV_MONTH, "ny_taxi.fhv_tripdata", color="fhv"),
        ]
    if args.skip_slow:
        ways = [way for way in ways if not way.slow]
    if args.only:
        ways = [way for way in ways if way.way in args.only]
    return ways


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./dev bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-slow", action="store_true", help="leave out the week-1 to_sql way (about a minute)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every way this many times (default 1)")
    parser.add_argument("--only", type=lambda text: text.split(","), help="only these ways, e.g. floor,ours")
    parser.add_argument("--fhv", action="store_true",
                        help=f"also ours on FHV {FHV_MONTH} at its real size ({FHV_ROWS:,} trips; generating it "
                             "takes minutes and 0.4 GB)")
    parser.add_argument("--largest", action="store_true",
                        help=f"also the floor and ours on the largest months: yellow {LARGEST_YELLOW_MONTH} "
                             f"({LARGEST_YELLOW_ROWS:,} trips) and FHV {FHV_MONTH} ({FHV_ROWS:,}); implies --fhv")
    parser.add_argument("--backfill", type=int, default=0, metavar="N",
                        help="also `airflow backfill create` over N months (1,369,765 trips each) on the local stack, "
                             "LocalExecutor with 2 slots, beside the same months loaded by ours (--only '' for it alone)")
    parser.add_argument("--profile", action="store_true", help="instead: where our way's time goes (cProfile)")
    parser.add_argument("--fhvhv", action="store_true",
                        help="instead: the TLC's Parquet fhvhv 2019-02 at its real size (20,159,102 trips), ours beside "
                             "its floor (bench/parquet_month.py; generating it once takes about two minutes and 1 GB)")
    release = parser.add_argument_group("the whole release through the scheduler (bench/release.py)")
    release.add_argument("--release", action="store_true",
                         help="instead: backfill the whole release at its real size on the local stack, beside its "
                              "floors and Airflow's own (an hour or more; generating it once takes longer)")
    release.add_argument("--chaos", action="store_true", help="with --release: under faults, on a seeded schedule")
    release.add_argument("--executor", choices=("local", "celery"), default="local",
                         help="with --release: LocalExecutor (2 slots) or Celery with two workers")
    release.add_argument("--fraction", type=float, default=1.0, help="with --release: of each file's real rows")
    release.add_argument("--seed", type=int, default=0, help="with --release: of the data and of the faults")
    release.add_argument("--colors", default="yellow,green,fhv", help="with --release (default: all three)")
    release.add_argument("--release-months", default="2019-01..2021-07", metavar="FIRST..LAST")
    release.add_argument("--gcs-months", default="yellow,green:2020-01..2020-12",
                         help="with --release: also into GCS and BigQuery: COLORS:FIRST..LAST, all or none "
                              "(default: yellow and green 2020, the homework's year)")
    release.add_argument("--skip-floors", action="store_true",
                         help="with --release: only the release's backfill (no floors, pure way or empty tasks)")
    args = parser.parse_args(argv)
    command = "./dev bench " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.release:
        return run_release_bench(args)
    if args.fhvhv:
        from bench.parquet_month import bench as parquet_month_bench

        return parquet_month_bench(args.rounds)

    months = [("yellow", month, rows) for month, rows in MONTH_ROWS.items()]
    months += [("yellow", month, MONTH_ROWS[MONTH]) for month in backfill_months(args.backfill)
               if month not in MONTH_ROWS]
    if args.largest:
        months.append(("yellow", LARGEST_YELLOW_MONTH, LARGEST_YELLOW_ROWS))
    for color, month, rows in months + ([("fhv", FHV_MONTH, FHV_ROWS)] if args.fhv or args.largest else []):
        path = release_path(SOURCE_ROOT, color, *map(int, month.split("-")))
        if not path.exists():
            print(f"==> generating {rows:,} synthetic {color} trips for {month} in {path.relative_to(REPO)}")
            write_month(path, color, *map(int, month.split("-")), rows)

    cluster = PostgresCluster(BENCH_DIR / "postgres" / "data", free_port())
    print(f"==> PostgreSQL in {cluster.data_dir.relative_to(REPO)} on port {cluster.port}")
    cluster.stop()  # one left running by an interrupted run listens on another port
    cluster.start()
    server = SourceServer(SOURCE_ROOT).start()
    gcs = GcsEmulator(BENCH_DIR / "gcs", project="bench").start()
    try:
        gcs.create_bucket(GCS_BUCKET)
        cluster.create_role_and_database(**DATABASE)
        dsn = postgres_uri(cluster.port)
        with psycopg.connect(cluster.superuser_dsn()) as conn:
            postgres_version = conn.execute("SHOW server_version").fetchone()[0]
        facts = machine(postgres_version)
        ways = planned_ways(args)
        env = {**child_environment(dsn, server.base_url), **gcs.environment()}
        print("==> compiling bytecode into .local/bench/pycache (not timed)")
        compile_bytecode(env)
        if args.profile:
            return profile(cluster, dsn, server.base_url, env)
        if any(way.way == "airflow" for way in ways):
            print("==> airflow db migrate (not timed)")
            subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rounds, dag_import_notes, sections = [], [], []
        for number in range(1, args.rounds + 1):
            print(f"\n==> round {number} of {args.rounds}")
            results = [measure(way, cluster, dsn, server.base_url, env) for way in ways]
            if any(way.way == "airflow" for way in ways):
                dag_import_notes.append(f"Run {number}: {dag_import_note(env)}")
            rounds.append(results)
            print("\n" + text_table(results))
        if len(rounds) > 1:
            print(f"\nMedian of {len(rounds)} runs:\n" + text_table(median_results(rounds)))
        if args.backfill:
            sections.append(backfill(cluster, dsn, server.base_url, env, backfill_months(args.backfill)))
            print("\n" + sections[-1])
    finally:
        gcs.stop()
        server.stop()
        cluster.stop()

    notes = [
        "floor: Python inflating the gzip file in 1 MiB chunks into psycopg's `COPY ... FROM STDIN (FORMAT csv, "
        "HEADER)` of a typed table, the cheaper of the two floors measured; `floor, psql` is `gzip -dc FILE | psql "
        "-c '\\copy ...'`, whose peak is the largest process of the pipeline. Neither parses nor filters.",
        "The floors read the file from disk; the other ways fetch it from the local source server over HTTP.",
        "Rows loaded are counted in Postgres after each way. The floors and the to_sql way keep every row; "
        "Mage's way drops passenger_count ≤ 0 or empty; ours also drops trip_distance ≤ 0.",
        "Peak MB is the client process's; the Postgres server's memory is not in it.",
        "Each process reads compiled bytecode from .local/bench/pycache (compiled before the runs, not timed).",
        "ours, GCS runs the GCS DAG's tasks (download, clean, partitions written locally, uploaded to staging, "
        "published with a manifest) against the GCS emulator; the one-call pyarrow way reads the file from disk, "
        "infers types and filters nothing, so it writes more rows.",
        *dag_import_notes,
    ]
    from bench.release import kept_sections

    RESULTS_FILE.write_text(markdown_report(command.strip(), facts, rounds, notes, sections)
                            + kept_sections(RESULTS_FILE))
    print(f"\nwritten to {RESULTS_FILE.relative_to(REPO)}")
    return 0


def run_release_bench(args) -> int:
    from bench.release import run_release, write_section

    env = child_environment("postgresql://unset", "http://unset")
    compile_bytecode(env)
    # A folder per executor and mode: a run never removes another's cluster or stack.
    section = run_release(args, BENCH_DIR / "release" / f"{args.executor}{'-chaos' if args.chaos else ''}", env)
    print("\n" + section)
    write_section(RESULTS_FILE, section, f"{args.executor}{' chaos' if args.chaos else ''}")
    print(f"\nwritten to {RESULTS_FILE.relative_to(REPO)}")
    return 0


def measure(way: Way, cluster: PostgresCluster, dsn: str, base_url: str, env: dict) -> Result:
    print(f"--> {way.label} [{way.month}]", flush=True)
    reset_tables(cluster)
    log = BENCH_DIR / "logs" / f"{way.way}-{way.month}.log"
    if way.way == "airflow":
        command = [sys.executable, "-m", "airflow", "dags", "test", AIRFLOW_DAG, f"{way.month}-01"]
    else:
        command = ours_command(way.month, dsn, base_url, way.color, way.way, way.staging_url)
    with PeakDisks({"staging": BENCH_DIR / "work" / "staging"}, interval=0.05) as disks:
        measured = run_measured(command, log, env=env)
    reported_rows = measured.steps.pop("_rows", 0)
    rows = count_rows(dsn, way.target) if way.target else reported_rows
    if measured.returncode != 0 or rows == 0:
        print(f"    FAILED (exit {measured.returncode}, {rows} rows): see {log.relative_to(REPO)}")
        return Result(way.label, month_label(way), None, note=f"failed, see {log.relative_to(REPO)}")
    steps, note = measured.steps, ""
    if way.way == "airflow":
        steps = airflow_task_seconds(env)
        note = f"the first task waits {execution_api_wait(log):.1f} s for dags test's in-process execution API"
    elif way.way == "ours":
        note = f"+ check_month, which the DAG runs after the load: {check_seconds(dsn, way.color, way.month, rows):.1f} s"
        if not way.staging_url:
            compressed = release_path(SOURCE_ROOT, way.color, *map(int, way.month.split("-"))).stat().st_size
            note += (f"; staging peak {disks.peaks['staging'] / 2**20:,.0f} MiB, "
                     f"{disks.peaks['staging'] / compressed:.2f}× the .csv.gz")
    print(f"    {measured.wall_seconds:.1f} s, {rows:,} rows, peak {measured.peak_rss_mb:.0f} MB; {steps_text(steps)}")
    return Result(way.label, month_label(way), measured.wall_seconds, rows, measured.peak_rss_mb, steps, note,
                  floor=way.way == FLOOR)


def backfill(cluster: PostgresCluster, dsn: str, base_url: str, env: dict, months: list[str]) -> str:
    """The months through `airflow backfill create` on the stack, and each through ours alone; the report's section."""
    pure = []
    for month in months:
        result = measure(Way("ours, Postgres", "ours", month, OUR_TABLE), cluster, dsn, base_url, env)
        if result.wall_seconds is None:
            raise RuntimeError(f"ours failed on {month}: {result.note}")
        pure.append(result.wall_seconds)
    reset_tables(cluster)
    print(f"--> ours, Postgres, {SLOTS} months at a time [{months[0]}..{months[-1]}]", flush=True)
    started = time.monotonic()
    for first in range(0, len(months), SLOTS):
        running = [subprocess.Popen(ours_command(month, dsn, base_url), env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for month in months[first:first + SLOTS]]
        if any(process.wait() != 0 for process in running):
            raise RuntimeError(f"ours failed on a month of {months[first:first + SLOTS]}")
    pure_in_parallel = time.monotonic() - started
    print(f"    {pure_in_parallel:.1f} s")
    reset_tables(cluster)
    load_average = " ".join(f"{load:.2f}" for load in os.getloadavg())
    print(f"--> backfill of {len(months)} months on the local stack (load average {load_average})", flush=True)
    wall, tasks = run_backfill(cluster, env, BENCH_DIR / "airflow-stack", BENCH_DIR / "work" / "stack-staging",
                               months)
    result = BackfillResult(months, wall, sum(pure), SLOTS, count_rows(dsn, OUR_TABLE), tasks, pure_in_parallel)
    print(f"    {wall:.1f} s; pure {sum(pure):.1f} s ({', '.join(f'{s:.1f}' for s in pure)}); "
          f"Airflow's share {result.airflow_share:.0%}")
    return markdown_section(result, load_average)


def profile(cluster: PostgresCluster, dsn: str, base_url: str, env: dict) -> int:
    reset_tables(cluster)
    out = BENCH_DIR / "logs" / "ours.prof"
    print(f"==> profiling ours on {MONTH} (stats in {out.relative_to(REPO)})\n", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "bench.profile", "--dsn", dsn, "--base-url", base_url, "--month", MONTH,
         "--work-dir", str(BENCH_DIR / "work"), "--out", str(out)],
        env=env, stderr=subprocess.DEVNULL,
    ).returncode


def month_label(way: Way) -> str:
    """The month column, which also keys the ratio to the floor: the color too when not yellow (FHV 2019-01 has a
    floor of its own)."""
    return way.month if way.color == "yellow" else f"{way.month} {way.color}"


def ours_command(month: str, dsn: str, base_url: str, color: str = "yellow", way: str = "ours",
                 staging_url: str | None = None) -> list[str]:
    """The command of a way of bench/ways.py; each month stages in a folder of its own, or under `staging_url`."""
    return [
        sys.executable, "-m", "bench.ways", way, "--dsn", dsn, "--base-url", base_url, "--month", month,
        "--color", color, "--source-root", str(SOURCE_ROOT), "--work-dir", str(BENCH_DIR / "work"),
        *(["--staging-url", staging_url] if staging_url else []),
    ]


def reset_tables(cluster: PostgresCluster) -> None:
    """Every way starts equal: no tables of the ways before it, and nothing of theirs left to write back."""
    with psycopg.connect(postgres_uri(cluster.port), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS ny_taxi CASCADE")
        conn.execute("CREATE SCHEMA bench")
        create_raw = (Path(__file__).parent / "sql" / "create_raw_trips.sql").read_text()
        conn.execute(sql.SQL(create_raw).format(schema=sql.Identifier("bench"),
                                                table=sql.Identifier("yellow_trips_raw")))
        create_fhv_raw = (Path(__file__).parent / "sql" / "create_raw_fhv_trips.sql").read_text()
        conn.execute(sql.SQL(create_fhv_raw).format(schema=sql.Identifier("bench"),
                                                    table=sql.Identifier("fhv_trips_raw")))
    with psycopg.connect(cluster.superuser_dsn(DATABASE["dbname"]), autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def count_rows(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
            return 0
        schema, name = table.split(".")
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()[0]


def check_seconds(dsn: str, color: str, month: str, rows: int) -> float:
    """Under Airflow the DAG also checks the loaded month; how long that takes, to compare like with like."""
    from nyc_taxi.months import TaxiMonth
    from nyc_taxi.postgres import check_month

    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        check_month(conn, TaxiMonth.parse(color, month), rows)
    return time.monotonic() - started


def execution_api_wait(log: Path) -> float:
    """Seconds from `dags test` starting its first task to the task's first call reaching the execution API."""
    stamps = {}
    for line in log.read_text().splitlines():
        for event in ("[DAG TEST] running task", "Task started"):
            if event in line and event not in stamps and (found := re.match(r"(\S+?)Z? ", line)):
                stamps[event] = dt.datetime.fromisoformat(found.group(1))
    if len(stamps) < 2:
        return float("nan")
    return (stamps["Task started"] - stamps["[DAG TEST] running task"]).total_seconds()


def airflow_task_seconds(env: dict) -> dict:
    """Each task's duration in the latest run, from Airflow's metadata database."""
    database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        run_id = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (AIRFLOW_DAG,)
        ).fetchone()[0]
        durations = db.execute(
            "SELECT task_id, duration FROM task_instance WHERE dag_id = ? AND run_id = ? ORDER BY start_date",
            (AIRFLOW_DAG, run_id),
        ).fetchall()
    return {SHORT_TASK_NAMES.get(task, task): {"seconds": round(seconds or 0.0, 3)} for task, seconds in durations}


def dag_import_note(env: dict) -> str:
    result = run_measured([sys.executable, "-m", "bench.dag_import", str(REPO / "dags")],
                          BENCH_DIR / "logs" / "dag_import.log", env=env)
    steps = result.steps
    if result.returncode != 0 or not steps:
        return "DAG import timing failed, see .local/bench/logs/dag_import.log"
    return (f"Parsing dags/ ({steps['dags']} DAGs, {steps['import_errors']} import errors) takes "
            f"{steps['dag_files_s']:.2f} s beyond importing airflow.sdk and DagBag "
            f"({steps['airflow_import_s']:.2f} s), "
            f"in a fresh process.")


def child_environment(dsn: str, base_url: str) -> dict[str, str]:
    """The environment of every measured process: Airflow's settings as the demo and the tests set them,
    the deployment's `.env`, `.env.local` and shell, and a bytecode cache of our own, so no way pays for
    compiling its imports."""
    from devstack.airflow_stack import airflow_environment
    from devstack.local_env import local_environment

    airflow_home = BENCH_DIR / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = airflow_environment(
        airflow_home,
        f"sqlite:///{airflow_home}/airflow.db",
        BENCH_DIR / "work" / "airflow-staging",
        {
            "PYTHONPYCACHEPREFIX": str(PYCACHE),
            "AIRFLOW_CONN_NY_TAXI_POSTGRES": dsn,
            "AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL": base_url,
            "AIRFLOW_VAR_NYC_TAXI_POSTGRES_SCHEMA": "ny_taxi",
        },
        base=local_environment(),  # the deployment's settings, e.g. ARROW_DEFAULT_MEMORY_POOL
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_bytecode(env: dict[str, str]) -> None:
    """Compile every module a way may import, once (a minute; seconds when up to date).

    uv installs without compiling, and PYTHONDONTWRITEBYTECODE=1 in this environment keeps Python from
    caching what it compiles: each process would otherwise spend seconds compiling pandas or Airflow.
    """
    import sysconfig

    ours = [str(REPO / name) for name in ("plugins", "dags", "devstack", "bench")]
    folders = [sysconfig.get_paths()["purelib"], *ours]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *folders], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def postgres_uri(port: int) -> str:
    return f"postgresql://{DATABASE['user']}:{DATABASE['password']}@127.0.0.1:{port}/{DATABASE['dbname']}"


if __name__ == "__main__":
    sys.exit(main())
