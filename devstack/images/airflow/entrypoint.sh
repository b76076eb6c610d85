#!/usr/bin/env bash
# The stand-in image's /entrypoint: the part of the official image's entrypoint that docker-compose.yaml uses.
# No arguments: bash. `bash ...` and `python ...` run as they are; anything else is an airflow subcommand
# (`api-server`, `celery worker`, ...), run after the metadata database answers, as the official one does.
set -euo pipefail
umask 0002

if [[ $# -eq 0 ]]; then
    exec bash
fi
if [[ "$1" == airflow ]]; then
    shift
fi
case "$1" in
    bash | sh | python | python3) exec "$@" ;;
esac

# Like the official image: wait for the metadata database (CONNECTION_CHECK_MAX_COUNT tries, 0 skips it).
max_count="${CONNECTION_CHECK_MAX_COUNT:-20}"
sleep_seconds="${CONNECTION_CHECK_SLEEP_TIME:-3}"
if [[ "$max_count" -gt 0 ]]; then
    count=0
    until airflow db check >/dev/null 2>&1; do
        count=$((count + 1))
        if [[ "$count" -ge "$max_count" ]]; then
            echo "the metadata database did not answer after $count tries" >&2
            airflow db check
            exit 1
        fi
        sleep "$sleep_seconds"
    done
fi
exec airflow "$@"
