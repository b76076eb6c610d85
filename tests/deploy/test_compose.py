"""docker-compose.yaml ships no shared secret: each installation makes its own on first start, outside git.

No Docker engine runs here, so the generator (the airflow-secrets service's script) runs in a temporary folder
instead of its volume.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor")
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


def test_airflow_services_read_env_then_the_optional_env_local():
    for name in AIRFLOW_SERVICES:
        assert compose()["services"][name]["env_file"] == [
            {"path": ".env", "required": True},
            {"path": ".env.local", "required": False},
        ]


def test_gcp_settings_come_from_env_files_so_env_local_can_set_them():
    # A service's `environment` wins over its env files: a GCP setting there would hide the user's .env.local.
    from tests.deploy.terraform_files import locals_, map_keys

    from_terraform = {f"AIRFLOW_VAR_{name.upper()}" for name in map_keys(locals_()["airflow_variables"])}
    from_terraform.add("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT")
    for name in AIRFLOW_SERVICES:
        assert from_terraform & set(compose()["services"][name]["environment"]) == set(), name
