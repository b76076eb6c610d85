# Airflow with the project's pinned dependencies and code. docker-compose.yaml also mounts dags/, plugins/
# and include/ over the copies, so edits show up without a rebuild.
FROM apache/airflow:3.3.2-python3.11

# The DAGs' run-time packages only (no pytest, no emulators), at the versions the tests ran with.
COPY requirements-airflow.txt /requirements-airflow.txt
RUN pip install --no-cache-dir -r /requirements-airflow.txt

# The staging and auth volumes mount here; created by the airflow user, a new volume takes their ownership.
RUN mkdir -p /opt/airflow/staging /opt/airflow/auth

COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root include /opt/airflow/include
