#!/usr/bin/env bash
# coercion.sh - key slots, panic, duress and m-of-n recovery through the command line (issue 14),
# and the header's cost cap and "or damaged header" message (issue 10, item 5).
. "$(dirname "$0")/lib.bash"
D=$DEFTER
here=$(cd "$(dirname "$0")" && pwd)
printf 'duress words\n' >"$T/duress"
printf 'brand new passphrase\n' >"$T/new"

hexof() { xxd -p "$1" | tr -d '\n'; }

# ---- a version-1 vault (made by the code before key slots) opens and is converted ----
cp -a "$here/data/legacy-v1" "$T/legacy" && mkdir "$T/legacy/objects"
[ "$(head -c 8 "$T/legacy/header")" = "DFTVAULT" ] || fail "fixture is not a version-1 vault"
expect 0 "$D" --vault "$T/legacy" list
echo "$out" | grep -q "Ahtem Chiygoz" || fail "legacy records: $out"
[ "$(stat -c %s "$T/legacy/header")" = 4292 ] || fail "legacy header not converted"
[ "$(head -c 8 "$T/legacy/header")" != "DFTVAULT" ] || fail "magic left in clear"
expect 0 "$D" --vault "$T/legacy" verify
expect 0 "$D" --vault "$T/legacy" add person name=After
expect 0 "$D" --vault "$T/legacy" list
[ "$(echo "$out" | wc -l)" -ge 3 ] || fail "after conversion: $out"

# ---- item 5: a damaged key wrap (valid checksum) is not a plain "wrong passphrase" ----
cp -a "$here/data/legacy-v1" "$T/damaged" && mkdir "$T/damaged/objects"
python3 - "$T/damaged/header" <<'PY'
import hashlib, sys
p = bytearray(open(sys.argv[1], 'rb').read())
n = 298 + int.from_bytes(p[294:298], 'big')
p[157] ^= 1
p[n:n + 32] = hashlib.sha256(p[:n]).digest()
open(sys.argv[1], 'wb').write(p)
PY
expect 1 "$D" --vault "$T/damaged" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "damaged wrap: $errout"
# a stored cost above sensitive is refused before any key derivation (integrity, exit 3)
cp -a "$here/data/legacy-v1" "$T/costly" && mkdir "$T/costly/objects"
python3 - "$T/costly/header" <<'PY'
import hashlib, sys
p = bytearray(open(sys.argv[1], 'rb').read())
n = 298 + int.from_bytes(p[294:298], 'big')
p[20:28] = (4 << 30).to_bytes(8, 'big')  # 4 GiB of memory
p[n:n + 32] = hashlib.sha256(p[:n]).digest()
open(sys.argv[1], 'wb').write(p)
PY
expect 3 "$D" --vault "$T/costly" list
echo "$errout" | grep -q "above the sensitive level" || fail "cost cap: $errout"

# ---- key slots: every unlock rewrites the header in place; a wrong one writes it unchanged ----
expect 0 "$D" init --kdf interactive
expect 0 "$D" add person name="Marker Person"
h0=$(hexof "$T/vault/header")
ino=$(stat -c %i "$T/vault/header")
expect 0 "$D" list
h1=$(hexof "$T/vault/header")
[ "$h0" != "$h1" ] || fail "an unlock did not rewrite the header"
[ "$(stat -c %i "$T/vault/header")" = "$ino" ] || fail "the header was replaced, not rewritten"
expect 1 "$D" --passphrase-file "$T/wrong" list
h2=$(hexof "$T/vault/header")
# the whole header comes back byte for byte, the attempt counter (the last 32 bytes) included:
# it moves only while wipe after N is on (coercion_wipe.sh)
[ "$h2" = "$h1" ] || fail "a wrong passphrase changed the header"
[ "$(stat -c %s "$T/vault/header")" = 4292 ] || fail "header size"
expect 1 "$D" --passphrase-file "$T/wrong" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "wrong: $errout"
# nothing readable in clear: no public key of the vault in the header
expect 0 "$D" --json identity
pk=$(json "J['sign_pub']" | base64 -d | xxd -p | tr -d '\n')
case "$(hexof "$T/vault/header")" in *"${pk:0:32}"*) fail "public key in clear" ;; esac

