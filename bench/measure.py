"""Run one command in a process of its own; measure its wall time and peak resident memory.

The peak comes from GNU time's `%M`, not from our own wait4/RUSAGE_CHILDREN: Python starts children with
vfork, and Linux carries the parent's high-water RSS into the child at exec, so wait4 would report this
process's peak (hundreds of MB) for a child that used 2 MB. GNU time forks from its own tiny image.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack.server_process import Polling

GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


@dataclass
class Measurement:
    wall_seconds: float
    peak_rss_mb: float
    returncode: int
    steps: dict = field(default_factory=dict)
    peak_is_upper_bound: bool = False


def run_measured(command: list[str], log_path: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run `command`, its stderr to `log_path`; its last stdout line, if JSON, is the way's step seconds."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd, rusage_file = tempfile.mkstemp(prefix="bench-rusage-")
    os.close(fd)
    wrapped = [GNU_TIME, "--format=%M", f"--output={rusage_file}", *command] if GNU_TIME else command
    try:
        with open(log_path, "w") as log:
            started = time.perf_counter()
            child = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
            stdout = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)
            wall_seconds = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            child.stdout.close()
            log.write(f"\n--- stdout ---\n{stdout}")
        if GNU_TIME:
            peak_kb = int(Path(rusage_file).read_text().split()[-1])
        else:
            peak_kb = usage.ru_maxrss  # an upper bound: includes this process's own peak (see above)
    finally:
        os.unlink(rusage_file)
    return Measurement(
        wall_seconds=wall_seconds,
        peak_rss_mb=peak_kb / 1024,
        returncode=child.returncode,
        steps=_last_json_line(stdout),
        peak_is_upper_bound=not GNU_TIME,
    )


def _last_json_line(stdout: str) -> dict:
    lines = stdout.strip().splitlines()
    try:
        value = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class PeakDisks(Polling):
    """The most bytes under each folder at once while the block runs, polled every `interval` seconds."""

    def __init__(self, folders: dict[str, Path], interval: float = 1.0) -> None:
        self.folders, self.interval = folders, interval
        self.peaks = {name: 0 for name in folders}

    def poll(self) -> None:
        for name, folder in self.folders.items():
            self.peaks[name] = max(self.peaks[name], folder_bytes(folder))


def folder_bytes(folder: Path) -> int:
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):  # removed while we looked
                total += os.stat(os.path.join(parent, name)).st_size
    return total
