"""A throwaway local PostgreSQL 15 cluster: initdb, start and stop a private data directory that
listens on 127.0.0.1 only, running the server as the `postgres` OS user when we are root."""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin"
SUPERUSER = "postgres"
CONFIG_FILE = "devstack.conf"
START_TIMEOUT_SECONDS = 60
LOG_TAIL_LINES = 30
# A unix socket path must fit in sun_path (108 bytes), and the server adds "/.s.PGSQL.NNNNN.lock".
MAX_SOCKET_DIR_CHARS = 85


class PostgresClusterError(RuntimeError):
    """initdb, pg_ctl or the server failed; the message carries their output or the log's tail."""


class PostgresCluster:
    """A PostgreSQL cluster in `data_dir` on 127.0.0.1:`port`, superuser `postgres` with a password."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        bin_dir: Path = Path(os.environ.get("PG_BIN", DEFAULT_BIN_DIR)),
        *,
        fast: bool = False,
        superuser_password: str = "postgres",
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.bin_dir = Path(bin_dir)
        self.fast = fast
        self.superuser_password = superuser_password
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.socket_dir = _socket_dir_for(self.data_dir)

    # Lifecycle

    def start(self) -> PostgresCluster:
        """Initialise the data directory if it is new, then start the server; nothing to do if it runs."""
        if self.is_running():
            return self
        self._prepare_directories()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._write_config()
        result = self._run(
            [
                str(self.bin_dir / "pg_ctl"), "start", "--wait", f"--timeout={START_TIMEOUT_SECONDS}",
                f"--pgdata={self.data_dir}", f"--log={self.log_file}",
            ],
            check=False,
        )
        if result.returncode != 0:
            raise PostgresClusterError(
                f"PostgreSQL in {self.data_dir} did not start on port {self.port}:\n{result.stdout}{result.stderr}"
                f"--- last {LOG_TAIL_LINES} lines of {self.log_file} ---\n{self.log_tail()}"
            )
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; nothing to do if it is stopped.

        `fast` rolls back open sessions and shuts down cleanly; `immediate` is a crash: recovery runs on start.
        """
        if not self.is_running():
            return
        self._run([str(self.bin_dir / "pg_ctl"), "stop", "--wait", f"--mode={mode}", f"--pgdata={self.data_dir}"])

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = self._run([str(self.bin_dir / "pg_ctl"), "status", f"--pgdata={self.data_dir}"], check=False)
        return result.returncode == 0

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Connections

    def dsn(self, user: str, password: str, dbname: str) -> str:
        """A libpq conninfo string for a password login over TCP."""
        return make_conninfo(host="127.0.0.1", port=self.port, user=user, password=password, dbname=dbname)

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        return self.dsn(SUPERUSER, self.superuser_password, dbname)

    def drop_database(self, dbname: str) -> None:
        """Drop `dbname` if it exists, closing its connections."""
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))

    def create_role_and_database(self, user: str, password: str, dbname: str) -> None:
        """Make `user` a login role with `password` and the owner of database `dbname`; safe to repeat."""
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            role_exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                    sql.SQL("ALTER" if role_exists else "CREATE"), sql.Identifier(user), sql.Literal(password)
                )
            )
            if user == SUPERUSER:
                self.superuser_password = password
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(user))
                )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "".join(self.log_file.read_text(errors="replace").splitlines(keepends=True)[-lines:])
        except FileNotFoundError:
            return "(no log file)\n"

    # Internals

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool, as the `postgres` OS user when we are root (initdb and pg_ctl refuse root)."""
        if self._as_root():
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        # cwd="/": the postgres user may not be allowed into our working directory (e.g. /root).
        result = subprocess.run(command, capture_output=True, text=True, cwd="/", env=_tool_environment())
        if check and result.returncode != 0:
            raise PostgresClusterError(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def _prepare_directories(self) -> None:
        missing_parents = [p for p in reversed(self.data_dir.parents) if not p.exists()]
        for parent in missing_parents:
            parent.mkdir(exist_ok=True)
            parent.chmod(0o755)  # explicit, so the umask cannot lock the postgres user out
        if not self.data_dir.exists():
            self.data_dir.mkdir()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.chmod(0o700)
        self.log_file.touch(exist_ok=True)
        if self.socket_dir != self.data_dir:
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)

        if not self._as_root():
            return
        owner = pwd.getpwnam(SUPERUSER)
        for path in (self.data_dir, self.log_file, self.socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        if not self._reachable_by_superuser(self.data_dir.parent):
            closed = next(path for path in [*reversed(self.data_dir.parents), self.data_dir.parent]
                          if not self._reachable_by_superuser(path))
            raise PostgresClusterError(
                f"the {SUPERUSER} OS user cannot reach {self.data_dir.parent}: {closed} is not searchable by others "
                f"(a clone under `mktemp -d`, or pytest's tmp_path under /tmp/pytest-of-root, is 0700). Run as root, "
                f"PostgreSQL runs as {SUPERUSER}: `chmod o+x {closed}`, or use a data directory under a "
                f"world-searchable parent"
            )

    @staticmethod
    def _reachable_by_superuser(directory: Path) -> bool:
        return subprocess.run(["runuser", "-u", SUPERUSER, "--", "test", "-x", str(directory)]).returncode == 0

    def _initdb(self) -> None:
        # initdb reads the superuser password from a file the postgres user must be able to open.
        fd, password_file = tempfile.mkstemp(prefix="devstack-pg-pw-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(self.superuser_password + "\n")
            if self._as_root():
                owner = pwd.getpwnam(SUPERUSER)
                os.chown(password_file, owner.pw_uid, owner.pw_gid)
            command = [
                str(self.bin_dir / "initdb"), f"--pgdata={self.data_dir}", f"--username={SUPERUSER}",
                f"--pwfile={password_file}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--encoding=UTF8", "--no-locale", "--no-instructions",
            ]
            if self.fast:
                command.append("--no-sync")
            self._run(command)
        finally:
            os.unlink(password_file)
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\n# Settings written by devstack on every start.\ninclude_if_exists '{CONFIG_FILE}'\n")

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": _quote(str(self.socket_dir)),
            "max_connections": "100",
            "shared_buffers": "'128MB'",
        }
        if self.fast:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        config = self.data_dir / CONFIG_FILE
        config.write_text("".join(f"{name} = {value}\n" for name, value in settings.items()))
        if self._as_root():
            owner = pwd.getpwnam(SUPERUSER)
            os.chown(config, owner.pw_uid, owner.pw_gid)


def _socket_dir_for(data_dir: Path) -> Path:
    """The data directory itself, unless its path is too long for a unix socket; then a short dir in /tmp."""
    if len(str(data_dir)) <= MAX_SOCKET_DIR_CHARS:
        return data_dir
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"devstack-pg-{digest}"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _tool_environment() -> dict[str, str]:
    # Stray PG* variables (PGDATA, PGPORT, ...) would point the tools at some other cluster.
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", help="with start: create this login role (idempotent)")
    parser.add_argument("--password", help="the role's password (required with --user)")
    parser.add_argument("--dbname", help="with start: create this database owned by --user (default: --user)")
    parser.add_argument("--fast", action="store_true", help="fsync, synchronous_commit and full_page_writes off")
    args = parser.parse_args(argv)
    if args.user and not args.password:
        parser.error("--user needs --password")

    cluster = PostgresCluster(args.data_dir, args.port, fast=args.fast)
    try:
        if args.action == "start":
            cluster.start()
            print(f"PostgreSQL running on 127.0.0.1:{cluster.port} (data {cluster.data_dir}, log {cluster.log_file})")
            if args.user:
                cluster.create_role_and_database(args.user, args.password, args.dbname or args.user)
                print(f"role {args.user} owns database {args.dbname or args.user}")
        elif args.action == "stop":
            cluster.stop()
            print("PostgreSQL stopped")
        else:
            running = cluster.is_running()
            print("running" if running else "stopped")
            return 0 if running else 3
    except PostgresClusterError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