# ---- the same system calls and byte counts for real, decoy, duress and wrong passphrases ----
printf 'decoy words\n' >"$T/decoy"
expect 0 "$D" duress set --action shred --duress-passphrase-file "$T/duress"
expect 1 "$D" duress set --action shred --duress-passphrase-file "$T/pass"
echo "$errout" | grep -q "must differ" || fail "duress = real: $errout"
expect 1 "$D" duress set --action shred+decoy --duress-passphrase-file "$T/duress" --decoy-passphrase-file "$T/decoy"
echo "$errout" | grep -q "make the decoy compartment first" || fail "shred+decoy first: $errout"
expect 2 "$D" duress set --action frobnicate --duress-passphrase-file "$T/duress"
expect 0 "$D" duress set --action decoy --duress-passphrase-file "$T/decoy"
[ -f "$T/vault/vault-1.db" ] || fail "no second compartment database"
expect 1 "$D" duress set --action decoy --duress-passphrase-file "$T/duress"
echo "$errout" | grep -q "exists already" || fail "second decoy: $errout"
# the decoy is seeded with harmless records, and shows only them; the real one only its own
expect 0 "$D" --passphrase-file "$T/decoy" add person name="Harmless Neighbour"
expect 0 "$D" --passphrase-file "$T/decoy" list
echo "$out" | grep -q "Harmless Neighbour" || fail "decoy list: $out"
echo "$out" | grep -q "Marker Person" && fail "the decoy shows a real record"
expect 0 "$D" add person name="Second Real"
expect 0 "$D" list
echo "$out" | grep -q "Harmless" && fail "the real compartment shows a decoy record"
echo "$out" | grep -q "Second Real" || fail "real list: $out"
expect 0 "$D" --passphrase-file "$T/decoy" verify
expect 0 "$D" verify
expect 0 "$D" --passphrase-file "$T/decoy" --json identity
decoy_pk=$(json "J['sign_pub']")
expect 0 "$D" --json identity
[ "$(json "J['sign_pub']")" != "$decoy_pk" ] || fail "the decoy has the real identity"
trace() { # trace NAME PASSFILE: the header's and the databases' first-page calls of one unlock
    strace -f -qq -e trace=openat,read,pread64,write,pwrite64,fdatasync,fsync,flock,close \
        -o "$T/$1.strace" "$D" --passphrase-file "$2" identity >/dev/null 2>&1
    python3 - "$T/$1.strace" >"$T/$1.calls" <<'PY'
import re, sys
fds, out = {}, []
for line in open(sys.argv[1]):
    line = re.sub(r'^\d+\s+', '', line.strip())
    m = re.match(r'(\w+)\((.*)\)\s+=\s+(-?\d+)', line)
    if not m:
        continue
    call, args, ret = m.groups()
    name = re.search(r'"[^"]*/([^/"]+)"', args)
    # plain names (header, vault.db, vault-1.db) or camouflaged ones (NAME.001, .002, .003)
    if call == 'openat' and name and (name.group(1) in ('header',) or
            name.group(1).endswith('.001') or
            (re.search(r'(\.db|\.00[23])"', args) and 'O_RDONLY|O_NOFOLLOW' in args)):
        fds[ret] = name.group(1)
        out.append('openat %s %s = fd' % (name.group(1), args.split(', ')[2]))
        continue
    fd = args.split(',')[0]
    if fd in fds:
        out.append('%s %s %s' % (call, fds[fd], ret))
        if call == 'close':
            del fds[fd]
print('\n'.join(out))
PY
}
cp -a "$T/vault" "$T/vault-copy"
trace real "$T/pass"
trace decoy "$T/decoy"
trace wrong "$T/wrong"
DEFTER_VAULT="$T/vault-copy" trace duress "$T/duress"
grep -q "pwrite64 header" "$T/real.calls" || fail "no header write traced: $(cat "$T/real.calls")"
grep -q "pread64 vault-1.db 4096" "$T/real.calls" || fail "no store read traced: $(cat "$T/real.calls")"
for k in decoy wrong duress; do
    cmp -s "$T/real.calls" "$T/$k.calls" || fail "real and $k traces differ: $(diff "$T/real.calls" "$T/$k.calls")"
    ok
