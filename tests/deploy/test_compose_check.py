"""`./dev compose-check`: docker-compose.yaml really run, and what the check relies on.

The whole check (26 minutes on 2 busy cores; docs/testing.md, "Compose") runs only where a Docker engine answers,
so `./dev test` on a machine without one skips it and stays within its budget; `./dev compose-check` starts the
engine, and stops it again, itself. The rest reads the files and the check's plain functions.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devstack import compose_check
from devstack.compose_check import not_ready, override_file, service_states
from devstack.container_engine import DAEMON_CONFIG, compose_version
from devstack.stand_in_images import IMAGES, STAND_INS, stand_in_tags, stand_ins_compose_file

REPO = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def dockerfiles_built_by_compose() -> list[Path]:
    files = []
    for service in compose()["services"].values():
        build = service.get("build")
        if build:
            context = REPO / (build if isinstance(build, str) else build.get("context", "."))
            files.append(context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"))
    return sorted(set(files))


def test_every_image_compose_pulls_or_builds_from_has_a_stand_in():
    pulled = {service["image"] for service in compose()["services"].values() if "build" not in service}
    bases = {match for path in dockerfiles_built_by_compose()
             for match in re.findall(r"^FROM\s+(\S+)", path.read_text(), flags=re.MULTILINE)}
    assert pulled | bases <= stand_in_tags(), sorted((pulled | bases) - stand_in_tags())


def test_each_stand_in_has_its_folder_and_builds_from_the_debootstrap_base():
    for stand_in in STAND_INS:
        dockerfile = (IMAGES / stand_in.folder / "Dockerfile").read_text()
        assert re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)[0] == "nyc-taxi-stand-in/debian:bookworm"
        for source, _ in stand_in.extra_files:
            assert source.exists(), source


def test_the_stand_ins_compose_file_builds_one_service_per_tag(tmp_path):
    contexts = {stand_in.folder: tmp_path / stand_in.folder for stand_in in STAND_INS}
    services = stand_ins_compose_file(contexts)["services"]
    assert sorted(service["image"] for service in services.values()) == sorted(stand_in_tags())


def test_the_airflow_stand_in_runs_as_the_official_images_airflow_user():
    dockerfile = (IMAGES / "airflow" / "Dockerfile").read_text()
    assert "ARG AIRFLOW_UID=50000" in dockerfile and "--gid 0" in dockerfile
    assert re.search(r"^USER airflow$", dockerfile, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]' in dockerfile


def test_the_airflow_stand_ins_entrypoint_runs_python_and_airflow_subcommands(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("airflow", "python"):
        fake = bin_dir / name
        fake.write_text(f"#!/bin/sh\necho {name} \"$@\"\n")
        fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CONNECTION_CHECK_MAX_COUNT": "0"}

    def entrypoint(*args: str) -> str:
        return subprocess.run(["bash", str(IMAGES / "airflow" / "entrypoint.sh"), *args], env=env,
                              capture_output=True, text=True, check=True).stdout.strip()

    assert entrypoint("python", "-c", "x") == "python -c x"
    assert entrypoint("api-server") == "airflow api-server"
    assert entrypoint("airflow", "celery", "worker") == "airflow celery worker"


def test_the_engine_configuration_holds_what_this_machine_needs_not_the_compose_file():
    assert DAEMON_CONFIG["default-runtime"] == "runc"
    assert "native.cgroupdriver=cgroupfs" in DAEMON_CONFIG["exec-opts"]
    assert "default-ulimits" not in DAEMON_CONFIG
    text = (REPO / "docker-compose.yaml").read_text()
    assert "ulimits" not in text and "runtime:" not in text


def test_compose_versions_are_read_from_what_compose_prints():
    assert compose_version("Docker Compose version v2.40.3") == (2, 40, 3)
    assert compose_version("docker-compose version 1.29.2, build unknown") == (1, 29, 2)
    assert compose_version("nothing") is None


def test_the_override_reaches_every_airflow_service_and_only_them():
    override = override_file("http://172.17.0.1:8000")["services"]
    # The services that run Airflow: those with the common entrypoint (the one-shot scripts have their own).
    common = compose()["x-airflow-common"]["entrypoint"]
    airflow_services = {name for name, service in compose()["services"].items() if service.get("entrypoint") == common}
    assert set(override) == airflow_services
    for service in override.values():
        assert service["environment"]["AIRFLOW_VAR_NYC_TAXI_SOURCE_BASE_URL"] == "http://172.17.0.1:8000"


def test_a_stack_is_ready_when_services_are_healthy_or_running_and_one_shots_exited_0():
    rows = [
        {"Service": "airflow-db", "Name": "p-airflow-db-1", "State": "running", "Health": "healthy"},
        {"Service": "airflow-secrets", "Name": "p-airflow-secrets-1", "State": "exited", "ExitCode": 0},
        {"Service": "airflow-scheduler", "Name": "p-airflow-scheduler-1", "State": "running", "Health": "starting",
         "Status": "Up 3 seconds (health: starting)"},
    ]
    services = service_states("\n".join(json.dumps(row) for row in rows))
    assert services == service_states(json.dumps(rows))  # older Compose prints one list
    assert not_ready(services) == {"p-airflow-scheduler-1": "Up 3 seconds (health: starting)"}
    rows[2]["Health"] = "healthy"
    assert not_ready(service_states(json.dumps(rows))) == {}


def engine_answers() -> str | None:
    """Why the whole check cannot run here, or None when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "no docker CLI"
    result = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    return None if result.returncode == 0 else f"no Docker engine answers ({result.stderr.strip()[:200]})"


@pytest.mark.slow
def test_compose_up_runs_every_profile_as_a_user_would():
    if compose_check.running_elsewhere():
        pytest.skip("a compose check is running already (`./dev compose-check`): two would share one project")
    reason = engine_answers()
    if reason:
        pytest.skip(f"{reason}: `./dev compose-check` starts one and runs this check (26 minutes on 2 busy cores)")
    assert compose_check.main(["--stages", ",".join(compose_check.STAGES)]) == 0
