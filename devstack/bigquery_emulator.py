"""A local BigQuery: local-bigquery (GoogleSQL on DuckDB) serving the REST API on 127.0.0.1 and the Storage
Read API over gRPC, run from a Python 3.13 virtualenv of its own, reading `gs://` from the GCS emulator's files."""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.gcs_emulator import google_cloud_connection
from devstack.server_process import ServerProcess, free_port

if TYPE_CHECKING:
    from google.cloud import bigquery, bigquery_storage_v1

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO / ".venv-bigquery"
REQUIREMENTS = Path(__file__).with_name("requirements-bigquery.txt")
PYTHON_VERSION = (3, 13)  # local-bigquery 0.3 wants >=3.13,<3.14
# DuckDB extensions local-bigquery loads (ducklake for its storage, spatial for GEOGRAPHY, httpfs, avro);
# each comes from a duckdb-extension-* wheel, installed once into the venv's own extension directory.
DUCKDB_EXTENSIONS = ("avro", "ducklake", "httpfs", "icu", "spatial")
INSTALLED_MARKER = ".devstack-installed"

_INSTALL_EXTENSIONS = """
import importlib, pathlib, duckdb
for name in {extensions!r}:
    package = pathlib.Path(importlib.import_module("duckdb_extension_" + name).__file__).parent
    (file,) = package.glob("extensions/v" + duckdb.__version__ + "/*.duckdb_extension")
    duckdb.execute(f"FORCE INSTALL '{{file}}'")
"""
_CHECK_OFFLINE = """
import duckdb
con = duckdb.connect()
con.execute("SET autoinstall_known_extensions = false")
for name in {extensions!r}:
    con.execute("LOAD " + name)
import local_bigquery.cli
"""


class BigQueryEmulatorError(RuntimeError):
    """The emulator's virtualenv could not be made, or the server would not start; the message says why."""


class BigQueryEmulator(ServerProcess):
    """local-bigquery on 127.0.0.1:`port` (0: a free port, kept across restarts), default project `project`.

    Tables persist in `data_dir` (default: `bigquery` beside `gcs_root`); `gs://bucket/name` in load and
    extract jobs is the file `gcs_root/bucket/name`, which is where the GCS emulator keeps its objects.
    """

    error = BigQueryEmulatorError
    start_timeout_seconds = 120
    log_tail_lines = 40

    def __init__(
        self,
        gcs_root: Path,
        project: str,
        port: int = 0,
        venv: Path = DEFAULT_VENV,
        *,
        data_dir: Path | None = None,
        grpc_port: int = 0,
    ) -> None:
        self.gcs_root = Path(gcs_root).absolute()
        self.project = project
        self.port = port
        self.grpc_port = grpc_port
        self.venv = Path(venv).absolute()
        self.data_dir = Path(data_dir).absolute() if data_dir else self.gcs_root.parent / "bigquery"
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.local-bigquery.log"

    @property
    def endpoint(self) -> str:
        """The REST endpoint, for BIGQUERY_EMULATOR_HOST or client_options={"api_endpoint": ...}."""
        if not self.port:
            raise BigQueryEmulatorError("the BigQuery emulator has not been started, so it has no port yet")
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_address(self) -> str:
        """The Storage Read API's address (plain gRPC), for `read_client()`."""
        if not self.grpc_port:
            raise BigQueryEmulatorError("the BigQuery emulator has not been started, so it has no port yet")
        return f"127.0.0.1:{self.grpc_port}"

    # Lifecycle

    def ensure_installed(self) -> None:
        """Make the emulator's virtualenv from the pinned requirements; quick when it is already made."""
        ensure_installed(self.venv)

    def _launch(self) -> tuple[list[str], dict]:
        self.ensure_installed()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.grpc_port = self.grpc_port or free_port()
        command = [
            str(self.venv / "bin" / "local-bigquery"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--grpc-port", str(self.grpc_port), "--project", self.project, "--data-dir", str(self.data_dir),
        ]
        return command, {"cwd": self.data_dir, "env": _server_environment(self.venv, self.gcs_root)}

    def _ready_url(self) -> str:
        return f"{self.endpoint}/bigquery/v2/projects/{self.project}/datasets"

    # What clients need

    def environment(self) -> dict[str, str]:
        """Variables that point google-cloud-bigquery (and so BigQueryHook.get_client) at this emulator, and give
        Airflow an anonymous `google_cloud_default` connection with this project."""
        return {
            "BIGQUERY_EMULATOR_HOST": self.endpoint,
            "GOOGLE_CLOUD_PROJECT": self.project,
            "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": google_cloud_connection(self.project),
        }

    def client(self) -> bigquery.Client:
        """A google-cloud-bigquery client on this emulator, without credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint}
        )

    def read_client(self) -> bigquery_storage_v1.BigQueryReadClient:
        """A Storage Read API client on this emulator, for `to_dataframe(bqstorage_client=...)`."""
        import grpc
        from google.cloud import bigquery_storage_v1
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import BigQueryReadGrpcTransport

        transport = BigQueryReadGrpcTransport(channel=grpc.insecure_channel(self.grpc_address))
        return bigquery_storage_v1.BigQueryReadClient(transport=transport)


def ensure_installed(venv: Path = DEFAULT_VENV) -> None:
    """Create `venv` with Python 3.13, sync it to requirements-bigquery.txt and install the DuckDB extensions
    from their wheels. A marker holding the requirements' hash makes a second call return at once."""
    venv = Path(venv).absolute()
    wanted = _requirements_digest()
    if _installed_digest(venv) == wanted:
        return
    venv_digest = hashlib.sha1(str(venv).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"devstack-bigquery-{venv_digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing the same venv
        if _installed_digest(venv) == wanted:
            return
        python = find_python()
        uv = _find_uv()
        (venv / INSTALLED_MARKER).unlink(missing_ok=True)
        if uv:
            _run([uv, "venv", "--quiet", "--clear", "--python", python, str(venv)])
            # Byte-compiled now, so the first start does not spend seconds compiling.
            _run([
                uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", str(venv / "bin" / "python"),
                str(REQUIREMENTS),
            ])
        else:
            _run([python, "-m", "venv", "--clear", str(venv)])
            _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)])
        environment = _server_environment(venv, gcs_root=None)
        Path(environment["HOME"]).mkdir(exist_ok=True)
        python_in_venv = str(venv / "bin" / "python")
        _run([python_in_venv, "-c", _INSTALL_EXTENSIONS.format(extensions=DUCKDB_EXTENSIONS)], env=environment)
        _run([python_in_venv, "-c", _CHECK_OFFLINE.format(extensions=DUCKDB_EXTENSIONS)], env=environment)
        (venv / INSTALLED_MARKER).write_text(wanted + "\n")