done
# the same in a camouflaged vault with evidence: the same calls as each other, and as the
# plain vault's with its file names in place of the camouflaged ones
expect 0 "$D" --vault "$T/camo" init --kdf interactive --camouflage holiday
expect 0 "$D" --vault "$T/camo" --json add person name="Camouflaged Person"
head -c 40000 /dev/urandom >"$T/camo-photo.jpg"
expect 0 "$D" --vault "$T/camo" attach "$(json "J['id']")" "$T/camo-photo.jpg"
expect 0 "$D" --vault "$T/camo" duress set --action shred --duress-passphrase-file "$T/duress"
expect 0 "$D" --vault "$T/camo" duress set --action decoy --duress-passphrase-file "$T/decoy"
expect 0 "$D" --vault "$T/camo" --passphrase-file "$T/decoy" add person name="Harmless Neighbour"
cp -a "$T/camo" "$T/camo-copy"
DEFTER_VAULT="$T/camo" trace creal "$T/pass"
DEFTER_VAULT="$T/camo" trace cdecoy "$T/decoy"
DEFTER_VAULT="$T/camo" trace cwrong "$T/wrong"
DEFTER_VAULT="$T/camo-copy" trace cduress "$T/duress"
grep -q "pwrite64 holiday.001" "$T/creal.calls" || fail "no camouflaged header write traced: $(cat "$T/creal.calls")"
grep -q "pread64 holiday.003 4096" "$T/creal.calls" || fail "no camouflaged store read traced"
for k in cdecoy cwrong cduress; do
    cmp -s "$T/creal.calls" "$T/$k.calls" || fail "camouflaged real and $k traces differ: $(diff "$T/creal.calls" "$T/$k.calls")"
    ok
done
sed 's/holiday\.001/header/; s/holiday\.002/vault.db/; s/holiday\.003/vault-1.db/' "$T/creal.calls" >"$T/creal.renamed"
cmp -s "$T/real.calls" "$T/creal.renamed" || fail "camouflaged and plain traces differ: $(diff "$T/real.calls" "$T/creal.renamed")"
ok
expect 1 "$D" --vault "$T/camo-copy" list
expect 0 "$D" --vault "$T/camo-copy" --passphrase-file "$T/decoy" list
# the duress passphrase answered like a wrong one; the real one opens nothing any more; the
# decoy still opens
expect 1 "$D" --vault "$T/vault-copy" list
expect 1 "$D" --vault "$T/vault-copy" --passphrase-file "$T/duress" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "duress: $errout"
expect 0 "$D" --vault "$T/vault-copy" --passphrase-file "$T/decoy" list
echo "$out" | grep -q "Harmless Neighbour" || fail "decoy after shred: $out"

# shred+decoy: the duress passphrase drops the real slots, then opens the decoy
rm -rf "$T/sd" && cp -a "$T/vault" "$T/sd"
printf 'shred then decoy\n' >"$T/duress2"
expect 1 "$D" --vault "$T/sd" duress set --action shred+decoy --duress-passphrase-file "$T/duress2" --decoy-passphrase-file "$T/wrong"
echo "$errout" | grep -q "opens no decoy compartment" || fail "shred+decoy, wrong decoy: $errout"
expect 0 "$D" --vault "$T/sd" duress set --action shred+decoy --duress-passphrase-file "$T/duress2" --decoy-passphrase-file "$T/decoy"
cp "$T/sd/header" "$T/sd-before"
expect 0 "$D" --vault "$T/sd" --passphrase-file "$T/duress2" list
echo "$out" | grep -q "Harmless Neighbour" || fail "shred+decoy opens: $out"
echo "$out" | grep -q "Marker Person" && fail "shred+decoy shows a real record"
expect 1 "$D" --vault "$T/sd" list
expect 0 "$D" --vault "$T/sd" --passphrase-file "$T/duress2" list
expect 0 "$D" --vault "$T/sd" --passphrase-file "$T/decoy" verify
# the slots that changed in that unlock (three) leave no 16-byte window behind in the folder
python3 - "$T/sd-before" "$T/sd" <<'PY' || fail "an old slot survived shred+decoy"
import os, sys
old = open(sys.argv[1], 'rb').read()
dirs = sys.argv[2]
files = {}
for root, _, fs in os.walk(dirs):
    for f in fs:
        files[f] = open(os.path.join(root, f), 'rb').read()
