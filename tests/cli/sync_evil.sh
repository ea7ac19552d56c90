#!/usr/bin/env bash
# sync_evil.sh - a malicious server is caught: an evil proxy (tests/sync/evilproxy.py) in front
# of real `defter serve` processes drops an envelope from a pull, reorders a pull, flips a byte
# in one, replays an old signed checkpoint, and routes a client to a second server started on a
# copy of the store (a real fork). Each time `defter sync` exits 3 and merges nothing (the
# vault's view is unchanged); once the server behaves again, sync goes on. Every member talks to
# the server through the proxy (the invite carries its URL); attacks fire once, just before the
# victim's sync. Runs on SQLite + files here and on PostgreSQL + S3 from tests/sync/backends.sh.
. "$(dirname "$0")/lib.bash"
proxy="$(cd "$(dirname "$0")/../sync" && pwd)/evilproxy.py"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# start_server DIR [LISTEN]: sets SURL, SPID
start_server() {
    local dir=$1 listen=${2:-127.0.0.1:0}
    mkdir -p "$dir"
    rm -f "$dir/out"
    "$DEFTER" serve --listen "$listen" --data "$dir" >"$dir/out" 2>"$dir/err" &
    SPID=$!
    pids+=("$SPID")
    for _ in $(seq 1 400); do
        [ -s "$dir/out" ] && break
        kill -0 "$SPID" 2>/dev/null || fail "server did not start: $(cat "$dir/err")"
        sleep 0.05
    done
    read -r SURL _ <"$dir/out" || fail "no first line"
}
d() {
    local v=$1
    shift
    "$DEFTER" --vault "$T/$v" "$@"
}
mode() { # mode NAME: arm the proxy (attacks fire once)
    rm -f "$T/ctl/fired"
    printf '%s\n' "$1" >"$T/ctl/mode.tmp"
    mv "$T/ctl/mode.tmp" "$T/ctl/mode"
}
fired() { # fired NAME: the proxy did carry out the attack (else the test proves nothing)
    [ "$(cat "$T/ctl/fired" 2>/dev/null)" = "$1" ] || fail "the proxy did not $1"
}
view() { # the victim's view: every record and the log size
    d V --json list
    d V --json log | python3 -c "import json,sys; print(json.load(sys.stdin)['size'])"
}
caught() { # caught ATTACK: V's sync exits 3 and merges nothing
    local before
    before=$(view)
    expect 3 d V --json sync
    fired "$1"
    [ "$(view)" = "$before" ] || fail "$1: something was merged"
    echo "caught $1: $errout"
}

start_server "$T/s1"
port1=${SURL##*:}
mkdir -p "$T/ctl"
printf '127.0.0.1:%s\n' "$port1" >"$T/ctl/upstream"
mode pass
python3 "$proxy" "$T/ctl" >"$T/proxy.out" 2>"$T/proxy.err" &
pids+=($!)
for _ in $(seq 1 200); do
    [ -s "$T/proxy.out" ] && break
    sleep 0.05
done
read -r PURL <"$T/proxy.out" || fail "the proxy did not start: $(cat "$T/proxy.err")"

expect 0 d A init --kdf interactive
expect 0 d A add person name="Server-side adversary"
expect 0 d A --json share --server "$PURL"
expect 0 d A --json member invite editor
inv=$(json 'J["invite"]')
expect 0 d V init --kdf interactive --join "$inv"
expect 0 d V --json sync
expect 0 d V --json list
[ "$(json 'len(J)')" = 1 ] || fail "the victim reads the history: $out"

# 1. drop an envelope from a pull
expect 0 d A add note title="dropped one"
expect 0 d A add note title="dropped two"
expect 0 d A --json sync
mode drop
caught drop
mode pass
expect 0 d V --json sync
[ "$(json 'J["pulled"]')" -ge 2 ] || fail "after the drop an honest pull brings both: $out"

# 2. reorder a pull
expect 0 d A add note title="reordered one"
expect 0 d A add note title="reordered two"
expect 0 d A --json sync
mode reorder
caught reorder
mode pass
expect 0 d V --json sync

# 3. flip a byte in an envelope of a pull
expect 0 d A add note title="flipped"
expect 0 d A --json sync
mode flip
caught flip
mode pass
expect 0 d V --json sync

# 4. replay an old signed checkpoint (a rollback)
mode record
expect 0 d V --json sync
fired record
expect 0 d A add note title="after the recorded checkpoint"
expect 0 d A --json sync
mode pass
expect 0 d V --json sync
mode replay
caught replay
[[ "$errout" == *"rolled back"* ]] || fail "the replay is named a rollback: $errout"
mode pass

# 5. a real fork: a second server on a copy of the store; V is served by it, A by the first
expect 0 d V --json sync
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
cp -a "$T/s1" "$T/s2"
start_server "$T/s1" "127.0.0.1:$port1"
start_server "$T/s2"
port2=${SURL##*:}
printf '127.0.0.1:%s\n' "$port2" >"$T/ctl/upstream"
expect 0 d V add note title="written on the second server"
expect 0 d V --json sync
printf '127.0.0.1:%s\n' "$port1" >"$T/ctl/upstream"
expect 0 d A add note title="written on the first server"
expect 0 d A --json sync
before=$(view)
expect 3 d V --json sync
echo "caught fork: $errout"
[ "$(view)" = "$before" ] || fail "fork: something was merged"
d V --json list | grep -q "written on the first server" && fail "the other branch was merged"
# the owner, shown the second branch, catches it too
printf '127.0.0.1:%s\n' "$port2" >"$T/ctl/upstream"
expect 3 d A --json sync

echo "sync_evil.sh: $checks checks passed"
