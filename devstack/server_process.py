"""A local server run as a child process: started in a session of its own, waited for, stopped in order.

The GCS and BigQuery emulators are this, plus how to launch them and what clients need to reach them.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

STOP_TIMEOUT_SECONDS = 10


class ServerProcess:
    """A subclass gives `_launch()` (the command and Popen options) and `_ready_url()` (200 once it serves), or
    `_wait_until_ready()` for a server that does not speak HTTP."""

    error: type[Exception] = RuntimeError
    start_timeout_seconds = 30
    log_tail_lines = 30
    log_file: Path
    _process: subprocess.Popen[bytes] | None = None

    def _launch(self) -> tuple[list[str], dict]:
        raise NotImplementedError

    def _ready_url(self) -> str:
        raise NotImplementedError

    def start(self):
        """Start the server and wait until it answers; nothing to do if it runs."""
        if self.is_running():
            return self
        command, options = self._launch()
        with open(self.log_file, "ab") as log:
            # A session of its own: Ctrl-C in a terminal reaches us, and we stop the server in order.
            self._process = subprocess.Popen(
                stopped_with_parent(command), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **options,
            )
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except self.error as error:
            self.stop()
            raise self.error(f"{error}\n--- last lines of {self.log_file} ---\n{self.log_tail()}") from None
        return self

    def _wait_until_ready(self) -> None:
        """Return once the server serves; raise `self.error` if it exits or the start times out. Servers that do
        not speak HTTP override this."""
        wait_until_answers(self._ready_url(), self._process, self.start_timeout_seconds, self.error)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period); its data on disk stays."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), like a crash: a test's way to cut a write off mid-way."""
        self._end(signal.SIGKILL)

    def _end(self, first_signal: signal.Signals) -> None:
        end_process(self._process, first_signal)
        self._process = None
        atexit.unregister(self.stop)

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def serve_until_stopped(self) -> int:
        """For a CLI: print what clients need as `export` lines, then run until Ctrl-C or SIGTERM."""
        for name, value in self.environment().items():
            print(f"export {name}='{value}'", flush=True)
        try:
            wait_for_stop_signal()
        finally:
            self.stop()
        return 0

    def log_tail(self, lines: int | None = None) -> str:
        return file_tail(self.log_file, lines or self.log_tail_lines)

    def __enter__(self):
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class Polling:
    """Calls `poll()` every `interval` seconds in a daemon thread while the `with` block runs."""

    interval: float = 1.0

    def poll(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        try:
            while not self._stopping.wait(self.interval):
                self.poll()
        except BaseException as error:  # raised again by __exit__, in the thread that measures or watches
            self._error = error

    def __enter__(self):
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._poller = threading.Thread(target=self._loop, name=type(self).__name__, daemon=True)
        self._poller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()
        self._poller.join()
        if self._error is not None:  # what it measured or watched stopped there: say so, not a partial result
            raise RuntimeError(f"{type(self).__name__} stopped polling") from self._error


_ports_handed_out: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, and not one this process has handed out before: ports picked one after the
    other (the BigQuery emulator's REST and gRPC ports) are bound only later, so the kernel could repeat one."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


def stopped_with_parent(command: list[str]) -> list[str]:
    """`command`, sent SIGTERM by the kernel if the process that started it dies first (util-linux `setpriv`):
    servers run in sessions of their own, so a killed test run would otherwise leave them running."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *map(str, command)] if setpriv else command


def program(process: subprocess.Popen) -> str:
    """The program a process runs, seen through `stopped_with_parent`'s wrapper."""
    args = [str(arg) for arg in process.args]
    return args[args.index("--") + 1] if args[0].endswith("setpriv") else args[0]


def wait_for(condition, timeout_seconds: float, what: str, interval_seconds: float = 1.0):
    """`condition()`'s first true result, polled every `interval_seconds`; TimeoutError naming `what` if none comes
    within `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval_seconds)
    raise TimeoutError(f"gave up after {timeout_seconds:.0f} s waiting for {what}")


def wait_until_answers(
    url: str, process: subprocess.Popen[bytes], timeout: float, error: type[Exception] = RuntimeError
) -> None:
    """Poll `url` until it answers 200; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise error(f"{program(process)} exited with code {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise error(f"{url} did not answer within {timeout} s")
        time.sleep(0.05)


def end_process(process: subprocess.Popen[bytes] | None, first_signal: signal.Signals) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(first_signal)
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def file_tail(path: Path, lines: int) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:])
    except FileNotFoundError:
        return "(no log file)\n"


def wait_for_stop_signal() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopping.wait()
