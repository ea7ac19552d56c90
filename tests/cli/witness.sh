#!/usr/bin/env bash
# witness.sh - `defter witness serve` against an independent client (tests/witness/
# tlog_client.mjs, Node crypto): every add-checkpoint status code, 100 concurrent adds that
# never roll back, kill -9 right after a 200, rate limits, key-file protection, forks.
. "$(dirname "$0")/lib.bash"
NODE_CLIENT="$(cd "$(dirname "$0")/../witness" && pwd)/tlog_client.mjs"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# start_witness DIR [ARGS...]: serve on a port the system picks; sets URL, WVKEY, WPID
start_witness() {
    local dir=$1
    shift
    rm -f "$dir/out"
    "$DEFTER" witness serve --data "$dir" --listen 127.0.0.1:0 "$@" >"$dir/out" 2>"$dir/err" &
    WPID=$!
    pids+=("$WPID")
    for _ in $(seq 1 400); do
        [ -s "$dir/out" ] && break
        kill -0 "$WPID" 2>/dev/null || fail "witness did not start: $(cat "$dir/err")"
        sleep 0.05
    done
    read -r URL WVKEY <"$dir/out" || fail "no first line"
    [[ "$URL" == http://127.0.0.1:* ]] || fail "first line is not a URL: $URL"
}

W=$T/w1
expect 0 "$DEFTER" witness init --data "$W" witness.test/w1
vkey=$out
[[ "$vkey" == witness.test/w1+*+* ]] || fail "init prints the vkey: $vkey"
[ "$(stat -c %a "$W/witness.key")" = 600 ] || fail "key file is 0600"
[ "$(stat -c %a "$W")" = 700 ] || fail "data dir is 0700"
expect 1 "$DEFTER" witness init --data "$W" witness.test/w1
[[ "$errout" == *"already holds a witness key"* ]] || fail "second init refused: $errout"
expect 2 "$DEFTER" witness init --data "$T/w0"
expect 1 "$DEFTER" witness init --data "$T/w0" "bad name"

# a log from the independent client
lvkey=$(node "$NODE_CLIENT" keygen example.test/log1 "$T/log1.json") || fail keygen
expect 1 "$DEFTER" witness trust --data "$W" example.test/other "$lvkey"
[[ "$errout" == *"is not the origin"* ]] || fail "trust checks the key name: $errout"
expect 1 "$DEFTER" witness trust --data "$W" witness.test/w1 "$vkey"
[[ "$errout" == *"not a log key"* ]] || fail "trust refuses a cosigner key: $errout"
expect 0 "$DEFTER" witness trust --data "$W" example.test/log1 "$lvkey"
expect 0 "$DEFTER" witness trust --data "$W" example.test/log1 "$lvkey"

# a key readable by others is refused
chmod 644 "$W/witness.key"
expect 1 "$DEFTER" witness serve --data "$W" --listen 127.0.0.1:0
[[ "$errout" == *"readable by others"* ]] || fail "world-readable key refused: $errout"
chmod 600 "$W/witness.key"
expect 2 "$DEFTER" witness serve --data "$W" --listen nowhere

start_witness "$W" --rate-ip 0 --rate-log 0
[ "$WVKEY" = "$vkey" ] || fail "first line carries the vkey"
node "$NODE_CLIENT" statuses "$URL" "$WVKEY" "$T/log1.json" || fail "status codes"
ok

# 100 concurrent adds with mixed old sizes never roll back
lvkey2=$(node "$NODE_CLIENT" keygen example.test/log2 "$T/log2.json") || fail keygen
expect 0 "$DEFTER" witness trust --data "$W" example.test/log2 "$lvkey2"
node "$NODE_CLIENT" concurrent "$URL" "$WVKEY" "$T/log2.json" 100 || fail "concurrent adds"
ok

# kill -9 right after a 200 keeps the state
lvkey3=$(node "$NODE_CLIENT" keygen example.test/log3 "$T/log3.json") || fail keygen
expect 0 "$DEFTER" witness trust --data "$W" example.test/log3 "$lvkey3"
r=$(node "$NODE_CLIENT" add "$URL" "$WVKEY" "$T/log3.json" 0 17) || fail "add 17: $r"
[[ "$r" == 200* ]] || fail "add 17 gives 200: $r"
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
start_witness "$W" --rate-ip 0 --rate-log 0
r=$(node "$NODE_CLIENT" add "$URL" "$WVKEY" "$T/log3.json" 0 20) || fail "add after restart"
[ "$r" = "409 17" ] || fail "after kill -9 the witness still has size 17: $r"
ok

# the fork requests of the status test are kept and shown
expect 0 "$DEFTER" witness forks --data "$W"
[[ "$out" == *"another root"* ]] || fail "forks lists the same-size fork: $out"
expect 0 "$DEFTER" --json witness forks --data "$W"
n=$(json "len(J['forks'])")
[ "$n" -ge 4 ] || fail "at least 4 forks kept (got $n)"
expect 0 "$DEFTER" --json witness logs --data "$W"
[ "$(json "[l['size'] for l in J['logs'] if l['origin']=='example.test/log3'][0]")" = 17 ] ||
    fail "logs shows size 17"
kill "$WPID"
wait "$WPID" 2>/dev/null

# rate limits: 429 with Retry-After, per log and per address
start_witness "$W" --rate-ip 1000 --rate-log 0.2
codes=""
for i in 1 2 3 4 5; do
    codes+=$(node "$NODE_CLIENT" add "$URL" "$WVKEY" "$T/log3.json" 17 17 | cut -c1-3)" "
done
[[ "$codes" == *429* ]] || fail "per-log rate limit gives 429: $codes"
h=$(curl -s -D - -o /dev/null --data-binary 'old 0' "$URL/add-checkpoint")
kill "$WPID"
wait "$WPID" 2>/dev/null
start_witness "$W" --rate-ip 0.2 --rate-log 0
for i in 1 2 3 4; do
    h=$(curl -s -D - -o /dev/null --data-binary 'old 0' "$URL/add-checkpoint")
done
[[ "$h" == *"HTTP/1.1 429"* && "$h" == *"Retry-After: "* ]] || fail "per-address 429 with Retry-After: $h"
ok
# headers beyond the cap are refused, the server stays up
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/x/checkpoint")
[ "$code" = 431 ] || [ "$code" = 413 ] || [ "$code" = 400 ] || fail "huge header refused (got $code)"
kill -0 "$WPID" || fail "server survives"
ok
echo "witness.sh: $checks checks passed"
