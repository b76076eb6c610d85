"""terraform/ grants the DAGs what they touch and no more, creates no key, and provides every Variable they read.

The google provider cannot be had here (no Terraform registry), so there is no `terraform validate` or `plan`:
these tests read the configuration (python-hcl2) instead. `terraform fmt` needs no provider and runs where a
terraform binary is on PATH; deploy/check-terraform adds checkov's policies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.deploy.helm_values import values
from tests.deploy.terraform_files import (
    REPO,
    data_sources,
    locals_,
    map_keys,
    outputs,
    resources,
    resources_of,
    strings,
    text,
    variables,
)
from tests.deploy.variables_read import airflow_variables_read

PRIMITIVE_ROLE = re.compile(r"roles/(owner|editor|viewer)\b")
# The only roles granted on the whole project, each because nothing narrower exists.
PROJECT_ROLES = {
    # Query and load jobs belong to a project; what a job may touch is still limited by the dataset binding.
    "roles/bigquery.jobUser": "google_service_account.dags",
    # Composer requires it on the project for its environment's account, which has no data role of its own
    # (the tasks impersonate the DAGs' account).
    "roles/composer.worker": "google_service_account.composer",
}


def iam_grants():
    return [(kind, name, body) for kind, name, body in resources() if "_iam_" in kind]


def test_no_primitive_role_anywhere():
    found = [value for _, _, body in resources() for value in strings(body) if PRIMITIVE_ROLE.search(value)]
    assert found == []


def test_grants_add_members_and_never_replace_a_policy():
    # *_iam_binding and *_iam_policy are authoritative: they would strip the role from everyone else.
    assert [f"{kind}.{name}" for kind, name, _ in iam_grants() if not kind.endswith("_iam_member")] == []


def test_every_grant_is_on_the_bucket_the_dataset_or_an_account_or_repository_made_here():
    too_wide = []
    for kind, name, body in iam_grants():
        role, member = text(body["role"]), text(body["member"])
        if kind == "google_storage_bucket_iam_member":
            in_scope = body["bucket"] == "${google_storage_bucket.lake.name}"
        elif kind == "google_bigquery_dataset_iam_member":
            in_scope = body["dataset_id"] == "${google_bigquery_dataset.ny_taxi.dataset_id}"
        elif kind == "google_service_account_iam_member":
            in_scope = body["service_account_id"].startswith("${google_service_account.")
        elif kind == "google_artifact_registry_repository_iam_member":
            in_scope = body["repository"].startswith("${google_artifact_registry_repository.")
        elif kind == "google_project_iam_member":
            in_scope = role in PROJECT_ROLES and member.startswith("${" + PROJECT_ROLES[role])
        else:  # a folder, the organisation, or a resource this test does not know the scope of
            in_scope = False
        if not in_scope:
            too_wide.append(f"{kind}.{name}: {role} for {member}")
    assert too_wide == []


def test_the_dags_account_gets_objects_in_the_bucket_tables_in_the_dataset_and_jobs():
    granted = {
        (kind, text(body["role"]))
        for kind, _, body in iam_grants()
        if text(body["member"]) == "${google_service_account.dags.member}"
    }
    assert granted == {
        ("google_storage_bucket_iam_member", "roles/storage.objectAdmin"),
        ("google_bigquery_dataset_iam_member", "roles/bigquery.dataEditor"),
        ("google_project_iam_member", "roles/bigquery.jobUser"),
    }


def test_no_service_account_key_is_created_or_read():
    kinds = {kind for kind, _, _ in resources()} | {kind for kind, _, _ in data_sources()}
    assert "google_service_account_key" not in kinds
    assert not any("google_service_account_key" in path.read_text() for path in (REPO / "terraform").glob("*.tf"))


def test_buckets_have_uniform_access_and_enforced_public_access_prevention():
    buckets = resources_of("google_storage_bucket")
    assert buckets
    for name, bucket in buckets.items():
        assert bucket.get("uniform_bucket_level_access") is True, name
        assert text(bucket.get("public_access_prevention")) == "enforced", name


def test_staged_objects_are_deleted_after_a_day_or_two():
    rules = resources_of("google_storage_bucket")["lake"]["lifecycle_rule"]
    deleting = [rule["condition"][0] for rule in rules if text(rule["action"][0]["type"]) == "Delete"]
    prefixes = {text(prefix) for condition in deleting for prefix in condition["matches_prefix"]}
    # The tasks' staging and the publish staging of gcs.py (<prefix>/_staging/).
    assert prefixes == {"_staging/", "${var.gcs_prefix}/_staging/"}
    assert deleting[0]["age"] == "${var.staging_retention_days}"
    assert variables()["staging_retention_days"]["default"] in (1, 2)


def test_tasks_stage_in_the_lake_buckets_swept_folder_which_every_worker_reaches():
    staging_url = text(locals_()["airflow_variables"]["nyc_taxi_staging_url"])
    assert staging_url == "gs://${google_storage_bucket.lake.name}/_staging"


def test_the_google_provider_is_pinned_to_one_major_version():
    (terraform,) = [block for path, document in _documents_with("terraform") for block in document]
    google = terraform["required_providers"][0]["google"]
    assert text(google["source"]) == "hashicorp/google"
    assert re.fullmatch(r"~> \d+\.\d+(\.\d+)?|= ?\d+\.\d+\.\d+", text(google["version"]))


def _documents_with(kind):
    from tests.deploy.terraform_files import documents

    return [(path, document[kind]) for path, document in documents().items() if kind in document]


def test_every_variable_says_what_it_is():
    undocumented = [name for name, body in variables().items() if not text(body.get("description", "")) or "type" not in body]
    assert undocumented == []


def test_the_dataset_location_is_a_variable():
    assert resources_of("google_bigquery_dataset")["ny_taxi"]["location"] == "${var.data_location}"


def test_composer_runs_airflow_3_on_composer_3():
    default = text(variables()["composer_image_version"]["default"])
    assert re.fullmatch(r"composer-3-airflow-3\.\d+\.\d+-build\.\d+", default)


def test_composer_installs_the_pipeline_packages_from_requirements_airflow_in():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements-airflow.in").read_text().splitlines()]
    requirements = [line for line in lines if line]
    # composer.tf splits each line into name and the rest with this pattern; a line it cannot split (an option
    # such as -r, a URL) would reach Composer as a broken package.
    unsplittable = [line for line in requirements if not re.fullmatch(r"[A-Za-z0-9._-]+(\[[\w,-]+\])?\s*([<>=!~].*)?", line)]
    assert unsplittable == []
    assert "requirements-airflow.in" in locals_()["requirement_lines"]
    assert "composer_pypi_packages" in resources_of("google_composer_environment")["nyc_taxi"]["config"][0][
        "software_config"][0]["pypi_packages"]


def composer_environment() -> set[str]:
    """The environment variables the Composer environment sets."""
    software = resources_of("google_composer_environment")["nyc_taxi"]["config"][0]["software_config"][0]
    env_variables = software["env_variables"]
    assert 'for name, value in local.airflow_variables : "AIRFLOW_VAR_${upper(name)}" => value' in env_variables
    variables_ = map_keys(locals_()["airflow_variables"])
    literal = {key for key in map_keys(env_variables) if key.isupper()}
    return {f"AIRFLOW_VAR_{name.upper()}" for name in variables_} | literal


def helm_environment() -> set[str]:
    """The environment variables the Helm chart's containers get: Terraform's airflow_env as a secret, and `env`."""
    assert 'for name, value in local.airflow_variables : "AIRFLOW_VAR_${upper(name)}=${value}"' in outputs()[
        "airflow_env"]["value"]
    assert "nyc-taxi-airflow-env" in values()["extraEnvFrom"]
    from_terraform = {f"AIRFLOW_VAR_{name.upper()}" for name in map_keys(locals_()["airflow_variables"])}
    return from_terraform | {variable["name"] for variable in values()["env"]}


@pytest.mark.parametrize("where, environment", [("Composer", composer_environment), ("the Helm chart", helm_environment)])
def test_every_variable_the_dags_read_is_provided(where, environment):
    read = {f"AIRFLOW_VAR_{name.upper()}" for name in airflow_variables_read()}
    assert read, "no Variable read: the recorder missed settings.py's reader"
    assert read - environment() == set(), f"{where} leaves these to their local defaults"


def test_the_connection_has_no_key_only_the_workloads_identity():
    connection_strings = [value for value in strings(outputs()) if "google_cloud_platform" in value]
    connection_strings += [value for _, _, body in resources() for value in strings(body) if "google_cloud_platform" in value]
    assert connection_strings
    assert not any(word in value for value in connection_strings for word in ("key_path", "keyfile_dict", "key_secret"))


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")
def test_terraform_files_are_formatted():
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", "terraform"], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