new = files['header']
changed = 0
for i in range(8):
    a, b = 16 + i * 240, 16 + (i + 1) * 240
    if old[a:b] != new[a:b]:
        changed += 1
        wins = {old[j:j + 16] for j in range(a, b - 15)}
        for name, data in files.items():
            for j in range(0, max(0, len(data) - 15)):
                if data[j:j + 16] in wins:
                    sys.exit('slot %d at %s:%d' % (i, name, j))
if changed < 3:
    sys.exit('only %d slots changed' % changed)
PY
ok

# ---- recovery: m of n ----
mkdir "$T/qr"
expect 0 "$D" recovery split --threshold 3 --shares 5 --qr-dir "$T/qr"
echo "$out" | grep -q "^share 1 of 5 (any 3 open the vault)" || fail "split output: $out"
[ -s "$T/qr/share-5.svg" ] || fail "no QR file"
mkdir "$T/qr2"
expect 0 "$D" --json recovery split --threshold 3 --shares 5 --qr-dir "$T/qr2"
for i in 1 2 3 4 5; do
    json "J['shares'][$i-1]['words']" >"$T/share$i"
done
cp -a "$T/vault" "$T/after-split"
# the printed QR codes decode to the same words
for i in 1 2 3 4 5; do
    got=$(zbarimg -q --raw -Sdisable -Sqrcode.enable "$T/qr2/share-$i.svg" 2>/dev/null) # QR only: other symbologies give false reads
    [ "$got" = "$(cat "$T/share$i")" ] || fail "QR $i decodes to '$got'"
    ok
