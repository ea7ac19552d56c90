#!/usr/bin/env bash
# coercion_camouflage_sync.sh - team sync of a camouflaged vault's evidence with a real `defter
# serve` on 127.0.0.1: its objects leave in the ordinary format (a plain member reads them),
# and a member's object pulled into it is stored camouflaged (docs/evidence-format.md,
# "Camouflaged vaults"), so its folder stays random-looking.
. "$(dirname "$0")/lib.bash"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
D=$DEFTER

mkdir -p "$T/srv"
"$D" serve --listen 127.0.0.1:0 --data "$T/srv" >"$T/srv/out" 2>"$T/srv/err" &
pids+=("$!")
for _ in $(seq 1 400); do
    [ -s "$T/srv/out" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "server did not start: $(cat "$T/srv/err")"
    sleep 0.05
done
read -r URL _ <"$T/srv/out" || fail "no first line"

# A: camouflaged, with evidence, shares; B: a plain editor
expect 0 "$D" --vault "$T/A" init --kdf interactive --camouflage notes
expect 0 "$D" --vault "$T/A" --json add case title="Case 1"
C=$(json 'J["id"]')
head -c 300000 /dev/urandom >"$T/a.bin"
expect 0 "$D" --vault "$T/A" --json attach "$C" "$T/a.bin"
ea=$(json "J[0]['id']")
expect 0 "$D" --vault "$T/A" --json share --server "$URL"
expect 0 "$D" --vault "$T/A" --json member invite editor
inv=$(json 'J["invite"]')
expect 0 "$D" --vault "$T/B" init --kdf interactive --join "$inv"
expect 0 "$D" --vault "$T/B" sync
# the camouflaged vault's object reached the plain member intact, in the ordinary format
expect 0 "$D" --vault "$T/B" extract "$ea" "$T/a.out"
cmp -s "$T/a.bin" "$T/a.out" || fail "B's copy of A's evidence"
for f in "$T"/B/objects/*/*; do
    head -c 8 "$f" | grep -q DFTOBJv2 || fail "a pulled object in a plain vault is not in the ordinary format"
done
ok
# B's evidence pulled into A is stored camouflaged
head -c 200000 /dev/urandom >"$T/b.bin"
expect 0 "$D" --vault "$T/B" --json attach "$C" "$T/b.bin"
eb=$(json "J[0]['id']")
expect 0 "$D" --vault "$T/B" sync
expect 0 "$D" --vault "$T/A" sync
expect 0 "$D" --vault "$T/A" extract "$eb" "$T/b.out"
cmp -s "$T/b.bin" "$T/b.out" || fail "A's copy of B's evidence"
n=0
for f in "$T"/A/notes/*/*; do
    n=$((n + 1))
    head -c 4096 "$f" | grep -q "DFTOBJ" && fail "an object in the camouflaged vault shows its magic: $f"
    python3 - "$f" <<'PY' || fail "not random-looking: $f"
import sys
d = open(sys.argv[1], 'rb').read()[:4096]
c = [0] * 256
for b in d:
    c[b] += 1
e = len(d) / 256
sys.exit(sum((x - e) ** 2 / e for x in c) > 400)
PY
done
[ "$n" = 2 ] || fail "A holds $n objects"
expect 0 "$D" --vault "$T/A" verify
echo "$out" | grep -q "ok: 2 evidence objects" || fail "A verify: $out"
expect 0 "$D" --vault "$T/B" verify
echo "coercion_camouflage_sync: $checks checks passed"
