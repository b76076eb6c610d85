"""Faults for a running stack, and the supervisor that restarts what they kill, as systemd or Kubernetes would.

Each fault waits for the moment it is meant for (a COPY running, a publish running, a download starting), strikes,
and records when; the supervisor restarts what died and records when it was back. The chaos bench
(`./dev bench --release --chaos`) and the tests share them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import shutil
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from devstack.server_process import Polling

# The stack's recovery settings under faults: a task whose process died (its scheduler or worker killed) is failed
# after missing heartbeats for this long (Airflow's default: 300 s), and retried after RETRY_DELAY_SECONDS (the DAGs'
# own: 30 s, doubling).
HEARTBEAT_TIMEOUT_SECONDS = 20
HEARTBEAT_DETECTION_SECONDS = 2
RETRY_DELAY_SECONDS = 3
# A fault that is undone (a full disk) is undone after this long even if nothing noticed it.
UNDO_AFTER_SECONDS = 60
# Tasks a killed scheduler had queued but not started have no heartbeat: a new scheduler resets them once the old one
# has missed its own heartbeats for SCHEDULER_DEAD_SECONDS (default 30 s), at its next orphan check, every
# ORPHAN_CHECK_SECONDS (default 300 s: a full release under faults waited 314 s after a scheduler was killed).
SCHEDULER_DEAD_SECONDS = 20
ORPHAN_CHECK_SECONDS = 10
RECOVERY_ENVIRONMENT = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_SECONDS),
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(HEARTBEAT_DETECTION_SECONDS),
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": str(SCHEDULER_DEAD_SECONDS),
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": str(ORPHAN_CHECK_SECONDS),
}
# A cluster policy (Airflow's way for an installation to override what DAG files set): the DAGs' retry delay becomes
# RETRY_DELAY_SECONDS in the stack whose config folder holds it. The dag-processor applies it when it parses.
RETRY_DELAY_POLICY = textwrap.dedent(f"""
    import datetime as dt


    def task_policy(task):
        task.retry_delay = dt.timedelta(seconds={RETRY_DELAY_SECONDS})
        task.retry_exponential_backoff = 0
""")


def install_retry_delay_policy(airflow_home: Path) -> None:
    """Put RETRY_DELAY_POLICY in the home's config folder, which Airflow puts on every process's sys.path."""
    config = Path(airflow_home) / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "airflow_local_settings.py").write_text(RETRY_DELAY_POLICY)


@dataclass
class FaultRecord:
    """One fault: what was hit, when, and when the pipeline was moving again (a task succeeded after it)."""

    name: str
    detail: str
    at: dt.datetime
    restarted_at: dt.datetime | None = None  # when the supervisor had what died running again
    undone_at: dt.datetime | None = None  # a fault that is undone (a full disk freed): when
    recovered_at: dt.datetime | None = None

    @property
    def recovery_seconds(self) -> float | None:
        """From the fault, or from its undoing (the disk freed), to the pipeline moving again."""
        return (self.recovered_at - (self.undone_at or self.at)).total_seconds() if self.recovered_at else None


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Supervisor(Polling):
    """Restarts, every `interval` seconds, the stack's Airflow processes, the PostgreSQL cluster and the servers
    that are not running: `servers` maps a name to an object with `is_running()` and `start()`."""

    def __init__(self, stack, cluster, servers: dict[str, object] | None = None, interval: float = 1.0) -> None:
        self.stack, self.cluster, self.servers, self.interval = stack, cluster, servers or {}, interval
        self.restarts: list[tuple[str, dt.datetime]] = []
        self.failures: list[str] = []  # restarts that failed, to be tried again

    def poll(self) -> None:
        try:
            self.restart_what_died()
        except Exception as error:  # noqa: BLE001 - a restart that fails is tried again on the next round
            self.failures.append(f"{now():%H:%M:%S} {type(error).__name__}: {str(error)[:300]}")

    def restart_what_died(self) -> None:
        if not self.cluster.is_running():
            self.cluster.start()
            self._restarted("postgres")
        for name, server in self.servers.items():
            if not server.is_running():
                server.start()
                self._restarted(name)
        for name, process in list(self.stack.processes.items()):
            if process.poll() is not None:
                self.stack.relaunch(name)
                self._restarted(name)

    def _restarted(self, name: str) -> None:
        self.restarts.append((name, now()))
        print(f"    {now():%H:%M:%S} supervisor: restarted {name}", flush=True)

    def restarted_since(self, name: str, since: dt.datetime) -> dt.datetime | None:
        return next((at for restarted, at in self.restarts if restarted == name and at >= since), None)

    def __exit__(self, *exc_info) -> None:
        super().__exit__(*exc_info)
        # A server started with the parent-death signal dies with the thread that started it, this one's: the
        # servers it restarted are started again from the caller's thread, to outlive it.
        for name, server in self.servers.items():
            if any(restarted == name for restarted, _ in self.restarts):
                server.stop()
                server.start()


def running_tasks(metadata_dsn: str, task_id_like: str) -> list[tuple[str, str, str]]:
    """(dag id, run id, task id) of the running task instances whose task id is LIKE the pattern."""
    with psycopg.connect(metadata_dsn, connect_timeout=3) as conn:
        return conn.execute("SELECT dag_id, run_id, task_id FROM task_instance WHERE state = 'running'"
                            " AND task_id LIKE %s", (task_id_like,)).fetchall()


def copy_running(taxi_dsn: str) -> bool:
    """A month's COPY is running in the taxi database."""
    with psycopg.connect(taxi_dsn, connect_timeout=3) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY %%'"
                            " AND state = 'active'").fetchone()[0] > 0


