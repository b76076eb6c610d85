"""docker-compose.yaml: no shared secret (each installation makes its own on first start, outside git); the
profiles celery and emulators wired to their services; every image pinned, every variable given, every mounted
path present.

No Docker engine runs here, so these read the file and run its scripts outside containers: the secrets generator
in a temporary folder instead of its volume, the entrypoint with a stand-in for the network's name lookup.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-triggerer")
SECRET_OPTIONS = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY")
SECRETS_DIR = "/opt/airflow/secrets"


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def run_generator(folder: Path):
    script = compose()["services"]["airflow-secrets"]["command"][0]
    # Outside a container: the folder stands in for the volume, and this user already owns what it writes.
    script = script.replace(SECRETS_DIR, str(folder)).replace("os.chown(path, 50000, 0)", "pass")
    exec(compile(script, "airflow-secrets", "exec"), {})


def test_airflow_reads_its_secrets_from_files_and_has_no_default_for_them():
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        environment = services[name]["environment"]
        for option in SECRET_OPTIONS:
            assert option not in environment, f"{name} sets {option} itself"
            assert environment[f"{option}_CMD"].startswith(f"cat {SECRETS_DIR}/"), name
        assert f"airflow-secrets:{SECRETS_DIR}:ro" in services[name]["volumes"]
        assert services[name]["depends_on"]["airflow-secrets"]["condition"] == "service_completed_successfully"
    assert not re.search(r"JWT_SECRET:-|FERNET_KEY:-|SECRET_KEY:-", (REPO / "docker-compose.yaml").read_text())


def test_the_secrets_live_in_a_volume_not_in_the_work_tree():
    service = compose()["services"]["airflow-secrets"]
    assert service["volumes"] == [f"airflow-secrets:{SECRETS_DIR}"]
    assert "airflow-secrets" in compose()["volumes"]


def test_first_start_makes_each_secret_once_readable_by_its_owner_only(tmp_path):
    run_generator(tmp_path)
    made = {path.name: path.read_text() for path in tmp_path.iterdir()}
    assert set(made) == {"jwt_secret", "fernet_key", "api_secret_key"}
    Fernet(made["fernet_key"])  # a valid key, or Airflow could not encrypt connections
    assert len(made["jwt_secret"]) >= 32 and made["jwt_secret"] != made["api_secret_key"]
    assert all(stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o400 for name in made)

    run_generator(tmp_path)  # a restart keeps them: tokens and encrypted connections stay valid
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == made


def test_two_installations_get_different_secrets(tmp_path):
    for installation in ("a", "b"):
        (tmp_path / installation).mkdir()
        run_generator(tmp_path / installation)
    assert (tmp_path / "a" / "jwt_secret").read_text() != (tmp_path / "b" / "jwt_secret").read_text()


def test_airflow_services_read_env_then_composes_defaults_then_the_optional_env_local():
    for name in AIRFLOW_SERVICES:
        assert compose()["services"][name]["env_file"] == [
            {"path": ".env", "required": True},
            {"path": "deploy/compose/airflow.env", "required": True},  # compose's defaults, under .env.local
            {"path": ".env.local", "required": False},
        ]


def test_gcp_settings_come_from_env_files_so_env_local_can_set_them():
    # A service's `environment` wins over its env files: a GCP setting there would hide the user's .env.local.
    from tests.deploy.terraform_files import locals_, map_keys

    from_terraform = {f"AIRFLOW_VAR_{name.upper()}" for name in map_keys(locals_()["airflow_variables"])}
    from_terraform.add("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT")
    for name in AIRFLOW_SERVICES:
        assert from_terraform & set(compose()["services"][name]["environment"]) == set(), name


# Profiles

DEFAULT_SERVICES = {"airflow-secrets", "airflow-db", "ny-taxi-db", "airflow-init", "airflow-apiserver",
                    "airflow-scheduler", "airflow-dag-processor"}
PROFILES = {"celery": {"redis", "airflow-worker", "airflow-triggerer"},
            "emulators": {"gcs-emulator", "gcs-bucket", "bigquery-emulator"}}
ENTRYPOINT = REPO / "deploy" / "compose" / "with-profiles.sh"


def services_by_profile() -> dict[str | None, set[str]]:
    by_profile: dict[str | None, set[str]] = {}
    for name, service in compose()["services"].items():
        for profile in service.get("profiles", [None]):
            by_profile.setdefault(profile, set()).add(name)
    return by_profile


def test_without_a_profile_compose_runs_what_it_ran_before_on_the_local_executor():
    assert services_by_profile()[None] == DEFAULT_SERVICES
    assert compose()["services"]["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_each_profile_adds_its_services():
    assert {profile: names for profile, names in services_by_profile().items() if profile} == PROFILES


def test_workers_scale_they_have_no_fixed_name_or_port():
    worker = compose()["services"]["airflow-worker"]
    assert worker["command"] == "celery worker"
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker


def test_the_celery_settings_name_the_redis_service_and_the_metadata_database():
    environment = compose()["services"]["airflow-scheduler"]["environment"]
    assert re.fullmatch(r"redis://redis:6379/0", environment["AIRFLOW__CELERY__BROKER_URL"])
    assert environment["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + environment[
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", "")


def test_every_dependency_exists_and_waits_for_what_its_condition_needs():
    services = compose()["services"]
    for name, service in services.items():
        profiles = set(service.get("profiles", []))
        for needed, dependency in service.get("depends_on", {}).items():
            assert needed in services, f"{name} depends on {needed}, which is no service"
            if dependency["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{name} waits for {needed} to be healthy: no health check"
            if dependency["condition"] == "service_completed_successfully":
                assert services[needed].get("restart") == "no", f"{name} waits for {needed} to finish: it restarts"
            # A service of another profile may be absent: compose then starts this one without it.
            their_profiles = set(services[needed].get("profiles", []))
            if their_profiles and not their_profiles & profiles:
                assert dependency.get("required") is False, f"{name} requires {needed} of profile {their_profiles}"


def test_every_long_running_profile_service_has_a_health_check():
    services = compose()["services"]
    for name in set().union(*PROFILES.values()) - {"gcs-bucket"}:
        test = services[name]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    assert "inspect ping" in services["airflow-worker"]["healthcheck"]["test"][1]


def run_entrypoint(tmp_path, resolvable: set[str]) -> dict[str, str]:
    """Run with-profiles.sh as the Airflow services do, with `env` as the image's entrypoint, on a network where only
    the `resolvable` services exist (a stand-in for getent)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    getent = bin_dir / "getent"
    getent.write_text(f"#!/bin/sh\ncase \" {' '.join(sorted(resolvable))} \" in *\" $2 \"*) echo 10.0.0.2 $2;; "
                      f"*) exit 2;; esac\n")
    getent.chmod(0o755)
    clean = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    result = subprocess.run([str(ENTRYPOINT), "env", "-0"], env=clean, capture_output=True, text=True, check=True)
    shells_own = {"PWD", "SHLVL", "_"}
    return {name: value for name, value in (line.split("=", 1) for line in result.stdout.split("\0") if line)
            if name not in shells_own}


