#!/usr/bin/env bash
# The stand-in redis image's entrypoint, as the official one: options alone run redis-server with them; the server
# runs as the redis user, with protected mode off unless the command sets it (the official image's default).
set -euo pipefail

if [[ "${1:0:1}" == - || "$1" == *.conf ]]; then
    set -- redis-server "$@"
fi
if [[ "$1" == redis-server ]]; then
    if [[ " $* " != *" --protected-mode "* ]]; then
        set -- "$@" --protected-mode no
    fi
    if [[ "$(id -u)" == 0 ]]; then
        chown -R redis:redis /data 2>/dev/null || true
        exec gosu redis "$@"
    fi
fi
exec "$@"
