"""deploy/helm/values.yaml runs the project's image on the KubernetesExecutor, with every secret from Kubernetes.

Which keys the official chart defines is not checked here: its values.schema.json is not in any package registry
this machine reaches. These tests hold the values to the project: the image, the identities Terraform binds, staging
through the bucket, and no secret in the file.
"""

from __future__ import annotations

import re

import yaml

from tests.deploy.helm_values import VALUES, values
from tests.deploy.terraform_files import REPO, resources_of, text, variables

SECRET_VALUE_KEYS = {"fernetKey", "jwtSecret", "apiSecretKey", "webserverSecretKey", "password", "connection"}


def pinned_airflow() -> str:
    return re.search(r"^apache-airflow==(\S+)", (REPO / "requirements.txt").read_text(), re.M).group(1)


def all_keys(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}".lstrip("."), key
            yield from all_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item, path)


def test_the_kubernetes_executor_runs_the_project_image():
    assert values()["executor"] == "KubernetesExecutor"
    assert values()["airflowVersion"] == pinned_airflow()
    image = values()["images"]["airflow"]
    assert image["repository"] == values()["defaultAirflowRepository"]
    assert image["repository"].endswith("/nyc-taxi/nyc-taxi-airflow")  # terraform/gke.tf's repository
    assert image["tag"] == values()["defaultAirflowTag"]
    # The DAGs are in the image (Dockerfile), so nothing else brings them.
    assert values()["dags"]["gitSync"]["enabled"] is False and values()["dags"]["persistence"]["enabled"] is False


def test_no_secret_is_written_in_the_values():
    assert [path for path, key in all_keys(values()) if key in SECRET_VALUE_KEYS] == []
    for key in ("fernetKeySecretName", "jwtSecretName", "apiSecretKeySecretName"):
        assert values()[key].startswith("nyc-taxi-")
    assert values()["data"]["metadataSecretName"]
    # The chart's bundled database and create-user job come with fixed passwords.
    assert values()["postgresql"]["enabled"] is False
    assert values()["createUserJob"]["enabled"] is False


def test_connections_and_variables_come_from_kubernetes_secrets():
    sources = yaml.safe_load(values()["extraEnvFrom"])
    assert [source["secretRef"]["name"] for source in sources] == ["nyc-taxi-airflow-env", "nyc-taxi-connections"]
    assert not [variable for variable in values()["env"] if variable["name"].startswith("AIRFLOW_CONN_")]


def test_task_pods_stage_in_the_lake_bucket_through_the_variable_terraforms_secret_sets():
    from tests.deploy.terraform_files import locals_

    # One owner: Terraform's airflow_env, the secret nyc-taxi-airflow-env every container and task pod reads.
    staging_url = text(locals_()["airflow_variables"]["nyc_taxi_staging_url"])
    assert re.fullmatch(r"gs://\$\{google_storage_bucket\.lake\.name\}/_staging", staging_url)
    assert yaml.safe_load(values()["extraEnvFrom"])[0]["secretRef"]["name"] == "nyc-taxi-airflow-env"
    assert "optional" not in yaml.safe_load(values()["extraEnvFrom"])[0]
    assert not [variable for variable in values()["env"] if variable["name"].startswith("AIRFLOW_VAR_NYC_TAXI_STAGING")]
    # No shared disk, so no volume: the pods reach the bucket with their Workload Identity.
    workers = values()["workers"]
    assert not workers.get("extraVolumes") and not workers.get("extraVolumeMounts")
    assert "gke-gcsfuse/volumes" not in workers.get("podAnnotations", {})


def test_pods_act_as_the_accounts_terraform_binds_through_workload_identity():
    worker = values()["workers"]["kubernetes"]["serviceAccount"]
    api_server = values()["apiServer"]["serviceAccount"]
    assert worker["name"] == text(variables()["gke_worker_service_account"]["default"])
    assert api_server["name"] == text(variables()["gke_api_server_service_account"]["default"])
    accounts = {name: text(body["account_id"]) for name, body in resources_of("google_service_account").items()}
    assert worker["annotations"]["iam.gke.io/gcp-service-account"] == f"{accounts['dags']}@PROJECT.iam.gserviceaccount.com"
    assert api_server["annotations"]["iam.gke.io/gcp-service-account"] == f"{accounts['logs']}@PROJECT.iam.gserviceaccount.com"


def test_task_logs_go_to_the_folder_the_api_server_may_read():
    logging = values()["config"]["logging"]
    assert logging["remote_logging"] == "True"
    assert logging["remote_base_log_folder"] == "gs://PROJECT-nyc-taxi-lake/_airflow_logs"
    condition = resources_of("google_storage_bucket_iam_member")["logs_read"]["condition"][0]["expression"]
    assert "/objects/_airflow_logs/" in condition


def test_the_api_server_is_not_exposed_outside_the_cluster():
    assert values()["apiServer"]["service"]["type"] == "ClusterIP"
    assert not values().get("ingress", {}).get("apiServer", {}).get("enabled", False)


def test_the_values_name_the_chart_version_they_target():
    assert re.search(r"Helm chart, version 1\.22\.0", VALUES.read_text())
