"""A throwaway local Redis: Debian's `redis-server` on 127.0.0.1 and a free port, the Celery workers' broker.

Nothing is kept on disk (no snapshots, no append-only file): a queued task lost with the broker is re-queued by
the scheduler, as after a broker restart in production.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import time
from pathlib import Path

from devstack.server_process import ServerProcess, free_port

INSTALL_HINT = "install Debian's redis-server (apt-get install redis-server; ./dev does it when a command needs it)"


class RedisServerError(RuntimeError):
    """redis-server is missing or would not start; the message says which."""


class RedisServer(ServerProcess):
    """redis-server on 127.0.0.1:`port` (0: a free port, kept across restarts), working in `data_dir`."""

    error = RedisServerError
    start_timeout_seconds = 15

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.redis-server.log"

    @property
    def url(self) -> str:
        """The broker URL for Celery (`[celery] broker_url`), database 0."""
        if not self.port:
            raise RedisServerError("the Redis server has not been started, so it has no port yet")
        return f"redis://127.0.0.1:{self.port}/0"

    def _launch(self) -> tuple[list[str], dict]:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RedisServerError(f"redis-server is not installed: {INSTALL_HINT}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        command = [
            binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
        ]
        return command, {}

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_seconds
        while not self.ping():
            if self._process.poll() is not None:
                raise RedisServerError(f"redis-server exited with code {self._process.returncode} before answering")
            if time.monotonic() > deadline:
                raise RedisServerError(f"redis-server did not answer on port {self.port} within "
                                       f"{self.start_timeout_seconds} s")
            time.sleep(0.05)

    def ping(self) -> bool:
        """Whether the server answers PING (in Redis's inline protocol)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def environment(self) -> dict[str, str]:
        """What Airflow's CeleryExecutor and its workers need to reach this broker."""
        return {"AIRFLOW__CELERY__BROKER_URL": self.url}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        server = RedisServer(args.data_dir, args.port).start()
    except RedisServerError as error:
        print(error, file=sys.stderr)
        return 1
    return server.serve_until_stopped()


if __name__ == "__main__":
    sys.exit(main())