def find_python() -> str:
    """A Python 3.13 interpreter: $BIGQUERY_EMULATOR_PYTHON, python3.13 on PATH, pyenv's, or uv's."""
    candidates: list[tuple[str, str]] = []
    if os.environ.get("BIGQUERY_EMULATOR_PYTHON"):
        candidates.append(("$BIGQUERY_EMULATOR_PYTHON", os.environ["BIGQUERY_EMULATOR_PYTHON"]))
    version = ".".join(map(str, PYTHON_VERSION))
    if shutil.which(f"python{version}"):
        candidates.append((f"python{version} on PATH", shutil.which(f"python{version}")))
    pyenv_roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    if shutil.which("pyenv"):
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        if prefix.returncode == 0 and prefix.stdout.strip():
            candidates.append((f"pyenv prefix {version}", f"{prefix.stdout.strip()}/bin/python{version}"))
        pyenv_roots.insert(0, subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip())
    for root in filter(None, pyenv_roots):
        for install in sorted(Path(root).glob(f"versions/{version}*/bin/python{version}"), reverse=True):
            candidates.append((f"pyenv root {root}", str(install)))
    uv = _find_uv()
    if uv:
        found = subprocess.run(
            [uv, "python", "find", "--no-project", version], capture_output=True, text=True,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if found.returncode == 0 and found.stdout.strip():
            candidates.append((f"uv python find {version}", found.stdout.strip()))
    for _, executable in candidates:
        if _python_version(executable) == PYTHON_VERSION:
            return executable
    tried = "; ".join(f"{where}: {path}" for where, path in candidates) or "no candidate found"
    raise BigQueryEmulatorError(
        f"the BigQuery emulator (local-bigquery) needs Python {version}, and none works here (tried "
        f"$BIGQUERY_EMULATOR_PYTHON, python{version} on PATH, pyenv, uv python find; {tried}). Install it "
        f"(`pyenv install {version}`, `uv python install {version}` or your OS's python{version} package) "
        f"or set BIGQUERY_EMULATOR_PYTHON to its interpreter."
    )


def _python_version(executable: str) -> tuple[int, int] | None:
    try:
        result = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None  # e.g. a pyenv shim for a version that is installed but not selected
    major, minor = result.stdout.split()
    return int(major), int(minor)


def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _requirements_digest() -> str:
    pins = REQUIREMENTS.read_bytes() + repr(DUCKDB_EXTENSIONS).encode()
    return hashlib.sha256(pins).hexdigest()


def _installed_digest(venv: Path) -> str | None:
    try:
        installed = (venv / INSTALLED_MARKER).read_text().strip()
    except FileNotFoundError:
        return None
    return installed if (venv / "bin" / "local-bigquery").exists() else None


def _server_environment(venv: Path, gcs_root: Path | None) -> dict[str, str]:
    """A clean environment: local-bigquery reads settings such as DATA_DIR, GCS_LOCAL_ROOT or
    STORAGE_EMULATOR_HOST from variables, and none of the caller's should leak in."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        # DuckDB keeps extensions under ~/.duckdb; a home inside the venv keeps ours there, installed offline.
        "HOME": str(venv / "duckdb-home"),
    }
    if gcs_root is not None:
        environment["GCS_LOCAL_ROOT"] = str(gcs_root)
    return environment


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BigQueryEmulatorError(
            f"{' '.join(command)} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", nargs="?", choices=("serve", "install"), default="serve")
    parser.add_argument("--gcs-root", type=Path, help="the GCS emulator's --root (required to serve)")
    parser.add_argument("--project", default="local")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, help="where tables persist (default: bigquery beside --gcs-root)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args(argv)
    try:
        if args.action == "install":
            ensure_installed(args.venv)
            print(f"BigQuery emulator installed in {args.venv}")
            return 0
        if args.gcs_root is None:
            parser.error("serve needs --gcs-root")
        emulator = BigQueryEmulator(args.gcs_root, args.project, args.port, args.venv, data_dir=args.data_dir)
        emulator.start()
    except BigQueryEmulatorError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"# local-bigquery on {emulator.endpoint} (gRPC {emulator.grpc_address}), tables in {emulator.data_dir}")
    return emulator.serve_until_stopped()


if __name__ == "__main__":
    sys.exit(main())
