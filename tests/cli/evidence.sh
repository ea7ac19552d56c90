#!/usr/bin/env bash
# evidence.sh - attach, show, extract, custody, dedup, verify; bad input and tampering change
# nothing and leave nothing at OUT.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER

expect 0 "$D" init --kdf interactive --json
expect 0 "$D" --json add case "title=House search in Bakhchysarai"
C=$(json 'J["id"]')

head -c 3000000 /dev/urandom >"$T/video.bin"
printf 'statement of the witness\n' >"$T/note.txt"
: >"$T/empty"
expect 0 "$D" --json attach "$C" "$T/video.bin" "$T/note.txt" "$T/empty"
[ "$(json 'len(J)')" = 3 ] || fail "attach output"
E1=$(json 'J[0]["id"]')
E2=$(json 'J[1]["id"]')
[ "$(json 'J[0]["sha256"]')" = "$(sha256sum "$T/video.bin" | cut -d' ' -f1)" ] || fail sha256
[ "$(json 'J[0]["size"]')" = 3000000 ] || fail size
[ "$(json 'J[2]["size"]')" = 0 ] || fail "empty size"
nobj=$(find "$DEFTER_VAULT/objects" -type f | wc -l)
[ "$nobj" = 3 ] || fail "three objects, got $nobj"

# show: under the record, and the evidence itself with its custody history
expect 0 "$D" --json show "$C"
[ "$(json 'len(J["evidence"])')" = 3 ] || fail "evidence under record"
[ "$(json '"'"$E1"'" in [e["id"] for e in J["evidence"]]')" = True ] || fail "evidence id under record"
[ "$(json '[e["sha256"] for e in J["evidence"] if e["id"]=="'$E2'"][0]')" = "$(sha256sum "$T/note.txt" | cut -d' ' -f1)" ] || fail "show sha256"
expect 0 "$D" --json show "$E2"
[ "$(json 'J["mime"]')" = text/plain ] || fail mime
[ "$(json 'J["name"]')" = note.txt ] || fail name

# extract: byte-exact, sha256 output, custody recorded
expect 0 "$D" --json extract "$E1" "$T/out.bin"
cmp -s "$T/video.bin" "$T/out.bin" || fail "extract differs"
[ "$(json 'J["sha256"]')" = "$(sha256sum "$T/video.bin" | cut -d' ' -f1)" ] || fail "extract sha"
expect 0 "$D" --json show "$E1"
[ "$(json '[c["fields"]["event"] for c in J["custody"]]')" = "['extract']" ] || fail custody

# dedup: the same content again stores nothing new
expect 0 "$D" --json add person "name=Witness"
P=$(json 'J["id"]')
expect 0 "$D" --json attach "$P" "$T/video.bin"
[ "$(find "$DEFTER_VAULT/objects" -type f | wc -l)" = 3 ] || fail "dedup stored a new object"
expect 0 "$D" --json verify
[ "$(json 'J["ok"]')" = True ] || fail verify
expect 0 "$D" --json verify --quick

# bad input: all or none, nothing recorded, no orphan objects
before=$(state)
expect 1 "$D" attach "$C" "$T/note.txt" "$T/missing"
echo "$errout" | grep -q "missing" || fail "missing file message: $errout"
expect 1 "$D" attach "$C" "$T"
echo "$errout" | grep -q "directory" || fail "directory message: $errout"
expect 1 "$D" attach nosuchid "$T/note.txt"
expect 2 "$D" attach "$C"
expect 1 "$D" extract "$C" "$T/x"
expect 1 "$D" extract evd_nosuch "$T/x"
[ ! -e "$T/x" ] || fail "extract of a bad id left a file"
[ "$(state)" = "$before" ] || fail "failed commands changed the vault"
[ "$(find "$DEFTER_VAULT/objects" -type f | wc -l)" = 3 ] || fail "orphan objects"

# tampering: a flipped byte in the object makes extract and verify exit 3, nothing at OUT
obj=$(find "$DEFTER_VAULT/objects" -type f -size +2000k | head -1)
cp "$obj" "$T/obj.bak"
python3 - "$obj" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[500000] ^= 1
open(p, "wb").write(bytes(b))
PY
expect 3 "$D" extract "$E1" "$T/tampered.bin"
[ -z "$(ls "$T" | grep -e tampered -e defter-extract)" ] || fail "tampered extract left a file"
expect 3 "$D" verify
cp "$T/obj.bak" "$obj"
truncate -s -1 "$obj"
expect 3 "$D" verify --quick
expect 3 "$D" extract "$E1" "$T/tampered.bin"
[ ! -e "$T/tampered.bin" ] || fail "truncated extract left a file"
cp "$T/obj.bak" "$obj"
expect 0 "$D" verify
# A temporary object left by an import that crashed is swept at the next open.
printf 'ciphertext-only leftover' >"$DEFTER_VAULT/objects/.tmp-0123456789abcdef"
expect 0 "$D" list
[ ! -e "$DEFTER_VAULT/objects/.tmp-0123456789abcdef" ] || fail "stale temporary object kept"
expect 0 "$D" verify
echo "evidence.sh: $checks checks passed"
