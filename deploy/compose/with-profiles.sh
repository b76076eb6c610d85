#!/usr/bin/env bash
# Entrypoint of the Airflow services in docker-compose.yaml: settings for the compose profiles that are active,
# then the image's own entrypoint ("$@"). A profile's services are on the network only when it is active, and
# the Airflow services wait for them (depends_on, required: false), so their names resolve exactly then.
set -euo pipefail

if getent hosts redis >/dev/null; then
    # --profile celery: the scheduler sends tasks to the Celery workers through Redis.
    export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
fi
if getent hosts gcs-emulator >/dev/null; then
    # --profile emulators: the GCS and BigQuery DAGs use the emulators, whatever .env.local says about GCP.
    set -a
    # shellcheck source=emulators.env
    source "$(dirname "$0")/emulators.env"
    set +a
fi
exec "$@"
