#!/usr/bin/env bash
# coercion_camouflage.sh - `init --camouflage NAME` and the second compartment made at init
# (issue 14): file names, contents that look random, every command on the folder, refusals.
. "$(dirname "$0")/lib.bash"
D=$DEFTER
printf 'decoy words\n' >"$T/decoy"
printf 'other decoy\n' >"$T/decoy2"

# random-looking: no known magic, and byte frequencies of uniform bytes (chi-square, 255 dof)
looks_random() {
    python3 - "$@" <<'PY'
import sys
for f in sys.argv[1:]:
    data = open(f, 'rb').read()
    if f.endswith('.001'):  # the header holds the same image twice: count one copy
        data = data[:2130] + data[4260:]
    for magic in (b'SQLite format', b'DFTOBJ', b'defter', b'vault'):
        if magic in data:
            sys.exit('%s holds %r' % (f, magic))
    n = len(data)
    counts = [0] * 256
    for b in data:
        counts[b] += 1
    chi = sum((c - n / 256) ** 2 / (n / 256) for c in counts)
    if chi > 400:  # p < 1e-7 for uniform bytes
        sys.exit('%s: chi-square %.0f, not random-looking' % (f, chi))
PY
}

# ---- refusals: one clear message, nothing made ----
expect 1 "$D" --vault "$T/c" init --kdf interactive --camouflage up/../x
[ "$errout" = "defter: the camouflage name may hold only letters A-Z a-z, digits, '_', '-' and '.'" ] || fail "slash: $errout"
[ ! -e "$T/c" ] || fail "a refused name made the folder"
expect 1 "$D" --vault "$T/c" init --kdf interactive --camouflage .hidden
echo "$errout" | grep -q "must not start with '.'" || fail "dot: $errout"
expect 1 "$D" --vault "$T/c" init --kdf interactive --camouflage "$(printf 'x%.0s' $(seq 65))"
echo "$errout" | grep -q "1 to 64 characters" || fail "long: $errout"
expect 1 "$D" --vault "$T/c" init --kdf interactive --camouflage header
expect 2 "$D" --vault "$T/c" init --kdf interactive --camouflage
echo "$errout" | grep -q -- "--camouflage needs a NAME" || fail "no name: $errout"
[ ! -e "$T/c" ] || fail "a refused init made the folder"

# ---- a camouflaged vault: names chosen by the user, nothing named like Defter ----
expect 0 "$D" --vault "$T/c" init --kdf interactive --camouflage holiday
[ "$(cd "$T/c" && ls -A | sort | tr '\n' ' ')" = "holiday holiday.001 holiday.002 holiday.003 " ] ||
    fail "camouflaged files: $(ls -A "$T/c")"
[ -d "$T/c/holiday" ] || fail "the objects folder"
looks_random "$T/c/holiday.001" "$T/c/holiday.002" "$T/c/holiday.003" || fail "not random-looking"
ok
# every command finds it from the folder alone
expect 0 "$D" --vault "$T/c" add person name="Camouflaged Person"
pid=$(echo "$out" | tail -1)
printf 'a photo\n' >"$T/photo.jpg"
expect 0 "$D" --vault "$T/c" --json attach "$pid" "$T/photo.jpg"
eid=$(json "J[0]['id']")
expect 0 "$D" --vault "$T/c" extract "$eid" "$T/back.jpg"
cmp -s "$T/photo.jpg" "$T/back.jpg" || fail "extract from a camouflaged vault"
expect 0 "$D" --vault "$T/c" search Camouflaged
echo "$out" | grep -q "Camouflaged Person" || fail "search: $out"
expect 0 "$D" --vault "$T/c" verify
[ -z "$(find "$T/c" -name header -o -name 'vault*.db' -o -name objects)" ] || fail "plain names appeared"
looks_random "$T/c/holiday.001" "$T/c/holiday.002" || fail "not random-looking after use"
ok
expect 1 "$D" --vault "$T/c" --passphrase-file "$T/wrong" list
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "wrong: $errout"
# a second init on it is refused and changes nothing
h=$(sha256sum <"$T/c/holiday.001")
expect 1 "$D" --vault "$T/c" init --kdf interactive --camouflage other
[ "$errout" = "defter: a vault already exists at '$T/c'" ] || fail "second init: $errout"
expect 1 "$D" --vault "$T/c" init --kdf interactive
[ "$(sha256sum <"$T/c/holiday.001")" = "$h" ] || fail "a refused init touched the header"
# its decoy compartment is holiday.003
expect 0 "$D" --vault "$T/c" duress set --action decoy --duress-passphrase-file "$T/decoy"
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" add person name="Harmless Neighbour"
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" list
echo "$out" | grep -q "Camouflaged Person" && fail "the decoy shows a real record"
[ -z "$(find "$T/c" -name 'vault*' -o -name '.decoy')" ] || fail "plain names appeared"