def successes_since(metadata_dsn: str, since: dt.datetime, task_id_like: str = "%") -> int:
    with psycopg.connect(metadata_dsn, connect_timeout=3) as conn:
        return conn.execute("SELECT count(*) FROM task_instance WHERE state = 'success' AND end_date > %s"
                            " AND task_id LIKE %s", (since, task_id_like)).fetchone()[0]


def failed_tries_since(metadata_dsn: str, task_id: str, since: dt.datetime) -> int:
    """Tries of the task that failed after `since`, retried or not."""
    with psycopg.connect(metadata_dsn, connect_timeout=3) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM task_instance_history WHERE task_id = %(task)s AND state = 'failed'"
            " AND end_date > %(since)s) + (SELECT count(*) FROM task_instance WHERE task_id = %(task)s"
            " AND state IN ('up_for_retry', 'failed') AND end_date > %(since)s)",
            {"task": task_id, "since": since}).fetchone()[0]


class StagingDisk:
    """The tasks' staging folder on a tmpfs of `size_mb`, so a fault can fill it (a download then fails for lack of
    space) and free it again, as an operator or a log rotation would."""

    def __init__(self, folder: Path, size_mb: int) -> None:
        self.folder, self.size_mb = Path(folder), size_mb
        self.ballast = self.folder / ".ballast"

    def mount(self) -> StagingDisk:
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size_mb}m,mode=1777", "tmpfs", str(self.folder)],
                       check=True, capture_output=True, text=True)
        return self

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.folder)], check=False, capture_output=True)

    def fill(self) -> int:
        """Write ballast until the disk is full; returns the bytes written."""
        written = 0
        with open(self.ballast, "wb") as ballast:
            block = b"\0" * (1 << 20)
            with contextlib.suppress(OSError):
                while True:
                    ballast.write(block)
                    ballast.flush()
                    written += len(block)
        return written

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)

    def used_bytes(self) -> int:
        return shutil.disk_usage(self.folder).used

    def __enter__(self) -> StagingDisk:
        return self.mount()

    def __exit__(self, *exc_info) -> None:
        self.free()
        self.unmount()


@dataclass
class Fault:
    """A fault to strike once, at or after `after_seconds` into the run, when `ready()` says its moment has come."""

    name: str
    after_seconds: float
    ready: Callable[[], bool]
    strike: Callable[[], str]  # does the harm; returns what it hit
    restarted: str | None = None  # the supervisor's name of what it kills, if anything
    undo: Callable[[], None] | None = None  # a fault that is undone (a full disk freed)...
    undo_when: Callable[[dt.datetime], bool] | None = None  # ...once this holds of the strike's time, or after
    # UNDO_AFTER_SECONDS
    recovered_by: str = "%"  # recovered when a task with this id (LIKE) succeeds after the fault


@dataclass
class ChaosSchedule:
    """Strikes the faults in a thread, each at its seed-chosen time, and records each with its recovery."""

    faults: list[Fault]
    metadata_dsn: str
    supervisor: Supervisor
    records: list[FaultRecord] = field(default_factory=list)
    poll_seconds: float = 0.2

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        for fault in sorted(self.faults, key=lambda fault: fault.after_seconds):
            while not self._stop.is_set() and time.monotonic() - started < fault.after_seconds:
                self._stop.wait(self.poll_seconds)
            while not self._stop.is_set() and not _safely(fault.ready):
                self._stop.wait(self.poll_seconds)
            if self._stop.is_set():
                return
            record = FaultRecord(fault.name, "", now())
            record.detail = fault.strike()
            self.records.append(record)
            print(f"    {record.at:%H:%M:%S} fault: {fault.name} ({record.detail})", flush=True)
            if fault.undo:
                undo_by = time.monotonic() + UNDO_AFTER_SECONDS
                while (fault.undo_when and not _safely(lambda: fault.undo_when(record.at)) and time.monotonic() < undo_by
                       and not self._stop.is_set()):
                    self._stop.wait(self.poll_seconds)
                fault.undo()
                record.undone_at = now()
                print(f"    {record.undone_at:%H:%M:%S} undone: {fault.name}", flush=True)
            self._wait_for_recovery(record, fault)

    def _wait_for_recovery(self, record: FaultRecord, fault: Fault) -> None:
        while not self._stop.is_set():
            if fault.restarted and not record.restarted_at:
                record.restarted_at = self.supervisor.restarted_since(fault.restarted, record.at)
            if (not fault.restarted or record.restarted_at) and _safely(
                    lambda: successes_since(self.metadata_dsn, record.at, fault.recovered_by) > 0):
                record.recovered_at = now()
                print(f"    {record.recovered_at:%H:%M:%S} recovered from {fault.name} in "
                      f"{record.recovery_seconds:.1f} s{' after it was undone' if record.undone_at else ''}",
                      flush=True)
                return
            self._stop.wait(self.poll_seconds * 5)

    def __enter__(self) -> ChaosSchedule:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def _safely(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - a database down mid-fault is the point: try again
        return False


def seeded_times(seed: int, names: list[str], within_seconds: float) -> dict[str, float]:
    """When each fault strikes, seconds into the run: spread over `within_seconds` in a seed-chosen order."""
    order = names[:]
    random.Random(seed).shuffle(order)
    slot = within_seconds / (len(order) + 1)
    jitter = random.Random(seed + 1)
    return {name: slot * (index + 1) + jitter.uniform(-slot / 4, slot / 4) for index, name in enumerate(order)}


def kill_airflow_process(stack, name: str) -> str:
    """SIGKILL the stack's `name` and every process below it (a LocalExecutor scheduler's tasks too), as when its
    machine or pod is lost."""
    from devstack.celery_workers import kill_process_tree

    process = stack.processes[name]
    killed = kill_process_tree(process.pid)
    process.wait()
    return f"{name}: {len(killed)} processes"
