#!/usr/bin/env bash
# contract_coercion.sh - the commands of issue 14 run exactly as the issue writes them:
# `defter duress set --action decoy|shred|shred+decoy`, `defter panic`,
# `defter recovery split --threshold M --shares N`, `defter recovery combine`,
# `defter recovery rotate`. The vault and its passphrase come from $DEFTER_VAULT and
# $DEFTER_PASSPHRASE_FILE; the second passphrases are typed at the prompts on a terminal
# (tests/cli/pty_run.py), as a person would, so no option is added to the written forms.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
PTY="python3 $(dirname "$0")/pty_run.py"
export DEFTER_PASSPHRASE_FILE="$T/pass"
printf 'decoy words here\n' >"$T/decoy"
printf 'new words after combine\n' >"$T/new"
run_pty() { # run_pty [PROMPT ANSWER]... -- COMMAND...: $out, $rc
    out=$($PTY "$@" 2>"$T/pty.err")
    rc=$?
}
WORDS_PY='
import re, sys
n = int(sys.argv[1])
lines = sys.stdin.read().split("\n")
for i, line in enumerate(lines):
    if line.startswith("share %d of " % n):
        ws = " ".join(l.strip() for l in lines[i + 1:i + 5]).split()
        assert len(ws) == 32 and all(re.fullmatch("[a-z]+", w) for w in ws), ws
        print(" ".join(ws))
        break
else:
    sys.exit("no share %d" % n)
'
words() { # words N: the 32 words of share N of a split printed in $out
    printf '%s\n' "$out" | python3 -c "$WORDS_PY" "$1"
}

# ---- duress set --action decoy: the decoy passphrase is asked for twice ----
export DEFTER_VAULT="$T/vault"
expect 0 "$D" init --kdf interactive
expect 0 "$D" add person name="Real Client"
run_pty "Decoy passphrase: " "decoy words here" "Repeat the passphrase: " "decoy words here" \
    -- "$D" duress set --action decoy
[ "$rc" = 0 ] || fail "duress set --action decoy: $rc $out $(cat "$T/pty.err")"
ok
expect 0 "$D" --passphrase-file "$T/decoy" add person name="Harmless Neighbour"
expect 0 "$D" --passphrase-file "$T/decoy" list
echo "$out" | grep -q "Harmless Neighbour" || fail "decoy list: $out"
echo "$out" | grep -q "Real Client" && fail "the decoy shows a real record"
expect 0 "$D" list
echo "$out" | grep -q "Real Client" || fail "real list: $out"

# ---- duress set --action shred: the duress passphrase drops the real keys ----
run_pty "Duress passphrase: " "duress words here" "Repeat the passphrase: " "duress words here" \
    -- "$D" duress set --action shred
[ "$rc" = 0 ] || fail "duress set --action shred: $rc $out $(cat "$T/pty.err")"
ok
cp -a "$T/vault" "$T/before-shred"
printf 'duress words here\n' >"$T/duress"
expect 1 "$D" --passphrase-file "$T/duress" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "shred answer: $errout"
expect 1 "$D" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "after shred: $errout"

# ---- duress set --action shred+decoy: the duress passphrase, then the decoy's ----
export DEFTER_VAULT="$T/sd"
expect 0 "$D" init --kdf interactive
expect 0 "$D" add person name="Real Client"
run_pty "Decoy passphrase: " "decoy words here" "Repeat the passphrase: " "decoy words here" \
    -- "$D" duress set --action decoy
[ "$rc" = 0 ] || fail "decoy for shred+decoy: $rc $out"
run_pty "Duress passphrase: " "duress words here" "Repeat the passphrase: " "duress words here" \
    "Decoy passphrase: " "decoy words here" "Repeat the passphrase: " "decoy words here" \
    -- "$D" duress set --action shred+decoy
[ "$rc" = 0 ] || fail "duress set --action shred+decoy: $rc $out $(cat "$T/pty.err")"
ok
expect 0 "$D" --passphrase-file "$T/duress" list
echo "$out" | grep -q "Real Client" && fail "shred+decoy showed a real record"
expect 1 "$D" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "after shred+decoy: $errout"

# ---- recovery split --threshold M --shares N, combine, rotate ----
export DEFTER_VAULT="$T/rec"
expect 0 "$D" init --kdf interactive
expect 0 "$D" add person name="Real Client"
expect 0 "$D" recovery split --threshold 2 --shares 3
echo "$out" | grep -q "^share 1 of 3 (any 2 open the vault)" || fail "split: $out"
for i in 1 2 3; do
    words "$i" >"$T/share$i" || fail "share $i not printed as 32 words"
done
ok
cp -a "$T/rec" "$T/rec-copy"
# combine reads the shares on standard input and asks for the new passphrase twice
cat "$T/share1" "$T/share3" >"$T/two"
run_pty "New passphrase: " "new words after combine" "Repeat the passphrase: " "new words after combine" \
    -- bash -c 'exec "$0" recovery combine <"$1"' "$D" "$T/two"
[ "$rc" = 0 ] || fail "recovery combine: $rc $out $(cat "$T/pty.err")"
ok
expect 1 "$D" list
expect 0 "$D" --passphrase-file "$T/new" list
echo "$out" | grep -q "Real Client" || fail "after combine: $out"
# one share is not enough, and changes nothing
export DEFTER_VAULT="$T/rec-copy"
h0=$(sha256sum <"$T/rec-copy/header")
run_pty "New passphrase: " "new words after combine" "Repeat the passphrase: " "new words after combine" \
    -- bash -c 'exec "$0" recovery combine <"$1"' "$D" "$T/share2"
[ "$rc" = 1 ] || fail "one share of two combined: $rc $out"
[ "$(sha256sum <"$T/rec-copy/header")" = "$h0" ] || fail "a refused combine changed the header"
ok
# rotate voids the shares given out
expect 0 "$D" recovery rotate
run_pty "New passphrase: " "new words after combine" "Repeat the passphrase: " "new words after combine" \
    -- bash -c 'exec "$0" recovery combine <"$1"' "$D" "$T/two"
[ "$rc" = 1 ] || fail "old shares combined after rotate: $rc $out"
ok
expect 0 "$D" list

# ---- panic: no passphrase; the vault never opens again ----
unset DEFTER_PASSPHRASE_FILE
export DEFTER_VAULT="$T/rec-copy"
expect 0 "$D" panic
echo "$out" | grep -q "^wiped" || fail "panic: $out"
expect 1 "$D" --passphrase-file "$T/pass" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "after panic: $errout"
echo "contract_coercion: $checks checks passed"
