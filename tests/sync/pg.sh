#!/usr/bin/env bash
# pg.sh - run a command beside a throw-away PostgreSQL 15 cluster (pg_virtualenv from
# postgresql-common), then drop it.
#
#   bash tests/sync/pg.sh COMMAND [ARGS...]
#
# The cluster lives in a temp dir (pg_virtualenv -t, also as root, so several runs can coexist),
# listens on localhost (127.0.0.1, ::1) at a port the system picked free, and runs with fsync and
# synchronous_commit on (pg_virtualenv turns fsync off by default; the store's durability claim
# needs it on). COMMAND then runs with:
#   DEFTER_TEST_PG_URL   postgresql://USER:PASSWORD@127.0.0.1:PORT/postgres
#   DEFTER_TEST_PG_DATA  the cluster's data directory (for the marker scan)
#   DEFTER_TEST_PG_LOG   the server's log file
# Exits with COMMAND's status; pg_virtualenv stops and drops the cluster on every exit.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: pg.sh COMMAND [ARGS...]" >&2; exit 2; }
command -v pg_virtualenv >/dev/null || { echo "pg.sh: pg_virtualenv not installed (postgresql-common)" >&2; exit 2; }
[ -x /usr/lib/postgresql/15/bin/postgres ] || { echo "pg.sh: PostgreSQL 15 not installed" >&2; exit 2; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2016
inner='
export DEFTER_TEST_PG_URL="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$PGPORT/$PGDATABASE"
export DEFTER_TEST_PG_DATA="$(pg_conftool -s 15 regress show data_directory)"
export DEFTER_TEST_PG_LOG="$(ls "$PG_CLUSTER_CONF_ROOT"/../log/*.log 2>/dev/null | head -n 1)"
"$@"'
PGPORT=$port exec pg_virtualenv -t -v 15 -o fsync=on -o synchronous_commit=on \
    -o full_page_writes=on bash -c "$inner" pg.sh "$@"
