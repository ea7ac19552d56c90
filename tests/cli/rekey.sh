#!/usr/bin/env bash
# rekey.sh - `defter passwd --rekey`: a new master key. After it the vault opens with the new
# passphrase only, holds the same records, log and evidence, and a copy of the old header with
# the old passphrase opens nothing. A SIGKILL at every step of the procedure (the test hook
# DEFTER_TEST_REKEY_KILL=N), and at pseudo-random instants (fixed seeds), leaves a vault that
# opens with the old or the new passphrase and verifies, with nothing of the other left behind.
. "$(dirname "$0")/lib.bash"
D=$DEFTER
printf 'the new passphrase\n' >"$T/new"
expect 0 "$D" init --kdf interactive
expect 0 "$D" --json add person "name=Server Mustafayev"
P=$(json 'J["id"]')
expect 0 "$D" --json add case "title=case 11"
C=$(json 'J["id"]')
expect 0 "$D" link "$C" "$P" --role defendant
head -c 300000 /dev/urandom >"$T/f1"
head -c 5000 /dev/urandom >"$T/f2"
expect 0 "$D" --json attach "$C" "$T/f1" "$T/f2"
E=$(json 'J[0]["id"]')
expect 0 "$D" passwd --help
grep -q "rewraps only" <<<"$out" || fail "passwd --help does not say it rewraps only"
grep -q -- "--rekey" <<<"$out" || fail "passwd --help does not offer --rekey"

fingerprint() { # records, log size and the tree root of the vault, with passphrase file $1
    DEFTER_PASSPHRASE_FILE=$1 "$D" --json list
    DEFTER_PASSPHRASE_FILE=$1 "$D" --json log | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'
    DEFTER_PASSPHRASE_FILE=$1 "$D" checkpoint | sed -n 2,3p
}
before=$(fingerprint "$T/pass")
cp -a "$DEFTER_VAULT" "$T/fixture"
cp "$DEFTER_VAULT/header" "$T/old-header"

# a whole rekey
expect 0 "$D" passwd --rekey --new-passphrase-file "$T/new"
expect 1 "$D" list
[ "$(fingerprint "$T/new")" = "$before" ] || fail "records, log or tree changed across the rekey"
ok
DEFTER_PASSPHRASE_FILE="$T/new" expect 0 "$D" verify
DEFTER_PASSPHRASE_FILE="$T/new" expect 0 "$D" extract "$E" "$T/out"
cmp -s "$T/out" "$T/f1" || fail "extract after rekey differs"
ok
find "$DEFTER_VAULT" -name '*.rekey' -o -name rekey.pending | grep -q . && fail "rekey left files"
ok
# the old header (and old passphrase) opens nothing now
cp "$T/old-header" "$DEFTER_VAULT/header"
expect 3 "$D" verify
expect 3 "$D" list
expect 3 "$D" extract "$E" "$T/out2"
[ ! -e "$T/out2" ] || fail "old header extracted evidence"
ok

# settled: opens with exactly one of the passphrases, verifies, same content, nothing left over
check_settled() {
    local what=$1 which
    if DEFTER_PASSPHRASE_FILE="$T/pass" "$D" verify >/dev/null 2>"$T/e1"; then
        which=old
        DEFTER_PASSPHRASE_FILE="$T/new" "$D" list >/dev/null 2>&1 && fail "$what: both passphrases open"
    elif DEFTER_PASSPHRASE_FILE="$T/new" "$D" verify >/dev/null 2>"$T/e2"; then
        which=new
    else
        fail "$what: neither passphrase opens: $(cat "$T/e1" "$T/e2")"
    fi
    [ "$(fingerprint "$T/$([ $which = old ] && echo pass || echo new)")" = "$before" ] ||
        fail "$what ($which): content changed"
    find "$DEFTER_VAULT" -name '*.rekey' -o -name rekey.pending -o -name '*.tmp*' | grep -q . &&
        fail "$what ($which): files left: $(find "$DEFTER_VAULT" -name '*.rekey*' -o -name 'rekey.pending')"
    ok
    echo "$which"
}
seen_old=0
seen_new=0
for n in $(seq 1 12); do
    rm -rf "$DEFTER_VAULT"
    cp -a "$T/fixture" "$DEFTER_VAULT"
    (DEFTER_TEST_REKEY_KILL=$n "$D" passwd --rekey --new-passphrase-file "$T/new" >/dev/null) 2>/dev/null
    st=$?
    [ $st = 137 ] || [ $st = 0 ] || fail "kill at step $n: exit $st"
    w=$(check_settled "kill at step $n") || exit 1
    [ "$w" = old ] && seen_old=$((seen_old + 1))
    [ "$w" = new ] && seen_new=$((seen_new + 1))
done
[ $seen_old -ge 2 ] && [ $seen_new -ge 2 ] || fail "steps did not cover both outcomes ($seen_old old, $seen_new new)"
ok
# kills at pseudo-random instants (fixed seeds, bounded)
for seed in 1 2 3 4 5 6; do
    rm -rf "$DEFTER_VAULT"
    cp -a "$T/fixture" "$DEFTER_VAULT"
    RANDOM=$seed
    delay=$(printf '0.%03d' $((RANDOM % 400)))
    "$D" passwd --rekey --new-passphrase-file "$T/new" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    check_settled "kill after ${delay}s (seed $seed)" >/dev/null || exit 1
done
echo "rekey.sh: $checks checks passed ($seen_old steps left the old vault, $seen_new the new)"
