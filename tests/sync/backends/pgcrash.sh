#!/usr/bin/env bash
# pgcrash.sh - PostgreSQL crashes (an immediate stop: no checkpoint, crash recovery at start)
# while a team syncs through a `defter serve --db`: nothing acknowledged is lost, no checkpoint
# shrinks (a client would call that a rollback, exit 3), and the server reconnects by itself.
# Then the server itself is killed with -9 and restarted on its folder: the same holds.
# Runs inside tests/sync/pg.sh and radosgw.sh (tests/sync/backends/run.sh).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../cli/lib.bash"
: "${DEFTER_TEST_PG_URL:?run inside tests/sync/pg.sh}"
: "${DEFTER_REAL:?DEFTER_REAL: the real defter binary}"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
db="d$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
psql -q "$DEFTER_TEST_PG_URL" -c "CREATE DATABASE $db" >/dev/null || fail "cannot create a database"
dburl="${DEFTER_TEST_PG_URL%/*}/$db"

start_server() { # start_server [LISTEN]
    rm -f "$T/srv.out"
    "$DEFTER_REAL" serve --listen "${1:-127.0.0.1:0}" --data "$T/srv" --db "$dburl" \
        >"$T/srv.out" 2>>"$T/srv.err" &
    SPID=$!
    pids+=("$SPID")
    for _ in $(seq 1 400); do
        [ -s "$T/srv.out" ] && break
        kill -0 "$SPID" 2>/dev/null || fail "server did not start: $(cat "$T/srv.err")"
        sleep 0.05
    done
    read -r URL _ <"$T/srv.out" || fail "no first line"
}
d() {
    local v=$1
    shift
    "$DEFTER_REAL" --vault "$T/$v" "$@"
}
sync_until_ok() { # the first request after a restart may fail; a later one must not
    local i
    for i in 1 2 3; do
        out=$(d "$1" --json sync 2>"$T/stderr")
        local st=$?
        [ "$st" = 0 ] && return 0
        [ "$st" = 3 ] && fail "exit 3 after a restart: $(cat "$T/stderr")"
    done
    fail "sync does not recover: $(cat "$T/stderr")"
}

mkdir -p "$T/srv"
start_server
expect 0 d A init --kdf interactive
expect 0 d A --json share --server "$URL"
for i in 1 2 3; do expect 0 d A add note title="before the crash $i"; done
expect 0 d A --json sync
acked=$(json 'J["size"]')

# PostgreSQL crashes and comes back; the server stays up
pg_ctlcluster 15 regress stop -m immediate >/dev/null 2>&1 || fail "cannot stop postgresql"
pg_ctlcluster 15 regress start >/dev/null 2>&1 || fail "cannot start postgresql"
kill -0 "$SPID" 2>/dev/null || fail "the server died with its database"
expect 0 d A add note title="after the crash"
sync_until_ok A
size=$(json 'J["size"]')
[ "$size" -gt "$acked" ] || fail "size $size after the crash, $acked acknowledged before"
ok

# the server is killed mid-way and restarts on its folder: every acknowledged entry is there
acked=$size
port=${URL##*:}
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
start_server "127.0.0.1:$port"
expect 0 d A add note title="after the kill"
sync_until_ok A
size=$(json 'J["size"]')
[ "$size" -gt "$acked" ] || fail "size $size after kill -9, $acked acknowledged before"
n=$(psql -Atq "$dburl" -c "SELECT size FROM defter_sync_collections")
[ "$n" = "$size" ] || fail "postgresql holds $n entries, the client verified $size"
ok
expect 0 d A --json list
[ "$(json 'len(J)')" = 5 ] || fail "every note is there: $out"
echo "pgcrash.sh: $checks checks passed"
