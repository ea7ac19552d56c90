#!/usr/bin/env bash
# tlog.sh - checkpoints and proofs from the CLI, checked by an independent Python verifier;
# bad arguments are user errors; a tampered tree node is found by verify (exit 3).
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
V="python3 $(dirname "$0")/tlog_verify.py"

expect 0 "$D" init --kdf interactive
expect 0 "$D" identity
VKEY=$(printf '%s\n' "$out" | head -n 1)
case "$VKEY" in defter.vault/*+*+*) ok ;; *) fail "identity's first line is not a vkey: $VKEY" ;; esac

# An empty log has a checkpoint of size 0.
expect 0 "$D" checkpoint
printf '%s\n' "$out" >"$T/cp0"
$V checkpoint "$T/cp0" "$VKEY" 0 >/dev/null || fail "empty checkpoint"
ok

ids=()
for i in $(seq 1 11); do
    expect 0 "$D" --json add person "name=Person $i"
    ids+=("$(json 'J["id"]')")
done
expect 0 "$D" --json add --from-json - <<<'[{"type":"case","title":"Batch A"},{"type":"case","title":"Batch B"}]'
expect 0 "$D" --json link "${ids[2]}" "${ids[5]}" --role witness
expect 0 "$D" --json edit "${ids[0]}" "summary=edited"
expect 0 "$D" --json log --envelopes
printf '%s' "$out" >"$T/log.json"
SIZE=$(json 'J["size"]')
[ "$SIZE" = 14 ] || fail "log size $SIZE"

expect 0 "$D" checkpoint
printf '%s\n' "$out" >"$T/cp"
$V checkpoint "$T/cp" "$VKEY" "$SIZE" >/dev/null || fail "checkpoint does not verify"
ok

# Inclusion proofs: the record's latest envelope (edit, link, plain add) in the current tree.
for id in "${ids[0]}" "${ids[2]}" "${ids[5]}" "${ids[7]}" "${ids[10]}"; do
    expect 0 "$D" --json prove "$id"
    printf '%s' "$out" >"$T/p.json"
    $V inclusion "$T/p.json" "$T/log.json" "$VKEY" >/dev/null || fail "inclusion proof of $id"
    ok
done
expect 0 "$D" --json prove "${ids[0]}"
[ "$(json 'J["index"]')" = 13 ] || fail "prove proves the latest envelope touching the record"
expect 0 "$D" --json prove "${ids[5]}"
[ "$(json 'J["index"]')" = 12 ] || fail "a link is an operation of both records"

# A mutated proof, leaf or checkpoint is rejected by the independent verifier.
expect 0 "$D" --json prove "${ids[3]}"
printf '%s' "$out" | python3 -c '
import json,sys,base64
p=json.load(sys.stdin); h=bytearray(base64.b64decode(p["proof"][1])); h[7]^=1
p["proof"][1]=base64.b64encode(bytes(h)).decode(); print(json.dumps(p))' >"$T/bad.json"
$V inclusion "$T/bad.json" "$T/log.json" "$VKEY" 2>/dev/null && fail "mutated proof verified"
printf '%s' "$out" | python3 -c '
import json,sys
p=json.load(sys.stdin); p["checkpoint"]=p["checkpoint"].replace("\n14\n","\n13\n",1); print(json.dumps(p))' >"$T/bad.json"
$V inclusion "$T/bad.json" "$T/log.json" "$VKEY" 2>/dev/null && fail "edited checkpoint verified"
ok

# Consistency proofs between every pair of sizes.
for m in 1 2 3 5 7 8 13 14; do
    for n in 8 13 14; do
        [ "$m" -le "$n" ] || continue
        expect 0 "$D" --json prove --consistency "$m" "$n"
        printf '%s' "$out" >"$T/c.json"
        $V consistency "$T/c.json" "$T/log.json" >/dev/null || fail "consistency $m $n"
    done
done
expect 0 "$D" --json prove --consistency 14 14
[ "$(json 'J["proof"]')" = "[]" ] || fail "equal sizes give an empty proof"

# User errors (exit 1) and usage errors (exit 2).
expect 1 "$D" prove --consistency 0 5
expect 1 "$D" prove --consistency 6 5
expect 1 "$D" prove --consistency 5 15
expect 1 "$D" prove per_doesnotexist
expect 2 "$D" prove --consistency 5
expect 2 "$D" prove --consistency x 5
expect 2 "$D" prove
expect 2 "$D" checkpoint extra

# Verify checks the tree; a changed stored node is an integrity failure (exit 3).
expect 0 "$D" --json verify
[ "$(json 'J["tree_size"]')" = 14 ] || fail "verify reports the tree size"
ROOT=$(json 'J["root"]')
grep -q "^$ROOT\$" "$T/cp" || fail "verify's root is the checkpoint's"
ok
# While the database is plain SQLite (before the encrypting VFS), change a node directly; with
# the VFS the sqlite3 tool cannot open it and page authentication covers tampering instead.
if command -v sqlite3 >/dev/null &&
    sqlite3 "$DEFTER_VAULT/vault.db" "UPDATE tlog_nodes SET hash = zeroblob(32) WHERE id = 9" 2>/dev/null; then
    expect 3 "$D" verify
    echo "$errout" | grep -q "transparency log" || fail "verify names the tree: $errout"
fi
# Rollback: the header seals the latest tree size and root. A copy of the vault, more records,
# then the old vault.db (without a WAL) copied back: open refuses it (exit 3) and changes nothing.
rm -rf "$T/rb" && cp -a "$DEFTER_VAULT" "$T/rb"
export DEFTER_VAULT="$T/rb"
expect 0 "$D" verify
cp "$DEFTER_VAULT/vault.db" "$T/rb-old.db"
cp "$DEFTER_VAULT/header" "$T/rb-old.header"
expect 0 "$D" add person "name=After the copy"
expect 0 "$D" add person "name=After the copy 2"
cp "$DEFTER_VAULT/header" "$T/rb-new.header"
cp "$DEFTER_VAULT/vault.db" "$T/rb-new.db"
cp "$T/rb-old.db" "$DEFTER_VAULT/vault.db"
rm -f "$DEFTER_VAULT/vault.db-wal" "$DEFTER_VAULT/vault.db-shm"
expect 3 "$D" list
echo "$errout" | grep -q "vault database is older than its header: rolled back or replaced" ||
    fail "rollback message: $errout"
expect 3 "$D" verify
expect 3 "$D" checkpoint
# (every unlock rewrites the header's key slots, issue 14: the refused open kept its sealed state)
cp "$T/rb-new.db" "$DEFTER_VAULT/vault.db"
expect 0 "$D" list
cp "$T/rb-old.db" "$DEFTER_VAULT/vault.db"
expect 3 "$D" list
# The database ahead of its header (a crash between COMMIT and the header write, which kill -9
# in crash.sh also hits): opens fine, and the header catches up, so the old db is refused again.
cp "$T/rb-new.db" "$DEFTER_VAULT/vault.db"
cp "$T/rb-old.header" "$DEFTER_VAULT/header"
expect 0 "$D" --json verify
[ "$(json 'J["tree_size"]')" = 16 ] || fail "db ahead of the header: tree size"
cmp -s "$DEFTER_VAULT/header" "$T/rb-old.header" && fail "the header did not catch up at open"
cp "$T/rb-old.db" "$DEFTER_VAULT/vault.db"
expect 3 "$D" list
# The same with kill -9 right after each commit: whatever instant the kill hits, the vault opens.
cp "$T/rb-new.db" "$DEFTER_VAULT/vault.db"
for i in 1 2 3 4 5 6; do
    "$D" add person "name=Killed $i" >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$((i * 15))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    expect 0 "$D" --json verify
done
export DEFTER_VAULT="$T/vault"

# ---- Witnesses: trusted keys, a policy, cosigned checkpoints (test witnesses sign in Python) ----
S1=$(printf '11%.0s' $(seq 32)); S2=$(printf '22%.0s' $(seq 32))
S3=$(printf '33%.0s' $(seq 32)); SX=$(printf '44%.0s' $(seq 32))
W1=$($V witness-vkey witness.example/one "$S1")
W2=$($V witness-vkey witness.example/two "$S2")
W3=$($V witness-vkey witness.example/three "$S3")
WX=$($V witness-vkey witness.example/stranger "$SX")
cosign() { # cosign NOTE NAME SEED > OUT
    $V cosign "$1" "$2" "$3" 1764000000
}
expect 0 "$D" --json witness list
[ "$(json '(len(J["witnesses"]), J["policy"])')" = "(0, 0)" ] || fail "no witnesses at first"
expect 0 "$D" checkpoint
printf '%s\n' "$out" >"$T/w-cp"
cosign "$T/w-cp" witness.example/one "$S1" >"$T/w-cp1"
expect 1 "$D" checkpoint --import "$T/w-cp1"
echo "$errout" | grep -q "no witness is trusted" || fail "import before any witness: $errout"
expect 1 "$D" witness add "$VKEY"
echo "$errout" | grep -q "not a witness key" || fail "log key as witness: $errout"
expect 1 "$D" witness add "witness.example/one+00000000+BIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
expect 1 "$D" witness add "not a key"
expect 2 "$D" witness add
expect 2 "$D" witness frobnicate
expect 0 "$D" witness add "$W1"
expect 1 "$D" witness add "$W1"
echo "$errout" | grep -q "already trusted" || fail "duplicate witness: $errout"
expect 0 "$D" witness add "$W2"
expect 0 "$D" --json witness add "$W3"
[ "$(json 'J["trusted"]')" = 3 ] || fail "three trusted"
expect 1 "$D" witness policy 4
expect 2 "$D" witness policy two
expect 0 "$D" witness policy 2
expect 0 "$D" --json witness list
[ "$(json '[w["vkey"] for w in J["witnesses"]] == ["'"$W1"'", "'"$W2"'", "'"$W3"'"] and J["policy"] == 2')" = True ] ||
    fail "witness list: $out"
expect 0 "$D" --json log
[ "$(json '[e["action"] for e in J["entries"][-4:]]')" = "['witness_add', 'witness_add', 'witness_add', 'witness_policy']" ] ||
    fail "witness changes are logged operations"
expect 0 "$D" --json verify
[ "$(json 'J["witnesses"]')" = "{'trusted': 3, 'policy': 2, 'checkpoints': 0, 'latest': None, 'policy_met': False}" ] ||
    fail "verify before any cosigned checkpoint: $out"

# One cosignature, then a second one for the same checkpoint: merged, policy met.
expect 0 "$D" checkpoint
printf '%s\n' "$out" >"$T/w-cp"
WSIZE=$(sed -n 2p "$T/w-cp")
cosign "$T/w-cp" witness.example/one "$S1" >"$T/w-cp1"
cosign "$T/w-cp" witness.example/two "$S2" >"$T/w-cp2"
cosign "$T/w-cp1" witness.example/stranger "$SX" >"$T/w-cp1x"
expect 0 "$D" --json checkpoint --import "$T/w-cp1x"
[ "$(json '(J["size"], J["cosignatures"], J["policy_met"])')" = "($WSIZE, 1, False)" ] || fail "first import: $out"
expect 0 "$D" --json checkpoint --import - <"$T/w-cp2"
[ "$(json '(J["cosignatures"], J["added"], J["policy_met"])')" = "(2, 1, True)" ] || fail "second import: $out"
expect 0 "$D" --json checkpoint --import "$T/w-cp1"
[ "$(json '(J["cosignatures"], J["added"])')" = "(2, 0)" ] || fail "re-import adds nothing: $out"
expect 0 "$D" --json verify
[ "$(json '(J["witnesses"]["policy_met"], J["witnesses"]["latest"]["size"], J["witnesses"]["latest"]["cosignatures"])')" = "(True, $WSIZE, 2)" ] ||
    fail "verify after two cosignatures: $out"
[ "$(json '[w["name"] for w in J["witnesses"]["latest"]["cosigned_by"]]')" = "['witness.example/one', 'witness.example/two']" ] ||
    fail "cosigned_by: $out"
expect 0 "$D" verify
echo "$out" | grep -q "ok: witness policy 2 of 3" || fail "verify text: $out"
expect 0 "$D" --json verify
WREPORT=$(json 'J["witnesses"]')

# Refused, with one line and nothing stored.
bad_import() { # STATUS FILE PATTERN
    expect "$1" "$D" checkpoint --import "$2"
    [ "$(printf '%s\n' "$errout" | wc -l)" = 1 ] || fail "one line expected: $errout"
    echo "$errout" | grep -q "$3" || fail "import of $2: $errout (want $3)"
    expect 0 "$D" --json verify
    [ "$(json 'J["witnesses"]')" = "$WREPORT" ] || fail "a refused import changed the witnesses: $out"
}
cosign "$T/w-cp" witness.example/stranger "$SX" >"$T/w-x"
bad_import 1 "$T/w-x" "no cosignature by a trusted witness"
bad_import 1 "$T/w-cp" "no cosignature by a trusted witness"
head -c 60 "$T/w-cp1" >"$T/w-trunc"
bad_import 1 "$T/w-trunc" "."
sed '4d' "$T/w-cp1" >"$T/w-noblank"
bad_import 1 "$T/w-noblank" "."
printf 'hello\n' >"$T/w-junk"
bad_import 1 "$T/w-junk" "."
bad_import 1 "$T/does-not-exist" "cannot open"
grep -v '^— defter.vault' "$T/w-cp1" >"$T/w-nolog"
bad_import 1 "$T/w-nolog" "no signature by this vault"
# A bad cosignature by a trusted witness, a checkpoint altered under the vault's signature: forged.
python3 - "$T/w-cp2" >"$T/w-badsig" <<'PY'
import sys, base64
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
name, b = lines[-2].rsplit(" ", 1)
raw = bytearray(base64.b64decode(b)); raw[-5] ^= 1
lines[-2] = name + " " + base64.b64encode(bytes(raw)).decode()
print("\n".join(lines), end="")
PY
bad_import 3 "$T/w-badsig" "invalid signature"
sed '2s/.*/1/' "$T/w-cp" >"$T/w-edit"
cosign "$T/w-edit" witness.example/one "$S1" >"$T/w-edit1"
bad_import 3 "$T/w-edit1" "invalid signature"
# Another vault's checkpoint: wrong origin.
DEFTER_VAULT="$T/other" "$D" init --kdf interactive >/dev/null 2>&1
DEFTER_VAULT="$T/other" "$D" checkpoint >"$T/w-other" 2>/dev/null
cosign "$T/w-other" witness.example/one "$S1" >"$T/w-other1"
bad_import 1 "$T/w-other1" "another log"
# A fork (a copy of this vault with the same keys and another history) and a copy that is ahead.
cp -a "$DEFTER_VAULT" "$T/fork"
DEFTER_VAULT="$T/fork" "$D" add person "name=Only in the fork" >/dev/null
DEFTER_VAULT="$T/fork" "$D" checkpoint >"$T/w-ahead" 2>/dev/null
cosign "$T/w-ahead" witness.example/one "$S1" >"$T/w-ahead1"
bad_import 3 "$T/w-ahead1" "beyond its log"
expect 0 "$D" add person "name=Only in the original"
expect 0 "$D" --json verify
WREPORT=$(json 'J["witnesses"]')
bad_import 3 "$T/w-ahead1" "inconsistent with the log"
# The kept checkpoint stays consistent as the log grows; an older size is kept beside it.
expect 0 "$D" add person "name=Later"
expect 0 "$D" --json verify
[ "$(json 'J["witnesses"]["latest"]["size"]')" = "$WSIZE" ] || fail "latest cosigned size"
expect 0 "$D" checkpoint --cosigned
printf '%s\n' "$out" >"$T/w-kept"
grep -q stranger "$T/w-kept" && fail "lines of unknown keys are not kept"
$V cosigned "$T/w-kept" "$VKEY" "$W1" "$W2" >/dev/null || fail "the independent verifier disagrees"
$V cosigned "$T/w-kept" "$VKEY" "$W3" 2>/dev/null && fail "w3 never cosigned"
expect 2 "$D" checkpoint --import
expect 2 "$D" checkpoint --cosigned extra
ok

echo "tlog.sh: $checks checks passed"