# ---- evidence in a camouflaged vault: every file in the folder looks random ----
# scan_folder DIR OBJECT-HEX...: no file (objects included) holds a Defter or SQLite magic, or
# an object id raw, in hex or in base64; the first 4 KiB of each pass a chi-square test
scan_folder() {
    python3 - "$@" <<'PY'
import base64, os, sys
root, ids = sys.argv[1], [bytes.fromhex(h) for h in sys.argv[2:]]
needles = [b'DFTOBJ', b'SQLite format 3', b'defter', b'vault', b'objects']
for i in ids:
    h = i.hex().encode()
    needles += [i, h, h.upper(), h[:16], base64.b64encode(i)[:24],
                base64.urlsafe_b64encode(i)[:24]]
files = 0
for d, _, names in os.walk(root):
    for name in names:
        f = os.path.join(d, name)
        data = open(f, 'rb').read()
        files += 1
        for n in needles:
            if n in data:
                sys.exit('%s holds %r' % (f, n))
        head = data[:4096]
        if name.endswith('.001'):  # the header holds the same image twice: count one copy
            head = data[:2130]
        counts = [0] * 256
        for b in head:
            counts[b] += 1
        e = len(head) / 256
        chi = sum((c - e) ** 2 / e for c in counts)
        if chi > 400:  # 255 degrees of freedom: p < 1e-7 for uniform bytes
            sys.exit('%s: chi-square %.0f over its first %d bytes' % (f, chi, len(head)))
print(files)
PY
}
# a photo (JPEG with EXIF, made by Python) and a video-sized file
python3 - "$T/photo2.jpg" <<'PY'
import struct, sys
exif = b'Exif\0\0' + b'MM\0*' + struct.pack('>I', 8) + struct.pack('>H', 1) + \
    struct.pack('>HHII', 0x010f, 2, 6, 26) + struct.pack('>I', 0) + b'Canon\0'
body = b'\xff\xd8' + b'\xff\xe1' + struct.pack('>H', len(exif) + 2) + exif
body += bytes(range(256)) * 600 + b'\xff\xd9'
open(sys.argv[1], 'wb').write(body)
PY
head -c $((9 * 1048576 + 4321)) /dev/urandom >"$T/video.mp4"
expect 0 "$D" --vault "$T/c" --json attach "$pid" "$T/photo2.jpg" "$T/video.mp4"
e_photo=$(json "J[0]['id']")
e_video=$(json "J[1]['id']")
objs=""
for e in "$eid" "$e_photo" "$e_video"; do
    expect 0 "$D" --vault "$T/c" --json show "$e"
    objs="$objs $(json "J['object']")"
done
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" --json list person
dpid=$(json "J[0]['id']")
head -c 70000 /dev/urandom >"$T/decoy-scan.pdf"
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" --json attach "$dpid" "$T/decoy-scan.pdf"
devd=$(json "J[0]['id']")
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" --json show "$devd"
objs="$objs $(json "J['object']")"
n=$(scan_folder "$T/c" $objs) || fail "a camouflaged folder with evidence is not all random"
[ "$n" -ge 7 ] || fail "scanned $n files only"
# the scan can fail: a plain vault's object shows its magic and id
expect 0 "$D" --vault "$T/plainv" init --kdf interactive
expect 0 "$D" --vault "$T/plainv" --json add person name="Plain Person"
ppid=$(json "J['id']")
expect 0 "$D" --vault "$T/plainv" --json attach "$ppid" "$T/photo2.jpg"
pevd=$(json "J[0]['id']")
expect 0 "$D" --vault "$T/plainv" --json show "$pevd"
pobj=$(json "J['object']")
scan_folder "$T/plainv/objects" "$pobj" >/dev/null 2>&1 && fail "the scan does not see a plain object"
head -c 8 "$T/plainv/objects/${pobj:0:2}/$pobj" | grep -q "DFTOBJv2" || fail "a plain vault's object changed format"
ok
# the evidence still extracts, verifies, and leaves in a bundle that defter-verify accepts
for pair in "$eid:$T/photo.jpg" "$e_photo:$T/photo2.jpg" "$e_video:$T/video.mp4"; do
    rm -f "$T/out.bin"
    expect 0 "$D" --vault "$T/c" extract "${pair%%:*}" "$T/out.bin"
    cmp -s "${pair#*:}" "$T/out.bin" || fail "extract of ${pair#*:}"
