#!/usr/bin/env bash
# coercion_wipe.sh - wipe after N wrong passphrases (issue 14): off by default, N from 10 to
# 100; while on, the counter moves at every attempt (right or wrong) and only it; while off, a
# wrong passphrase leaves the header byte for byte; refusals change nothing.
. "$(dirname "$0")/lib.bash"
D=$DEFTER
printf 'decoy words\n' >"$T/decoy"
printf 'new words\n' >"$T/new"
wrongs() { # wrongs N [VAULT]: N wrong passphrases
    for _ in $(seq 1 "$1"); do
        "$D" --vault "${2:-$T/vault}" --passphrase-file "$T/wrong" list >/dev/null 2>&1 && fail "a wrong passphrase opened"
    done
    ok
}
hexof() { xxd -p "$1" | tr -d '\n'; }

expect 0 "$D" init --kdf interactive
expect 0 "$D" add person name="Real Person"
# off by default: many wrong passphrases change nothing, not a byte of the header
h_off=$(hexof "$T/vault/header")
wrongs 12
[ "$(hexof "$T/vault/header")" = "$h_off" ] || fail "wrong passphrases changed the header (off)"
expect 0 "$D" list
echo "$out" | grep -q "Real Person" || fail "off: $out"

# ---- refusals: usage errors (exit 2) and a wrong passphrase (exit 1) set nothing ----
expect 2 "$D" duress wipe-after 9
[ "$(head -1 <<<"$errout")" = "defter: wipe-after takes a number from 10 to 100, or 'off' (got '9')" ] || fail "9: $errout"
expect 2 "$D" duress wipe-after 101
expect 2 "$D" duress wipe-after 1e1
expect 2 "$D" duress wipe-after -10
expect 2 "$D" duress wipe-after
echo "$errout" | grep -q "expected 'wipe-after N' (10 to 100) or 'wipe-after off'" || fail "none: $errout"
expect 1 "$D" --passphrase-file "$T/wrong" duress wipe-after 10
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "wrong: $errout"
wrongs 12
expect 0 "$D" list

# ---- on: N wrong in a row wipe; a right one before that starts the count again ----
expect 0 "$D" duress wipe-after 10
echo "$out" | grep -q "^wipe after 10 wrong passphrases" || fail "set: $out"
wrongs 9
expect 0 "$D" list
wrongs 9
expect 0 "$D" list
# a wrong attempt writes the slots back unchanged and moves only the counter (off: nothing)
h0=$(hexof "$T/vault/header")
wrongs 1
h1=$(hexof "$T/vault/header")
[ "${h1:0:8520}" = "${h0:0:8520}" ] || fail "a wrong attempt changed a slot"
[ "${h1:8520}" != "${h0:8520}" ] || fail "a wrong attempt left the counter"
# a copy taken now (before the wipe) keeps working with the passphrase: documented limit
cp -a "$T/vault" "$T/copy"
expect 0 "$D" --json recovery split --threshold 2 --shares 2 --no-qr
json "J['shares'][0]['words']" >"$T/s1"
json "J['shares'][1]['words']" >"$T/s2"
wrongs 10
expect 1 "$D" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "after the wipe: $errout"
expect 1 "$D" list
expect 1 "$D" duress wipe-after off
# the data stays as ciphertext; the folder keeps its files
[ -s "$T/vault/vault.db" ] || fail "the wipe removed data"
expect 0 "$D" --vault "$T/copy" list
echo "$out" | grep -q "Real Person" || fail "copy: $out"
# recovery shares still open it (deliberate: an accidental wipe is recoverable by M holders)
expect 0 "$D" recovery combine --share-file "$T/s1" --share-file "$T/s2" --new-passphrase-file "$T/new" --kdf interactive
expect 0 "$D" --passphrase-file "$T/new" list
echo "$out" | grep -q "Real Person" || fail "recovered: $out"
# after recovery the setting is off (a new passphrase slot)
wrongs 12
expect 0 "$D" --passphrase-file "$T/new" list

# ---- off again: the count no longer matters ----
expect 0 "$D" --passphrase-file "$T/new" duress wipe-after 10
expect 0 "$D" --passphrase-file "$T/new" duress wipe-after off
echo "$out" | grep -q "^wipe after wrong passphrases: off" || fail "off: $out"
wrongs 12
expect 0 "$D" --passphrase-file "$T/new" list

# ---- it survives a passphrase change; decoy unlocks count as attempts ----
expect 0 "$D" --vault "$T/copy" duress wipe-after 10
expect 0 "$D" --vault "$T/copy" passwd --kdf interactive --new-passphrase-file "$T/new"
wrongs 9 "$T/copy"
expect 0 "$D" --vault "$T/copy" --passphrase-file "$T/new" list
expect 0 "$D" --vault "$T/copy" --passphrase-file "$T/new" duress set --action decoy --duress-passphrase-file "$T/decoy"
for _ in $(seq 1 10); do
    expect 0 "$D" --vault "$T/copy" --passphrase-file "$T/decoy" list
done
expect 1 "$D" --vault "$T/copy" --passphrase-file "$T/new" list
# the decoy is not wiped
expect 0 "$D" --vault "$T/copy" --passphrase-file "$T/decoy" list
echo "coercion_wipe: $checks checks passed"
