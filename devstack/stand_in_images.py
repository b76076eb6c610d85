"""Stand-ins for the images docker-compose.yaml names, built here where no image registry is reachable.

A Debian bookworm base made with debootstrap from Debian's packages, then one image per folder of devstack/images/,
tagged under the exact name the compose file (or a Dockerfile it builds) uses, so the compose file stays what users
run. Each is built once: the base is kept while its tag exists, the rest by BuildKit's cache. What each stand-in
does not do as the official image does: docs/testing.md, "Compose".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from devstack.container_engine import DockerEngine, EngineError, install_debian_packages

REPO = Path(__file__).resolve().parents[1]
IMAGES = Path(__file__).with_name("images")
BASE_IMAGE = "nyc-taxi-stand-in/debian:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Certificates this machine adds to Debian's (a proxy's, a company's): the base trusts them too, so pip in a build
# reaches PyPI as the host's does. pip's own bundle would not have them, hence the pip.conf and SSL_CERT_FILE.
LOCAL_CERTIFICATES = Path("/usr/local/share/ca-certificates")


@dataclass(frozen=True)
class StandIn:
    folder: str  # under devstack/images/
    tags: tuple[str, ...]  # the names the compose file and its Dockerfiles use
    # Files copied into the build context beside the folder's own: (source, name in the context).
    extra_files: tuple[tuple[Path, str], ...] = field(default=())


STAND_INS = (
    StandIn("airflow", ("apache/airflow:3.3.2-python3.11",), ((REPO / "requirements-airflow.txt", "requirements-airflow.txt"),)),
    # Debian bookworm ships PostgreSQL 15 only: the same image answers to both names.
    StandIn("postgres", ("postgres:15", "postgres:16")),
    StandIn("redis", ("redis:7.2-bookworm",)),
    StandIn("fake-gcs-server", ("fsouza/fake-gcs-server:1.54.0",)),
    # The base of devstack/bigquery-emulator.Dockerfile; its context gets this machine's Python 3.13 (below).
    StandIn("python", ("python:3.13.0-slim-bookworm",)),
)


def stand_in_tags() -> set[str]:
    return {tag for stand_in in STAND_INS for tag in stand_in.tags}


def ensure_base_image(engine: DockerEngine) -> bool:
    """BASE_IMAGE from debootstrap (minbase, ca-certificates), unless it exists; True if it was made now."""
    if engine.docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        return False
    if shutil.which("debootstrap") is None:
        install_debian_packages("debootstrap")
    print(f"==> making {BASE_IMAGE} with debootstrap from {DEBIAN_MIRROR}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="nyc-taxi-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        subprocess.run(["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", str(rootfs),
                        DEBIAN_MIRROR], check=True, stdout=subprocess.DEVNULL)
        local = sorted(LOCAL_CERTIFICATES.glob("*.crt"))
        if local:
            for certificate in local:
                shutil.copy(certificate, rootfs / "usr/local/share/ca-certificates" / certificate.name)
            subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, stdout=subprocess.DEVNULL)
        (rootfs / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
        # What an image need not carry: the package lists and downloaded packages.
        for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for path in (rootfs / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        engine_import = subprocess.run(
            ["docker", "import", "--change", "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
             "--change", 'CMD ["bash"]', "-", BASE_IMAGE],
            stdin=tar.stdout, env=engine.environment, capture_output=True, text=True)
        tar.stdout.close()
        if tar.wait() != 0 or engine_import.returncode != 0:
            raise EngineError(f"could not import {BASE_IMAGE}: {engine_import.stderr.strip()}")
    return True


def prepare_contexts(contexts: Path, python_prefix: Path | None = None) -> dict[str, Path]:
    """Each stand-in's build context: its folder, its extra files, and for `python` the interpreter."""
    prepared = {}
    for stand_in in STAND_INS:
        context = contexts / stand_in.folder
        shutil.copytree(IMAGES / stand_in.folder, context, dirs_exist_ok=True)
        for source, name in stand_in.extra_files:
            shutil.copy2(source, context / name)
        prepared[stand_in.folder] = context
    copy_python(python_prefix or python_313_prefix(), contexts / "python" / "python")
    return prepared


def python_313_prefix() -> Path:
    """The prefix of the Python 3.13 devstack's BigQuery emulator runs on."""
    from devstack.bigquery_emulator import find_python

    executable = find_python()
    prefix = subprocess.run([executable, "-c", "import sys; print(sys.base_prefix)"], capture_output=True,
                            text=True, check=True).stdout.strip()
    return Path(prefix)


def copy_python(prefix: Path, destination: Path) -> None:
    """The interpreter and its standard library, as a slim image has them: pip the only package, no tests, no
    bytecode. Copied again only when the prefix changed (the build context is checked by content)."""
    stamp = destination / ".copied-from"
    if stamp.exists() and stamp.read_text() == str(prefix):
        return
    shutil.rmtree(destination, ignore_errors=True)
    site_packages = "lib/python3.13/site-packages"

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = os.path.relpath(folder, prefix)
        skipped = {name for name in names if name == "__pycache__"}
        if relative == "lib/python3.13":
            skipped |= {"test", "idlelib", "turtledemo"} & set(names)
        if relative == site_packages:
            skipped |= {name for name in names if not name.startswith("pip")}
        return skipped

    shutil.copytree(prefix, destination, ignore=ignore, symlinks=True)
    stamp.write_text(str(prefix))


def stand_ins_compose_file(contexts: dict[str, Path]) -> dict:
    """A compose file that builds every stand-in (one service a tag), so they build with the same Compose and
    BuildKit as docker-compose.yaml, in parallel."""
    services = {}
    for stand_in in STAND_INS:
        for tag in stand_in.tags:
            name = tag.replace("/", "-").replace(":", "-").replace(".", "-")
            services[name] = {"build": {"context": str(contexts[stand_in.folder])}, "image": tag}
    return {"name": "nyc-taxi-stand-ins", "services": services}


def build_stand_ins(engine: DockerEngine, state_dir: Path) -> Path:
    """Build (or find in BuildKit's cache) every stand-in; returns the compose file that built them."""
    ensure_base_image(engine)
    contexts = prepare_contexts(state_dir / "contexts")
    compose_file = state_dir / "stand-ins.yaml"
    compose_file.write_text(yaml.safe_dump(stand_ins_compose_file(contexts), sort_keys=False))
    print(f"==> building the stand-in images ({', '.join(sorted(stand_in_tags()))})", file=sys.stderr)
    engine.docker("compose", "--progress", "plain", "-f", str(compose_file), "build", capture=False)
    return compose_file


def image_sizes(engine: DockerEngine, tags: list[str]) -> dict[str, int]:
    """Bytes of each image as `docker image ls` counts them (its layers, shared ones included)."""
    sizes = {}
    for tag in tags:
        result = engine.docker("image", "inspect", tag, "--format", "{{.Size}}", check=False)
        if result.returncode == 0:
            sizes[tag] = int(result.stdout.strip())
    return sizes
