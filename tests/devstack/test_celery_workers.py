"""Workers on one machine that pass for workers on machines of their own, and losing one like losing its machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import psutil

from devstack.celery_workers import (
    HOSTNAME_CALLABLE,
    WORKER_HOSTNAME_ENV,
    kill_process_tree,
    worker_command,
    worker_environment,
    worker_hostname,
)


def test_each_worker_has_its_own_hostname_for_airflow_and_its_own_temporary_directory(tmp_path):
    base = {"AIRFLOW_HOME": "/home", "TMPDIR": "/tmp"}
    one = worker_environment(base, "worker-1", tmp_path / "worker-1")
    two = worker_environment(base, "worker-2", tmp_path / "worker-2")
    assert one["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == two["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == HOSTNAME_CALLABLE
    assert (one[WORKER_HOSTNAME_ENV], two[WORKER_HOSTNAME_ENV]) == ("worker-1", "worker-2")
    assert one["TMPDIR"] != two["TMPDIR"] and (tmp_path / "worker-1").is_dir()
    assert one["AIRFLOW_HOME"] == "/home" and base["TMPDIR"] == "/tmp"


def test_airflow_records_the_workers_name_as_hostname_else_the_fqdn(monkeypatch):
    from airflow.sdk.api.client import get_hostname  # what a task's supervisor reports when the task starts

    monkeypatch.setenv("AIRFLOW__CORE__HOSTNAME_CALLABLE", HOSTNAME_CALLABLE)
    monkeypatch.setenv(WORKER_HOSTNAME_ENV, "worker-2")
    assert get_hostname() == "worker-2"
    monkeypatch.delenv(WORKER_HOSTNAME_ENV)
    assert worker_hostname() == __import__("socket").getfqdn()


def test_the_worker_command_names_the_celery_node_after_the_worker():
    command = worker_command("worker-1", concurrency=1)
    assert command[:2] == ["celery", "worker"]
    assert command[command.index("--celery-hostname") + 1] == "worker-1@%h"
    assert command[command.index("--concurrency") + 1] == "1"


# A stand-in for a worker: a process that starts a "task" in a process group of its own, as Airflow does.
WORKER = textwrap.dedent("""
    import os, subprocess, sys, time
    task = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
    print(task.pid, flush=True)
    time.sleep(60)
""")


def test_killing_a_worker_kills_its_tasks_in_other_process_groups_too():
    worker = subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    task_pid = int(worker.stdout.readline())
    assert os.getpgid(task_pid) != os.getpgid(worker.pid)  # killpg of the worker's group would miss it

    killed = kill_process_tree(worker.pid)

    assert worker.wait(5) == -9
    assert set(killed) == {worker.pid, task_pid}
    deadline = time.monotonic() + 5
    while psutil.pid_exists(task_pid) and psutil.Process(task_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the task outlived its worker"
        time.sleep(0.05)


def test_killing_a_worker_that_is_gone_kills_nothing():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert kill_process_tree(gone.pid) == []
