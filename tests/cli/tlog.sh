#!/usr/bin/env bash
# tlog.sh - checkpoints and proofs from the CLI, checked by an independent Python verifier;
# bad arguments are user errors; a tampered tree node is found by verify (exit 3).
. "$(dirname "$0")/lib.bash"
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
    sqlite3 "$DEFTER_VAULT/vault.db" "UPDATE tlog_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 2" 2>/dev/null; then
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
cmp -s "$DEFTER_VAULT/header" "$T/rb-new.header" || fail "a refused open changed the header"
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

echo "tlog.sh: $checks checks passed"
