# The local BigQuery emulator (bigquery_emulator.py) as the compose service bigquery-emulator (profile emulators):
# installed by the same code from the same pinned requirements and DuckDB extension wheels as devstack's.
# Built with this folder as its context (docker-compose.yaml).
FROM python:3.13.0-slim-bookworm

COPY __init__.py server_process.py gcs_emulator.py bigquery_emulator.py requirements-bigquery.txt /opt/devstack/devstack/
RUN cd /opt/devstack && python -m devstack.bigquery_emulator install --venv /opt/bigquery

# What bigquery_emulator._server_environment gives the server; gs:// URIs are files under GCS_LOCAL_ROOT, where the
# compose file mounts the GCS emulator's storage.
ENV HOME=/opt/bigquery/duckdb-home LANG=C.UTF-8 PYTHONUNBUFFERED=1 GCS_LOCAL_ROOT=/gcs
WORKDIR /data
EXPOSE 9050 9060
CMD ["/opt/bigquery/bin/local-bigquery", "serve", "--host", "0.0.0.0", "--port", "9050", "--grpc-port", "9060", \
     "--project", "nyc-taxi-local", "--data-dir", "/data"]
