"""Airflow run locally: the environment for one Airflow home, and its api-server, scheduler and dag-processor, with
the LocalExecutor or Celery workers.

`./dev stack` starts the whole stack on the local PostgreSQL cluster (which also holds Airflow's metadata
database) so that catchup, `airflow backfill create` and the UI work as in production; Ctrl-C stops it all.
`--executor celery --workers 2` adds a Redis broker and two workers that pass for separate machines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from devstack.celery_workers import kill_process_tree, worker_command, worker_environment, worker_names
from devstack.local_env import (
    LOCAL,
    LOCAL_BUCKET,
    REPO,
    local_environment,
    local_postgres_cluster,
    serve_generated_months,
    start_gcp_emulators,
)
from devstack.mail_server import MailServer
from devstack.postgres_cluster import PostgresCluster
from devstack.redis_server import RedisServer
from devstack.server_process import stopped_with_parent
from nyc_taxi.months import TAXI_COLORS

STACK_HOME = LOCAL / "airflow-stack"
# The alert mails the stack's DAGs send, one .eml file each, and the OpenLineage events of their tasks.
MAIL_FOLDER = LOCAL / "mail"
LINEAGE_FILE = LOCAL / "lineage" / "events.jsonl"
# Celery workers share no disk, as on separate machines: a run's tasks stage in the GCS emulator's lake bucket.
CELERY_STAGING_URL = f"gs://{LOCAL_BUCKET}/_staging"


def airflow_environment(home: Path, metadata_db: str, staging: Path | str, extra: Mapping[str, str] | None = None,
                        base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for Airflow processes of one home, reading this repo's DAGs and plugins: `base` (default: this
    process's environment; the commands pass `local_environment()`), overridden by `extra`, then by the home's own.

    `staging` is the tasks' staging place: a local directory, or a staging URL such as `gs://bucket/_staging`."""
    return {
        **(os.environ if base is None else base),
        **(extra or {}),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "AIRFLOW_VAR_NYC_TAXI_STAGING_URL": staging if isinstance(staging, str) else staging.as_uri(),
        "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
    }