done
# every 3 of 5 recovers; every 2 of 5 fails
combos3="1,2,3 1,2,4 1,2,5 1,3,4 1,3,5 1,4,5 2,3,4 2,3,5 2,4,5 3,4,5"
for c in $combos3; do
    rm -rf "$T/r" && cp -a "$T/after-split" "$T/r"
    args=()
    for i in ${c//,/ }; do args+=(--share-file "$T/share$i"); done
    expect 0 "$D" --vault "$T/r" recovery combine "${args[@]}" --new-passphrase-file "$T/new" --kdf interactive
    expect 0 "$D" --vault "$T/r" --passphrase-file "$T/new" list
    echo "$out" | grep -q "Marker Person" || fail "recovered vault $c: $out"
done
for c in 1,2 1,3 1,4 1,5 2,3 2,4 2,5 3,4 3,5 4,5; do
    args=()
    for i in ${c//,/ }; do args+=(--share-file "$T/share$i"); done
    expect 1 "$D" --vault "$T/after-split" recovery combine "${args[@]}" --new-passphrase-file "$T/new"
    echo "$errout" | grep -q "3 shares are needed, 2 given" || fail "2 of 5 ($c): $errout"
done
# a typo is caught and named
python3 - "$T/share2" >"$T/typo" <<'PY'
import sys
w = open(sys.argv[1]).read().split()
w[6] = 'zoo' if w[6] != 'zoo' else 'zone'
print(' '.join(w))
PY
expect 1 "$D" --vault "$T/after-split" recovery combine --share-file "$T/share1" --share-file "$T/typo" --share-file "$T/share3" --new-passphrase-file "$T/new"
echo "$errout" | grep -q "share 2, word 7 .* is wrong" || fail "typo: $errout"
sed 's/^[a-z]* /qqqq /' "$T/share3" >"$T/notaword"
expect 1 "$D" --vault "$T/after-split" recovery combine --share-file "$T/share1" --share-file "$T/share2" --share-file "$T/notaword" --new-passphrase-file "$T/new"
echo "$errout" | grep -q "share 3, word 1 'qqqq' is not in the word list" || fail "not a word: $errout"
# all words from standard input, in the printed form (titles and QR lines are skipped)
rm -rf "$T/r" && cp -a "$T/after-split" "$T/r"
{ echo "share 4 of 5 (any 3 open the vault) - vault 0000, split 0000"; cat "$T/share4" "$T/share5" "$T/share1"; } >"$T/all"
expect 0 "$D" --vault "$T/r" recovery combine --new-passphrase-file "$T/new" --kdf interactive <"$T/all"
# a share of another vault is refused
expect 0 "$D" --vault "$T/other" init --kdf interactive
expect 0 "$D" --vault "$T/other" --json recovery split --threshold 2 --shares 2 --no-qr
json "J['shares'][0]['words']" >"$T/othershare"
expect 1 "$D" --vault "$T/after-split" recovery combine --share-file "$T/share1" --share-file "$T/share2" --share-file "$T/othershare" --new-passphrase-file "$T/new"
echo "$errout" | grep -q "share 3 is a share of another vault" || fail "other vault: $errout"
# rotate voids the old shares
expect 0 "$D" --vault "$T/after-split" recovery rotate
expect 1 "$D" --vault "$T/after-split" recovery combine --share-file "$T/share1" --share-file "$T/share2" --share-file "$T/share3" --new-passphrase-file "$T/new"
echo "$errout" | grep -q "do not open this vault" || fail "rotated: $errout"
expect 0 "$D" --vault "$T/after-split" list

# ---- panic ----
rm -rf "$T/p" && cp -a "$T/after-split" "$T/p"
expect 0 "$D" --vault "$T/p" recovery split --threshold 2 --shares 3 --no-qr
cp "$T/p/header" "$T/p-header-before"
expect 0 "$D" --vault "$T/p" panic
echo "$out" | grep -q "^wiped" || fail "panic: $out"
expect 1 "$D" --vault "$T/p" list
[ "$(stat -c %s "$T/p/header")" = 4292 ] || fail "panic changed the header's size"
# no 16-byte window of the header before it is left anywhere in the folder
python3 - "$T/p-header-before" "$T/p" <<'PY' || fail "a window of an old slot survived the panic"
import os, sys
old = open(sys.argv[1], 'rb').read()
wins = {old[i:i + 16] for i in range(0, len(old) - 15)}
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        data = open(os.path.join(root, f), 'rb').read()
        for i in range(0, max(0, len(data) - 15)):
            if data[i:i + 16] in wins:
                sys.exit('%s at %d' % (f, i))
PY
ok
# a running `defter ui` of the vault is stopped
rm -rf "$T/u" && cp -a "$T/after-split" "$T/u"
("$D" --vault "$T/u" ui >"$T/ui.out" 2>"$T/ui.err" & echo $! >"$T/ui.pid")
ui=$(cat "$T/ui.pid")
# no time limit (a loaded machine): until it prints its URL or exits
while ! grep -q "^http" "$T/ui.out" && kill -0 "$ui" 2>/dev/null; do sleep 0.05; done
grep -q "^http" "$T/ui.out" || fail "ui did not start: $(cat "$T/ui.err")"
expect 0 "$D" --vault "$T/u" panic
echo "$out" | grep -q "stopped defter process $ui" || fail "panic did not stop the ui: $out"
# panic killed it: it is gone once wait returns (it is this shell's grandchild: poll)
for _ in $(seq 1 1200); do kill -0 "$ui" 2>/dev/null || break; sleep 0.05; done
kill -0 "$ui" 2>/dev/null && fail "ui still running"
expect 1 "$D" --vault "$T/u" list
# also when the ui opened the decoy compartment
rm -rf "$T/u" && cp -a "$T/vault" "$T/u"
("$D" --vault "$T/u" --passphrase-file "$T/decoy" ui >"$T/ui.out" 2>"$T/ui.err" & echo $! >"$T/ui.pid")
ui=$(cat "$T/ui.pid")
# no time limit (a loaded machine): until it prints its URL or exits
while ! grep -q "^http" "$T/ui.out" && kill -0 "$ui" 2>/dev/null; do sleep 0.05; done
grep -q "^http" "$T/ui.out" || fail "decoy ui did not start: $(cat "$T/ui.err")"
expect 0 "$D" --vault "$T/u" panic
echo "$out" | grep -q "stopped defter process $ui" || fail "panic did not stop the decoy ui: $out"
expect 1 "$D" --vault "$T/u" --passphrase-file "$T/decoy" list
# kill -9 at random instants: once "wiped" is printed, the data never opens again
for round in $(seq 1 12); do
    rm -rf "$T/k" && cp -a "$T/after-split" "$T/k"
    "$D" --vault "$T/k" panic >"$T/k.out" 2>/dev/null &
    pid=$!
    sleep "0.00$((RANDOM % 9))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if grep -q "^wiped" "$T/k.out"; then
        expect 1 "$D" --vault "$T/k" list
    fi
done
# panic of a folder without a vault says so and writes nothing
expect 1 "$D" --vault "$T/novault" panic
[ ! -e "$T/novault" ] || fail "panic created a folder"
echo "coercion: $checks checks passed"
