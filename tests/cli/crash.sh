#!/usr/bin/env bash
# crash.sh - kill -9 at random instants during large batch adds, repeatedly: the vault always
# opens, verify passes, every acknowledged batch is there, and no batch is there by halves.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
N=${CRASH_BATCH:-2000}
ROUNDS=${CRASH_ROUNDS:-8}
expect 0 "$D" init --kdf interactive
python3 - "$N" >"$T/batch.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"type": "person", "name": "Crash Test %d" % i,
                   "name_variants": ["Тест %d" % i], "summary": "x" * 100} for i in range(n)]))
PY
# One uninterrupted run tells how long an add takes; kills then fall anywhere in 0..1.3x that.
start=$(date +%s%N)
expect 0 "$D" add --from-json "$T/batch.json"
ms=$(( ($(date +%s%N) - start) / 1000000 * 13 / 10 + 1 ))
acked=1
for round in $(seq 1 "$ROUNDS"); do
    "$D" add --from-json "$T/batch.json" >"$T/add.out" 2>&1 &
    pid=$!
    delay=$((RANDOM * 32768 + RANDOM))
    delay=$((delay % ms))
    sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    st=$?
    [ "$st" = 0 ] && acked=$((acked + 1))
    expect 0 "$D" --json verify
    expect 0 "$D" --json list person
    count=$(json 'len(J)')
    [ $((count % N)) = 0 ] || fail "round $round: half a batch is visible ($count records)"
    [ "$count" -ge $((acked * N)) ] || fail "round $round: acknowledged batch lost ($count < $acked x $N)"
    acked=$((count / N))
done
echo "crash: $checks checks passed ($acked batches survived of $ROUNDS rounds)"