done
expect 0 "$D" --vault "$T/c" --json show "$e_photo"
[ "$(json "J['meta'].get('camera_make')")" = Canon ] || fail "photo metadata: $out"
rm -f "$T/out.bin"
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" extract "$devd" "$T/out.bin"
cmp -s "$T/decoy-scan.pdf" "$T/out.bin" || fail "decoy extract"
expect 0 "$D" --vault "$T/c" verify
echo "$out" | grep -q "ok: 3 evidence objects decrypted and rehashed" || fail "verify: $out"
expect 0 "$D" --vault "$T/c" --passphrase-file "$T/decoy" verify
echo "$out" | grep -q "ok: 1 evidence objects decrypted and rehashed" || fail "decoy verify: $out"
VERIFY=$(dirname "$D")/defter-verify
expect 0 "$D" --vault "$T/c" --json export --bundle "$T/camo.zip" --records "$pid" --profile court
[ "$(json 'J["evidence"]')" = 3 ] || fail "bundle evidence: $out"
expect 0 "$VERIFY" "$T/camo.zip"
echo "$out" | grep -q "bundle verified (court profile)" || fail "defter-verify: $out"
python3 "$(dirname "$0")/bundle_tool.py" cat "$T/camo.zip" "evidence/$(sha256sum "$T/video.mp4" | cut -d' ' -f1)" |
    cmp -s - "$T/video.mp4" || fail "bundle evidence bytes"
ok
# a tampered camouflaged object is caught by verify, and extract leaves nothing
set -- $objs
o=$1
cp "$T/c/holiday/${o:0:2}/$o" "$T/obj-saved"
printf '\x01' | dd of="$T/c/holiday/${o:0:2}/$o" bs=1 seek=3 conv=notrunc status=none
expect 3 "$D" --vault "$T/c" verify
rm -f "$T/out.bin"
expect 3 "$D" --vault "$T/c" extract "$eid" "$T/out.bin"
echo "$errout" | grep -q "does not open (tampered or another vault)" || fail "tampered: $errout"
[ ! -e "$T/out.bin" ] || fail "a failed extract left a file"
cp "$T/obj-saved" "$T/c/holiday/${o:0:2}/$o"
expect 0 "$D" --vault "$T/c" verify
# a new master key keeps the objects camouflaged
expect 0 "$D" --vault "$T/c" passwd --rekey --new-passphrase-file "$T/pass"
scan_folder "$T/c" $objs >/dev/null || fail "not random after a rekey"
rm -f "$T/out.bin"
expect 0 "$D" --vault "$T/c" extract "$e_video" "$T/out.bin"
cmp -s "$T/video.mp4" "$T/out.bin" || fail "extract after a rekey"
expect 0 "$D" --vault "$T/c" verify
ok
# a camouflaged vault made before objects were encoded (here: a plain vault's files renamed
# to camouflaged names) still opens its clear objects, and one rekey encodes them all
expect 0 "$D" --vault "$T/plainv" --json attach "$ppid" "$T/video.mp4"
mkdir "$T/older"
mv "$T/plainv/header" "$T/older/album.001"
mv "$T/plainv/vault.db" "$T/older/album.002"
mv "$T/plainv/vault-1.db" "$T/older/album.003"
mv "$T/plainv/objects" "$T/older/album"
scan_folder "$T/older" "$pobj" >/dev/null 2>&1 && fail "the older vault's objects should be clear"
expect 0 "$D" --vault "$T/older" verify
expect 0 "$D" --vault "$T/older" passwd --rekey --new-passphrase-file "$T/pass"
n=$(scan_folder "$T/older" "$pobj") || fail "a rekey left a clear object in a camouflaged vault"
[ "$n" = 5 ] || fail "older vault: $n files"
expect 0 "$D" --vault "$T/older" verify
echo "$out" | grep -q "ok: 2 evidence objects decrypted and rehashed" || fail "older verify: $out"
rm -f "$T/out.bin"
expect 0 "$D" --vault "$T/older" extract "$pevd" "$T/out.bin"
cmp -s "$T/photo2.jpg" "$T/out.bin" || fail "older vault extract after the rekey"

