#!/usr/bin/env bash
# coercion_decisions.sh - the three decisions of issue 14 that docs/coercion.md states
# ("Decisions"), each pinned by a test:
#  1. every opening of the decoy counts as an attempt against the real compartment's
#     wipe-after count (the decoy cannot restart it), and so does every wrong passphrase;
#  2. recovery shares still open the vault after wipe-after fired (an accidental wipe is undone
#     by M holders);
#  3. `verify` checks the compartment that the passphrase opened, and only it: with the decoy
#     passphrase it prints a clean, ordinary vault, and with the real one its output has the
#     same shape whether or not a decoy exists.
. "$(dirname "$0")/lib.bash"
D=$DEFTER
printf 'decoy words\n' >"$T/decoy"
printf 'new words\n' >"$T/new"
decoys() { # decoys N: N openings of the decoy, each one shows the decoy
    for _ in $(seq 1 "$1"); do
        "$D" --passphrase-file "$T/decoy" list | grep -q "Harmless Neighbour" || fail "the decoy did not open"
    done
    ok
}
wrongs() { # wrongs N: N wrong passphrases
    for _ in $(seq 1 "$1"); do
        "$D" --passphrase-file "$T/wrong" list >/dev/null 2>&1 && fail "a wrong passphrase opened"
    done
    ok
}
real_opens() {
    expect 0 "$D" list
    echo "$out" | grep -q "Real Person" || fail "real: $out"
}
# shape OUTPUT: the verify output with every number and base64 value replaced
shape() { sed -E 's/[A-Za-z0-9+\/]{43}=/B64/g; s/[0-9]+/N/g' <<<"$1"; }
keys() { python3 -c 'import json,sys
def k(o, p=""):
    if isinstance(o, dict):
        for x in sorted(o):
            print(p + x)
            k(o[x], p + x + ".")
k(json.load(sys.stdin))' <<<"$1"; }

expect 0 "$D" init --kdf interactive
expect 0 "$D" --json add person name="Real Person"
rid=$(json "J['id']")
head -c 30000 /dev/urandom >"$T/real.bin"
expect 0 "$D" attach "$rid" "$T/real.bin"

# ---- 3. verify: one compartment, the one opened; no word about another ----
expect 0 "$D" verify
v_real_before=$(shape "$out")
expect 0 "$D" --json verify
j_real_before=$(keys "$out")
expect 0 "$D" duress set --action decoy --duress-passphrase-file "$T/decoy"
expect 0 "$D" verify
[ "$(shape "$out")" = "$v_real_before" ] || fail "real verify changed shape once a decoy exists: $out"
expect 0 "$D" --json verify
[ "$(keys "$out")" = "$j_real_before" ] || fail "real verify JSON changed once a decoy exists"
expect 0 "$D" --passphrase-file "$T/decoy" --json add person name="Harmless Neighbour"
did=$(json "J['id']")
head -c 20000 /dev/urandom >"$T/decoy.bin"
expect 0 "$D" --passphrase-file "$T/decoy" attach "$did" "$T/decoy.bin"
# the decoy's verify: clean, its own record and file only, though objects/ holds the real one's
expect 0 "$D" --passphrase-file "$T/decoy" verify
v_decoy=$out
[ "$(printf '%s\n' "$v_decoy" | head -1)" = "ok: 2 envelopes, 2 operations; pages, signatures and view verified" ] ||
    fail "decoy verify: $v_decoy"
[ "$(printf '%s\n' "$v_decoy" | tail -1)" = "ok: 1 evidence objects decrypted and rehashed" ] ||
    fail "decoy verify evidence: $v_decoy"
[ -z "$errout" ] || fail "decoy verify wrote to stderr: $errout"
[ "$(shape "$v_decoy")" = "$v_real_before" ] || fail "decoy verify is shaped unlike a vault's: $v_decoy"
expect 0 "$D" --passphrase-file "$T/decoy" --json verify
[ "$(keys "$out")" = "$j_real_before" ] || fail "decoy verify JSON is shaped unlike a vault's: $out"
[ "$(json "J['ok']")" = True ] || fail "decoy verify not ok: $out"
for w in compartment decoy dormant second other duress hidden; do
    grep -qi "$w" <<<"$v_decoy$out" && fail "decoy verify says '$w'"
done
ok
# the same shape as a vault that never had a decoy, with the same content
expect 0 "$D" --vault "$T/single" init --kdf interactive
expect 0 "$D" --vault "$T/single" --json add person name="Harmless Neighbour"
expect 0 "$D" --vault "$T/single" attach "$(json "J['id']")" "$T/decoy.bin"
expect 0 "$D" --vault "$T/single" verify
[ "$out" = "$v_decoy" ] || fail "decoy verify differs from a single vault's: $v_decoy / $out"
# the test can fail: a damaged decoy store fails the decoy's verify
cp "$T/vault/vault-1.db" "$T/db1-saved"
printf '\x55' | dd of="$T/vault/vault-1.db" bs=1 seek=5000 conv=notrunc status=none
"$D" --passphrase-file "$T/decoy" verify >/dev/null 2>&1 && fail "a damaged decoy verified"
cp "$T/db1-saved" "$T/vault/vault-1.db"
expect 0 "$D" --passphrase-file "$T/decoy" verify
# the real verify checks only its own compartment: unchanged by the decoy's records and files
expect 0 "$D" verify
[ "$(shape "$out")" = "$v_real_before" ] || fail "real verify after decoy use: $out"
echo "$out" | grep -q "^ok: 1 evidence objects" || fail "real verify counted the decoy's file: $out"

# ---- 1. decoy openings count against the real compartment's wipe-after ----
expect 0 "$D" --json recovery split --threshold 2 --shares 2 --no-qr
json "J['shares'][0]['words']" >"$T/s1"
json "J['shares'][1]['words']" >"$T/s2"
expect 0 "$D" duress wipe-after 10
# nine decoy openings, then the real one: it opens and starts the count again
decoys 9
real_opens
# decoy and wrong attempts add up: 5 + 4 = 9, still open
decoys 5
wrongs 4
real_opens
# 5 + 5 = 10: the real compartment is wiped, the decoy goes on opening
decoys 5
wrongs 5
expect 1 "$D" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "after 10: $errout"
decoys 1
expect 0 "$D" --passphrase-file "$T/decoy" verify
[ "$out" = "$v_decoy" ] || fail "the decoy changed with the wipe: $out"

# ---- 2. recovery shares still open it after wipe-after fired ----
expect 0 "$D" recovery combine --share-file "$T/s1" --share-file "$T/s2" --new-passphrase-file "$T/new" --kdf interactive
expect 0 "$D" --passphrase-file "$T/new" list
echo "$out" | grep -q "Real Person" || fail "recovered: $out"
expect 0 "$D" --passphrase-file "$T/new" verify
echo "$out" | grep -q "^ok: 1 evidence objects" || fail "recovered verify: $out"
# and the decoy is still there, untouched
decoys 1
echo "coercion_decisions: $checks checks passed"
