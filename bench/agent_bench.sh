#!/usr/bin/env bash
# agent_bench.sh - `defter list` and `defter search` through the unlock agent, beside the same
# commands unlocking the vault each time (the default Argon2id cost, as users run it).
# A vault of RECORDS persons (default 2000); each command is run RUNS times (default 5 without
# the agent, 10x that through it); prints the mean wall time in ms and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${DEFTER:-$PWD/build/release/defter}
RECORDS=${RECORDS:-2000}
RUNS=${RUNS:-5}
tmp=$(mktemp -d /tmp/defter-agent-bench.XXXXXX)
mkdir -m 700 "$tmp/run"
export XDG_RUNTIME_DIR=$tmp/run DEFTER_VAULT=$tmp/vault
trap '"$D" lock >/dev/null 2>&1; rm -rf "$tmp"' EXIT
printf 'agent bench passphrase\n' >"$tmp/pass"
"$D" --passphrase-file "$tmp/pass" init >/dev/null
python3 -c '
import json, sys
names = ["Ahtem Chiygoz", "Ахтем Чийгоз", "Mustafa Dzhemilev", "Server Mustafayev", "Emir-Usein Kuku"]
json.dump([{"type": "person", "name": "%s %d" % (names[i % len(names)], i)} for i in range(int(sys.argv[1]))],
          open(sys.argv[2], "w"), ensure_ascii=False)' "$RECORDS" "$tmp/batch.json"
"$D" --passphrase-file "$tmp/pass" add --from-json "$tmp/batch.json" >/dev/null

mean_ms() { # mean_ms N CMD...: mean wall milliseconds of N runs (output discarded)
    local n=$1
    shift
    local t0 t1
    t0=$(date +%s%N)
    for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
    t1=$(date +%s%N)
    echo $(((t1 - t0) / n / 1000))
}
fmt() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

declare -A direct via
direct[list]=$(mean_ms "$RUNS" "$D" --passphrase-file "$tmp/pass" list)
direct[search]=$(mean_ms "$RUNS" "$D" --passphrase-file "$tmp/pass" search "Чийгоз" --limit 10)
"$D" --passphrase-file "$tmp/pass" unlock >/dev/null
via[list]=$(mean_ms $((RUNS * 10)) env -u DEFTER_PASSPHRASE_FILE "$D" list)
via[search]=$(mean_ms $((RUNS * 10)) env -u DEFTER_PASSPHRASE_FILE "$D" search "Чийгоз" --limit 10)
"$D" lock >/dev/null
echo "vault of $RECORDS persons, default KDF; mean wall time per command (ms)"
printf '%-8s %18s %18s %8s\n' command "unlock each time" "through agent" ratio
for c in list search; do
    printf '%-8s %18s %18s %7sx\n' "$c" "$(fmt "${direct[$c]}")" "$(fmt "${via[$c]}")" \
        "$(( direct[$c] / (via[$c] > 0 ? via[$c] : 1) ))"
done
