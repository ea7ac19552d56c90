#!/usr/bin/env bash
# witness_cosign.sh - latency of `defter checkpoint --cosign` with 3 `defter witness serve`
# instances on 127.0.0.1 (release build), beside plain `defter checkpoint` (unlock and sign,
# no witnesses): the difference is what asking three witnesses in parallel costs. Each round
# adds one record first, so every cosign carries a consistency proof. Never run by the tests.
set -u
cd "$(dirname "$0")/.."
D=$PWD/build/release/defter
[ -x "$D" ] || { echo "witness_cosign: build first (make build)"; exit 1; }
T=$(mktemp -d /tmp/defter-cosign-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
printf 'bench passphrase\n' >"$T/pass"
export DEFTER_PASSPHRASE_FILE=$T/pass DEFTER_VAULT=$T/vault
"$D" init --kdf interactive >/dev/null
LOGVKEY=$("$D" identity | head -n1)
for n in 1 2 3; do
    VK=$("$D" witness init --data "$T/w$n" "bench$n.test/w")
    "$D" witness trust --data "$T/w$n" "${LOGVKEY%%+*}" "$LOGVKEY" >/dev/null
    "$D" witness serve --data "$T/w$n" --listen 127.0.0.1:0 >"$T/w$n.out" 2>/dev/null &
    pids+=($!)
    while [ ! -s "$T/w$n.out" ]; do sleep 0.05; done
    read -r URL _ <"$T/w$n.out"
    "$D" witness add "$VK" "$URL" >/dev/null
done
"$D" witness policy 2 >/dev/null
ms() { # run a command, print its wall time in milliseconds
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || echo "witness_cosign: '$*' failed" >&2
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rounds=15
: >"$T/cosign"
: >"$T/plain"
for i in $(seq 1 $rounds); do
    "$D" add person name="Bench $i" >/dev/null
    ms "$D" checkpoint --cosign >>"$T/cosign"
    ms "$D" checkpoint >>"$T/plain"
done
printf 'checkpoint latency, %d rounds, median (min-max) ms, release build, 3 witnesses on 127.0.0.1\n' $rounds
printf '  checkpoint --cosign (3 witnesses, quorum 2)  %4d (%d-%d)\n' "$(median <"$T/cosign")" \
    "$(sort -n "$T/cosign" | head -1)" "$(sort -n "$T/cosign" | tail -1)"
printf '  checkpoint (no witnesses; peer)              %4d (%d-%d)\n' "$(median <"$T/plain")" \
    "$(sort -n "$T/plain" | head -1)" "$(sort -n "$T/plain" | tail -1)"
