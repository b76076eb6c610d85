#!/usr/bin/env bash
# The stand-in postgres image's entrypoint: what the official docker-entrypoint.sh does for docker-compose.yaml.
# As root it hands PGDATA to postgres and runs itself again as that user; an empty PGDATA gets a cluster made from
# POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, then the scripts in /docker-entrypoint-initdb.d.
set -Eeuo pipefail

if [[ "${1:0:1}" == - ]]; then
    set -- postgres "$@"
fi

if [[ "$1" == postgres && "$(id -u)" == 0 ]]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    exec gosu postgres "${BASH_SOURCE[0]}" "$@"
fi

if [[ "$1" == postgres && ! -s "$PGDATA/PG_VERSION" ]]; then
    if [[ -z "${POSTGRES_PASSWORD:-}" && "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]]; then
        echo "Error: Database is uninitialized and superuser password is not specified." >&2
        echo "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
        exit 1
    fi
    POSTGRES_USER="${POSTGRES_USER:-postgres}"
    POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
        ${POSTGRES_INITDB_ARGS:-} >/dev/null
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"

    # A server on the socket only while the database and the init scripts are made, as the official one does.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    export PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}"
    if [[ "$POSTGRES_DB" != postgres ]]; then
        # psql quotes the name (:"db"); it interpolates variables only in what it reads, not in -c.
        psql -v ON_ERROR_STOP=1 --dbname postgres --no-psqlrc -q --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) echo "running $script"; . "$script" ;;
            *.sql) echo "running $script"; psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" --no-psqlrc -f "$script" ;;
            *.sql.gz) echo "running $script"; gunzip -c "$script" | psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" --no-psqlrc ;;
            *) [[ -e "$script" ]] && echo "ignoring $script" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    unset PGPASSWORD
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
