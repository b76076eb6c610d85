"""Celery workers on one machine that behave like workers on machines of their own: each has its own hostname (the
one Airflow records on the task instances it runs) and its own temporary directory, so nothing a task leaves on
local disk reaches a task on another worker.

Airflow imports `worker_hostname` in every task process (`[core] hostname_callable`): keep this module's imports
light.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Mapping
from pathlib import Path

WORKER_HOSTNAME_ENV = "NYC_TAXI_WORKER_HOSTNAME"
HOSTNAME_CALLABLE = f"{__name__}.worker_hostname"


def worker_hostname() -> str:
    """The name the worker was started as, else this machine's FQDN (Airflow's default, `socket.getfqdn`)."""
    return os.environ.get(WORKER_HOSTNAME_ENV) or socket.getfqdn()


def worker_names(count: int) -> list[str]:
    return [f"worker-{number}" for number in range(1, count + 1)]


def worker_command(name: str, concurrency: int) -> list[str]:
    """`airflow celery worker` arguments for the worker `name`, running `concurrency` tasks at once."""
    return [
        "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(concurrency),
        # Workers on one machine share its log folder, which the api-server reads directly; the log server
        # each would start listens on the same port.
        "--skip-serve-logs",
        # No start-up synchronisation or event chatter between workers: tasks come from the broker alone.
        "--without-mingle", "--without-gossip",
    ]


def worker_environment(env: Mapping[str, str], name: str, tmp_dir: Path) -> dict[str, str]:
    """`env` for the worker `name`: its hostname for Airflow and a temporary directory of its own."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return {
        **env,
        WORKER_HOSTNAME_ENV: name,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE,
        "TMPDIR": str(tmp_dir),
    }


def kill_process_tree(pid: int) -> list[int]:
    """SIGKILL `pid` and every process below it, as when its machine is lost; returns the pids killed.

    Its process group is not enough: Airflow starts each task in a process group of its own. Each process is
    stopped first, so none can start a child that the kill would miss.
    """
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return []
    stopped: dict[int, psutil.Process] = {}
    while True:
        try:
            found = [process for process in [root, *root.children(recursive=True)] if process.pid not in stopped]
        except psutil.NoSuchProcess:
            break
        if not found:
            break
        for process in found:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGSTOP)
            stopped[process.pid] = process
    for process in stopped.values():
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(process) for process in stopped.values()):
        time.sleep(0.05)
    return sorted(stopped)


def _alive(process) -> bool:
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE  # dead, awaiting its parent's wait()
    except psutil.NoSuchProcess:
        return False
