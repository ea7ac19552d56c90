#!/usr/bin/env bash
# tamper.sh - no plaintext on disk, and a flipped byte anywhere in the vault is always caught.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
expect 0 "$D" init --kdf interactive
MARK="Zmarker$(date +%s%N)Q"
CYR="Маркер$(date +%N)Ю"
expect 0 "$D" add person "name=$MARK" "name_variants=$CYR" "summary=secret $MARK"
P=$(echo "$out")
expect 0 "$D" add case "title=Case of $MARK" "court=Court $CYR"
C=$(echo "$out")
expect 0 "$D" link "$P" "$C" --role victim
python3 - "$MARK" "$CYR" >"$T/batch.json" <<'PY'
import json, sys
print(json.dumps([{"type": "note", "text": "%s note %d %s" % (sys.argv[1], i, sys.argv[2])}
                  for i in range(300)]))
PY
expect 0 "$D" add --from-json "$T/batch.json"

# No plaintext: the markers (UTF-8, and the Latin one in UTF-16 too) appear in no file.
no_plaintext() {
    python3 - "$DEFTER_VAULT" "$MARK" "$CYR" <<'PY'
import os, sys
root, marks = sys.argv[1], sys.argv[2:]
needles = [m.encode() for m in marks] + [marks[0].encode("utf-16-le")]
for dirpath, _, files in os.walk(root):
    for f in files:
        data = open(os.path.join(dirpath, f), "rb").read()
        for n in needles:
            if n in data:
                sys.exit("plaintext marker found in " + os.path.join(dirpath, f))
PY
}
no_plaintext || fail "plaintext on disk after close"
# ...and while a command holds the vault open (the WAL is live then): kill one mid-batch.
python3 - "$MARK" >"$T/big.json" <<'PY'
import json, sys
print(json.dumps([{"type": "person", "name": "%s %d" % (sys.argv[1], i)} for i in range(3000)]))
PY
"$D" add --from-json "$T/big.json" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
no_plaintext || fail "plaintext on disk after a crash"
expect 0 "$D" verify

# Byte flips at sampled positions of every file: verify exits 3 every time, never 0.
cp -a "$DEFTER_VAULT" "$T/pristine"
flips=0
for f in $(cd "$T/pristine" && find . -type f | sort); do
    size=$(stat -c %s "$T/pristine/$f")
    [ "$size" -gt 0 ] || continue
    # verify checks the compartment it opened: the second one (vault-1.db) has its own keys;
    # the header's last 32 bytes are the attempt counter, which an unlock may change without
    # a key (docs/coercion.md, "Wipe after N wrong passphrases"), so no key can seal them
    [ "$f" = ./vault-1.db ] && continue
    [ "$f" = ./header ] && size=$((size - 32))
    for pos in $(python3 -c "
import random, sys
n = int(sys.argv[1]); random.seed(sys.argv[2])
pts = {0, n - 1, n // 2} | {random.randrange(n) for _ in range(6)}
print(' '.join(map(str, sorted(pts))))" "$size" "$f"); do
        rm -rf "$DEFTER_VAULT"
        cp -a "$T/pristine" "$DEFTER_VAULT"
        python3 - "$DEFTER_VAULT/$f" "$pos" <<'PY'
import sys
p, pos = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as fh:
    fh.seek(pos); b = fh.read(1); fh.seek(pos); fh.write(bytes([b[0] ^ 0x5a]))
PY
        "$D" verify >/dev/null 2>"$T/stderr"
        st=$?
        [ "$st" = 3 ] || fail "flip at $f:$pos gave exit $st, want 3 ($(cat "$T/stderr"))"
        [ "$(wc -l <"$T/stderr")" = 1 ] || fail "flip at $f:$pos: not one line"
        flips=$((flips + 1))
    done
done
[ "$flips" -ge 10 ] || fail "too few flips ($flips)"
echo "tamper: $checks checks and $flips byte flips passed"