class AirflowStack:
    """The api-server (on 127.0.0.1, authentication on), scheduler and dag-processor of one Airflow home; with
    `celery_workers`, the CeleryExecutor and that many workers (`env` names the broker), else the LocalExecutor."""

    def __init__(self, env: dict[str, str], port: int, parallelism: int = 2, celery_workers: int = 0) -> None:
        if celery_workers and "AIRFLOW__CELERY__BROKER_URL" not in env:
            raise ValueError("Celery workers need a broker: set AIRFLOW__CELERY__BROKER_URL (a RedisServer's url)")
        self.port = port
        self.home = Path(env["AIRFLOW_HOME"])
        self.parallelism = parallelism
        self.celery_workers = celery_workers
        self.env = {
            **env,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": env.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_urlsafe(32),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if celery_workers else "LocalExecutor",
            # LocalExecutor forks `parallelism` workers up front: the default 32 take ~5 GB on a laptop. With
            # Celery it bounds the tasks queued or running across all workers.
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # A task's supervisor that misses its process's exit sleeps up to this long before reporting it and taking
            # the next task (default 5 s: a backfill's tasks waited 3-5 s for a free slot); 1 s costs a heartbeat a second.
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            # An idle scheduler loop sleeps this long before it sees a finished task and queues the next (default 1 s).
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.25",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self._log_starts: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json.generated"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, check=check,
                              capture_output=True, text=True)

    def start(self, timeout_seconds: float = 120) -> AirflowStack:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is taken: is another Airflow running? (--port picks another)")
        self.home.mkdir(parents=True, exist_ok=True)
        self.cli("db", "migrate")
        (self.home / "logs").mkdir(exist_ok=True)
        for name in ("api-server", "scheduler", "dag-processor", *self.workers):
            self._launch(name)
        self._wait_until_healthy(timeout_seconds)
        return self

    def _launch(self, name: str) -> None:
        commands = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            "scheduler": ["scheduler"],
            "dag-processor": ["dag-processor"],
        }
        env = self.env
        if name in self.workers:
            commands[name] = worker_command(name, concurrency=max(self.parallelism // self.celery_workers, 1))
            env = worker_environment(self.env, name, self.home / "workers" / name / "tmp")
        with open(self.home / "logs" / f"{name}.log", "ab") as log:
            self._log_starts[name] = log.tell()  # the log is appended to: read this start's lines only
            self.processes[name] = subprocess.Popen(
                stopped_with_parent([sys.executable, "-m", "airflow", *commands[name]]), env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def relaunch(self, name: str) -> None:
        """Start `name` (the scheduler, a worker...) again after it died, as a service manager would."""
        if self.processes[name].poll() is None:
            raise RuntimeError(f"airflow {name} is still running")
        self._launch(name)

    @property
    def workers(self) -> list[str]:
        """The Celery workers' names, which are also the hostnames Airflow records for the tasks they run."""
        return worker_names(self.celery_workers)

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL the Celery worker `name` and every process it started, as if its machine were lost."""
        killed = kill_process_tree(self.processes[name].pid)
        self.processes[name].wait()
        return killed

    def restart_lost_workers(self, timeout_seconds: float = 60) -> list[str]:
        """Start again the Celery workers that were killed (their machines are back), wait until they take tasks;
        returns their names."""
        lost = [name for name in self.workers if self.processes[name].poll() is not None]
        for name in lost:
            self._launch(name)
        if lost:
            self._wait_until_healthy(timeout_seconds)
        return lost

    def _wait_until_healthy(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"airflow {name} exited with {process.returncode}; see {self.home}/logs/{name}.log")
            try:
                if requests.get(f"{self.url}/api/v2/monitor/health", timeout=2).ok and self._workers_ready():
                    # The execution API builds its versioned routes on its first request (seconds of CPU): here,
                    # not while the first task's call to it times out and retries.
                    requests.get(f"{self.url}/execution/health", timeout=max(deadline - time.monotonic(), 1))
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        self.stop()
        raise TimeoutError(f"the api-server did not answer on {self.url}, or a Celery worker did not report ready, "
                           f"within {timeout_seconds:.0f} s")

    def _workers_ready(self) -> bool:
        """Each Celery worker has logged "<name>@<host> ready.": it takes tasks from the broker."""
        def log_of_this_start(name: str) -> str:
            with open(self.home / "logs" / f"{name}.log", "rb") as log:
                log.seek(self._log_starts[name])
                return log.read().decode(errors="replace")

        return all(re.search(rf"\b{name}@\S+ ready\.", log_of_this_start(name)) for name in self.workers)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                # The whole tree: a Celery worker's tasks run in process groups of their own.
                kill_process_tree(process.pid)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def stack_environment(metadata_db: str = "airflow", fresh: bool = False) -> tuple[PostgresCluster, dict[str, str]]:
    """The local cluster that `.env`, `.env.local` or the shell names (started, with the taxi and the metadata
    databases) and the env of a stack whose metadata is the database `metadata_db`, anew if `fresh`."""
    configured = local_environment()
    cluster, login = local_postgres_cluster(configured["AIRFLOW_CONN_NY_TAXI_POSTGRES"])
    cluster.start()
    cluster.create_role_and_database(**login)
    home = STACK_HOME if metadata_db == "airflow" else LOCAL / f"airflow-{metadata_db}"
    if fresh:
        cluster.drop_database(metadata_db)
        shutil.rmtree(home, ignore_errors=True)
    cluster.create_role_and_database("airflow", "airflow", metadata_db)
    metadata_url = f"postgresql+psycopg2://airflow:airflow@127.0.0.1:{cluster.port}/{metadata_db}"
    return cluster, airflow_environment(home, metadata_url, LOCAL / "staging", base=configured)


@contextlib.contextmanager
def local_stack(port: int = 8080, parallelism: int = 2, months: list[str] | None = None, real_source: bool = False,
                postgres_only: bool = False, metadata_db: str = "airflow", fresh: bool = False,
                extra_env: dict[str, str] | None = None, celery_workers: int = 0):
    """The stack of `./dev stack`, up: the local cluster, generated months served like the release (unless
    `real_source`), the GCS and BigQuery emulators (unless `postgres_only`) and Airflow, with `celery_workers`
    Celery workers and their Redis broker if not 0; all stopped on exit."""
    if celery_workers and postgres_only:
        raise ValueError("Celery workers stand for separate machines, which share no disk: they stage on the GCS "
                         "emulator, which --postgres-only leaves out")
    _, env = stack_environment(metadata_db, fresh)
    env.update(extra_env or {})
    server = broker = None
    if not real_source:
        months = sorted(months or ["2021-01", "2021-02", "2021-03"])
        server = serve_generated_months(months, list(TAXI_COLORS))
        env["AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL"] = server.base_url
        # Catchup of the served months only, unless .env, .env.local or the shell says otherwise.
        env.setdefault("NYC_TAXI_SCHEDULE_START", months[0])
        env.setdefault("NYC_TAXI_SCHEDULE_END", months[-1])
    # The late alert on, as in a deployment (dag_settings.py says why it is off by default).
    env.setdefault("NYC_TAXI_LATE_AFTER", "3d")
    emulators, stack, mail = [], None, None
    try:
        emulators = [] if postgres_only else start_gcp_emulators(env)
        mail = receive_alerts_and_lineage(env)
        if celery_workers:
            broker = RedisServer(LOCAL / "redis").start()
            env.update(broker.environment())
            env["AIRFLOW_VAR_NYC_TAXI_STAGING_URL"] = CELERY_STAGING_URL
            print(f"==> Redis at {broker.url}, the broker of {celery_workers} Celery workers; staging on "
                  f"{CELERY_STAGING_URL}")
        stack = AirflowStack(env, port, parallelism, celery_workers).start()
        yield stack
    finally:
        if stack:
            stack.stop()
        for running in emulators + [part for part in (broker, server, mail) if part]:
            running.stop()


def receive_alerts_and_lineage(env: dict[str, str]) -> MailServer | None:
    """Unless `.env.local` or the shell configure their own: an SMTP server keeping the alerts in `.local/mail/`,
    and OpenLineage's file transport writing to `.local/lineage/events.jsonl`. Returns the mail server it started."""
    if "AIRFLOW__OPENLINEAGE__TRANSPORT" not in env:
        LINEAGE_FILE.parent.mkdir(parents=True, exist_ok=True)
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(LINEAGE_FILE), "append": True})
    if "AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP" in env:
        return None
    mail = MailServer(MAIL_FOLDER).start()
    env.update({name: value for name, value in mail.environment().items() if name not in env})
    return mail


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cli"]:
        _, env = stack_environment()
        return subprocess.run([sys.executable, "-m", "airflow", *argv[1:]], env=env).returncode

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--parallelism", type=int, default=2,
                        help="task slots (default 2, for a 2-core machine); with Celery, shared by the workers")
    parser.add_argument("--executor", choices=("local", "celery"), default="local",
                        help="local: LocalExecutor (default); celery: CeleryExecutor, Redis and --workers workers, "
                             "each with a hostname and temporary directory of its own, like separate machines")
    parser.add_argument("--workers", type=int, default=2, help="with --executor celery: how many workers (default 2)")
    parser.add_argument("--real-source", action="store_true", help="download from the real release (needs internet)")
    parser.add_argument("--postgres-only", action="store_true", help="no GCS and BigQuery emulators")
    parser.add_argument("--months", default="2021-01,2021-02,2021-03",
                        help="with the local source: the months to generate and serve, and catch up from the first to "
                             "the last (default 2021-01..03)")
    args = parser.parse_args(argv)
    if args.executor == "celery" and args.postgres_only:
        parser.error("--executor celery stages on the GCS emulator, which --postgres-only leaves out")

    celery_workers = args.workers if args.executor == "celery" else 0
    with local_stack(args.port, args.parallelism, args.months.split(","), args.real_source,
                     args.postgres_only, celery_workers=celery_workers) as stack:
        env = stack.env
        print(f"Airflow is up at {stack.url}: user admin, password in {stack.password_file}")
        if stack.workers:
            print(f"Celery workers {', '.join(stack.workers)} (logs/worker-N.log; tasks record them as hostname).")
        print(f"Logs in {stack.home / 'logs'}. Backfill from another shell (or from the UI):")
        print("    ./dev airflow backfill create --dag-id yellow_taxi_to_postgres --from-date 2021-01-01 --to-date 2021-03-01")
        catchup = f"{env.get('NYC_TAXI_SCHEDULE_START', '2019-01')}..{env.get('NYC_TAXI_SCHEDULE_END', '2021-07')}"
        print("DAGs start paused, and a backfill's runs wait queued until its DAG is unpaused (./dev airflow dags")
        print(f"unpause DAG_ID; the UI's Backfill form does it). Unpausing also catches up {catchup}: set")
        print("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False to allow only backfills and manual runs.")
        print(f"Where each month landed, and the gaps: {stack.url}/nyc-taxi/ (or 'NYC taxi loads' under Browse).")
        if env.get("AIRFLOW_CONN_NYC_TAXI_ALERTS_SMTP", "").startswith("smtp://127.0.0.1:"):
            print(f"Alert mails (a month failed, recovered, late; a backfill's digest) land in {MAIL_FOLDER}/ as .eml.")
        if str(LINEAGE_FILE) in env.get("AIRFLOW__OPENLINEAGE__TRANSPORT", ""):
            print(f"OpenLineage events of every task: {LINEAGE_FILE} (one JSON event a line).")
        print("Ctrl-C stops Airflow (PostgreSQL keeps running; ./dev stop stops it).")
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        signal.sigwait(stop_signals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