# two camouflaged headers in one folder: refused by name, nothing opened or changed
mkdir "$T/two" && cp "$T/c/holiday.001" "$T/two/a.001" && cp "$T/c/holiday.001" "$T/two/b.001"
expect 1 "$D" --vault "$T/two" list
echo "$errout" | grep -q "several camouflaged vaults" || fail "two: $errout"
cmp -s "$T/c/holiday.001" "$T/two/a.001" || fail "a refused open wrote a header"
# panic finds and wipes it
cp "$T/c/holiday.001" "$T/c-before"
expect 0 "$D" --vault "$T/c" panic
echo "$out" | grep -q "^wiped: 2 header copies" || fail "panic: $out"
expect 1 "$D" --vault "$T/c" list
expect 1 "$D" --vault "$T/c" --passphrase-file "$T/decoy" list
cmp -s "$T/c-before" "$T/c/holiday.001" && fail "panic left the header"
ok

# ---- every vault has its second compartment from init on ----
expect 0 "$D" init --kdf interactive
[ -f "$T/vault/vault-1.db" ] || fail "no second compartment at init"
[ "$(stat -c %s "$T/vault/vault.db")" = "$(stat -c %s "$T/vault/vault-1.db")" ] || fail "the two stores differ in size"
expect 0 "$D" add person name="Real Person"
# dormant: no passphrase opens it yet (the real one opens the real compartment)
expect 0 "$D" list
echo "$out" | grep -q "Real Person" || fail "real: $out"
expect 1 "$D" --passphrase-file "$T/decoy" list
cp -a "$T/vault" "$T/before-decoy"
expect 0 "$D" duress set --action decoy --duress-passphrase-file "$T/decoy"
# no new file: the compartment was there
[ "$(cd "$T/vault" && ls -A | sort | tr '\n' ' ')" = "header objects vault-1.db vault.db " ] || fail "files: $(ls -A "$T/vault")"
cmp -s "$T/vault/vault-1.db" "$T/before-decoy/vault-1.db" || fail "giving the decoy a passphrase rewrote its store"
expect 0 "$D" --passphrase-file "$T/decoy" add person name="Harmless Neighbour"
expect 0 "$D" --passphrase-file "$T/decoy" list
echo "$out" | grep -q "Harmless Neighbour" || fail "decoy: $out"
echo "$out" | grep -q "Real Person" && fail "the decoy shows a real record"
expect 0 "$D" --passphrase-file "$T/decoy" verify
expect 0 "$D" list
echo "$out" | grep -q "Harmless" && fail "the real compartment shows a decoy record"
# once only: a second decoy passphrase is refused and changes nothing
expect 1 "$D" duress set --action decoy --duress-passphrase-file "$T/decoy2"
[ "$errout" = "defter: a second compartment exists already" ] || fail "second decoy: $errout"
expect 1 "$D" --passphrase-file "$T/decoy2" list
expect 0 "$D" --passphrase-file "$T/decoy" list
# a dormant compartment survives a passphrase change with another KDF level
expect 0 "$D" --vault "$T/before-decoy" passwd --kdf moderate --new-passphrase-file "$T/pass"
expect 0 "$D" --vault "$T/before-decoy" duress set --action decoy --duress-passphrase-file "$T/decoy"
expect 0 "$D" --vault "$T/before-decoy" --passphrase-file "$T/decoy" list
# a vault made before compartments at init gets its second one at `duress set`, also after a
# crash left a store that no slot names
here=$(cd "$(dirname "$0")" && pwd)
cp -a "$here/data/legacy-v1" "$T/old" && mkdir "$T/old/objects"
expect 0 "$D" --vault "$T/old" list
[ ! -e "$T/old/vault-1.db" ] || fail "an old vault got a second compartment by opening"
head -c 8192 /dev/urandom >"$T/old/vault-1.db"
expect 0 "$D" --vault "$T/old" duress set --action decoy --duress-passphrase-file "$T/decoy"
expect 0 "$D" --vault "$T/old" --passphrase-file "$T/decoy" add person name="Old Decoy"
expect 0 "$D" --vault "$T/old" --passphrase-file "$T/decoy" list
echo "$out" | grep -q "Old Decoy" || fail "old vault decoy: $out"
expect 0 "$D" --vault "$T/old" list
echo "$out" | grep -q "Ahtem Chiygoz" || fail "old vault real: $out"
echo "$out" | grep -q "Old Decoy" && fail "old vault: the real compartment shows a decoy record"
expect 0 "$D" --vault "$T/old" --passphrase-file "$T/decoy" verify
echo "coercion_camouflage: $checks checks passed"
