#!/usr/bin/env bash
# verify_ui.sh - the UI's integrity check (POST /api/verify) and `defter verify` run the same
# checks: after an evidence object is damaged, both fail (exit 3 / no "ok":true).
. "$(dirname "$0")/lib.bash" || exit 1
. "$(dirname "$0")/ui.bash" || exit 1
D=$DEFTER

expect 0 "$D" init --kdf interactive
expect 0 "$D" --json add case "title=Case with a scan"
C=$(json 'J["id"]')
head -c 300000 /dev/urandom >"$T/scan.bin"
expect 0 "$D" --json attach "$C" "$T/scan.bin"
expect 0 "$D" --json verify
[ "$(json 'J["ok"]')" = True ] || fail "verify before damage"
[ "$(json 'J["evidence"]["objects"]')" = 1 ] || fail "verify counts the object: $out"

ui_start ui
ui_post /api/verify
[ "$code" = 200 ] || fail "ui verify before damage: $code $out"
[ "$(json 'J["ok"]')" = True ] || fail "ui verify ok before damage"
[ "$(json 'J["evidence"]["objects"]')" = 1 ] || fail "ui verify checks evidence: $out"
ui_stop

# Flip one byte inside the first chunk's ciphertext.
obj=$(find "$T/vault/objects" -type f -name '[0-9a-f]*' | head -n1)
[ -n "$obj" ] || fail "no object file"
python3 - "$obj" <<'PY'
import sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(1000)
    b = f.read(1)
    f.seek(1000)
    f.write(bytes([b[0] ^ 0x40]))
PY
expect 3 "$D" --json verify
[ "$(json 'J["ok"]')" = False ] || fail "verify reports the damage"
ui_start ui
ui_post /api/verify
# an integrity failure is an answer (200), with "ok": false
[ "$(json 'J.get("ok")')" = False ] || fail "ui verify said ok after damage: $code $out"
echo "$out" | grep -q "evidence" || fail "ui verify names the evidence: $out"
ok
ui_stop

echo "verify_ui.sh: $checks checks passed"