def test_the_entrypoint_runs_the_image_entrypoint_as_the_official_image_does():
    assert compose()["x-airflow-common"]["entrypoint"] == [
        "/opt/airflow/compose/with-profiles.sh", "/usr/bin/dumb-init", "--", "/entrypoint"]
    assert "./deploy/compose:/opt/airflow/compose:ro" in compose()["x-airflow-common"]["volumes"]
    assert os.access(ENTRYPOINT, os.X_OK)


def test_without_a_profile_the_entrypoint_changes_nothing(tmp_path):
    assert run_entrypoint(tmp_path, resolvable=set()) == {"PATH": f"{tmp_path}/bin:/usr/bin:/bin"}


def test_with_the_celery_profile_the_scheduler_uses_the_celery_executor(tmp_path):
    assert run_entrypoint(tmp_path, {"redis"})["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_with_the_emulators_profile_the_dags_reach_the_emulators_by_their_service_names(tmp_path):
    from devstack.bigquery_emulator import BigQueryEmulator
    from devstack.gcs_emulator import GcsEmulator
    from devstack.local_env import GCP_PROJECT, LOCAL_BUCKET

    environment = run_entrypoint(tmp_path, {"gcs-emulator"})
    services = compose()["services"]
    gcs_port = services["gcs-emulator"]["command"][services["gcs-emulator"]["command"].index("-port") + 1]
    bigquery_port = re.search(r'"--port", "(\d+)"', (REPO / "devstack" / "bigquery-emulator.Dockerfile").read_text())[1]
    # What devstack gives the DAGs for its emulators, with the services' names and ports for 127.0.0.1's.
    devstack = {
        **GcsEmulator(tmp_path, int(gcs_port), project=GCP_PROJECT).environment(),
        **BigQueryEmulator(tmp_path, GCP_PROJECT, int(bigquery_port)).environment(),
    }
    devstack["STORAGE_EMULATOR_HOST"] = devstack["STORAGE_EMULATOR_HOST"].replace("127.0.0.1", "gcs-emulator")
    devstack["BIGQUERY_EMULATOR_HOST"] = devstack["BIGQUERY_EMULATOR_HOST"].replace("127.0.0.1", "bigquery-emulator")
    assert {name: environment.get(name) for name in devstack} == devstack
    # Staging, and the lake, in the bucket the gcs-bucket service makes.
    assert f'"name": "{LOCAL_BUCKET}"' in services["gcs-bucket"]["command"][0]
    assert environment["AIRFLOW_VAR_NYC_TAXI_GCS_BUCKET"] == LOCAL_BUCKET
    assert environment["AIRFLOW_VAR_NYC_TAXI_STAGING_URL"] == f"gs://{LOCAL_BUCKET}/_staging"
    assert f"http://gcs-emulator:{gcs_port}" in services["gcs-emulator"]["command"]  # -external-url


def test_the_bigquery_emulator_reads_the_gcs_emulators_objects():
    services = compose()["services"]
    (storage,) = [volume for volume in services["gcs-emulator"]["volumes"] if volume.endswith(":/storage")]
    assert f"{storage.split(':')[0]}:/gcs:ro" in services["bigquery-emulator"]["volumes"]
    dockerfile = (REPO / "devstack" / "bigquery-emulator.Dockerfile").read_text()
    assert "GCS_LOCAL_ROOT=/gcs" in dockerfile
    assert '"-filesystem-root", "/storage"' in (REPO / "docker-compose.yaml").read_text()


# Images, variables and paths

def image_version(image: str) -> str:
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else ""


def test_every_image_is_pinned_to_a_version():
    for name, service in compose()["services"].items():
        tag = image_version(service["image"])
        assert re.match(r"\d+(\.\d+)*(-[\w.]+)?$", tag), f"{name} runs {service['image']}: no version tag"
    for dockerfile in (REPO / "Dockerfile", REPO / "devstack" / "bigquery-emulator.Dockerfile"):
        for base in re.findall(r"^FROM (\S+)", dockerfile.read_text(), re.M):
            assert re.match(r"\d+\.\d+\.\d+", image_version(base)), f"{dockerfile.name}: FROM {base}"


def test_the_gcs_emulator_is_the_fake_gcs_server_release_devstack_runs():
    from devstack.gcs_emulator import fake_gcs_server_binary

    release = re.search(rb"mod\tgithub.com/fsouza/fake-gcs-server\tv(\d+\.\d+\.\d+)",
                        fake_gcs_server_binary().read_bytes())[1].decode()
    assert compose()["services"]["gcs-emulator"]["image"] == f"fsouza/fake-gcs-server:{release}"


def test_the_bigquery_emulator_image_is_built_by_devstacks_installer_from_its_pinned_requirements():
    service = compose()["services"]["bigquery-emulator"]
    assert service["build"] == {"context": "./devstack", "dockerfile": "bigquery-emulator.Dockerfile"}
    local_bigquery = re.search(r"^local-bigquery==(\S+)", (REPO / "devstack" / "requirements-bigquery.txt").read_text(),
                               re.M)[1]
    assert image_version(service["image"]) == local_bigquery
    dockerfile = (REPO / "devstack" / "bigquery-emulator.Dockerfile").read_text()
    assert "python -m devstack.bigquery_emulator install" in dockerfile
    copied = set(re.search(r"^COPY (.+) /opt/devstack/devstack/$", dockerfile, re.M)[1].split())
    needed = {"__init__.py", "requirements-bigquery.txt", *(f"{module}.py" for module in devstack_modules_imported(
        "bigquery_emulator"))}
    assert needed <= copied


def devstack_modules_imported(module: str, seen: set[str] | None = None) -> set[str]:
    """`module` and every devstack module it imports, directly or not."""
    import ast

    seen = set() if seen is None else seen
    seen.add(module)
    tree = ast.parse((REPO / "devstack" / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("devstack."):
            imported = node.module.removeprefix("devstack.")
            if imported not in seen:
                devstack_modules_imported(imported, seen)
    return seen


def test_every_variable_the_file_interpolates_has_a_value():
    text = (REPO / "docker-compose.yaml").read_text()
    defined = set(compose_env_file_names())
    for name, default in re.findall(r"(?<!\$)\$\{(\w+)(:?-[^}]*)?\}", text):
        assert default or name in defined, f"${{{name}}} has no default and .env does not set it"
    assert "$" not in re.sub(r"\$\$\{?\w+\}?|\$\{\w+:?-[^}]*\}", "", text), "a bare $VARIABLE"


def compose_env_file_names() -> list[str]:
    from devstack.local_env import read_env_file

    return list(read_env_file(REPO / ".env"))


def test_every_file_it_mounts_builds_or_reads_exists():
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repo"
            else:
                assert source in compose()["volumes"], f"{name} mounts the undeclared volume {source}"
        build = service.get("build")
        if build:
            context = REPO / (build if isinstance(build, str) else build["context"])
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (context / dockerfile).is_file(), f"{name} builds from {context / dockerfile}"
        for env_file in service.get("env_file", []):
            if env_file["required"]:
                assert (REPO / env_file["path"]).is_file(), f"{name} needs {env_file['path']}"
    assert (REPO / "deploy" / "compose" / "emulators.env").is_file()


def test_the_build_context_holds_what_the_dockerfile_copies_and_leaves_out_local_state():
    """`.dockerignore` lists what the image's build may read: every COPY source, and not `.venv` or `.local`."""
    rules = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert rules[0] == "*", "the build context starts empty and names what it needs"
    copied = {source for sources in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", (REPO / "Dockerfile").read_text(), re.M)
              for source in sources.split()}
    assert copied == allowed, f"COPY sources {sorted(copied)}, .dockerignore lets in {sorted(allowed)}"
    assert not allowed & {".venv", ".local", ".env.local"}
