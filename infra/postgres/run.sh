#!/usr/bin/env bash
# Run a PostgreSQL cluster of our own in the foreground: data in $STATE_DIR/data,
# TCP on 127.0.0.1:$PORT only, trust auth (local development only).
#
# Environment (set by infra/stack): STATE_DIR, PORT.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=postgres
source "$HERE/../lib.sh"
require_env STATE_DIR PORT
BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)")
DATA="$STATE_DIR/data"

# PostgreSQL refuses to run as root: as root, run it as the postgres system user.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  chown postgres "$STATE_DIR"
  as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  "${as_owner[@]}" "$BIN/initdb" --pgdata="$DATA" --username=postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi

exec "${as_owner[@]}" "$BIN/postgres" -D "$DATA" \
  -c listen_addresses=127.0.0.1 -c port="$PORT" -c unix_socket_directories="$STATE_DIR" \
  -c max_connections=200 -c shared_buffers=128MB -c fsync=on \
  -c logging_collector=off -c log_min_messages=warning
