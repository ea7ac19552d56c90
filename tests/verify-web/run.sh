#!/usr/bin/env bash
# defter-verify.html against defter-verify: a corpus of bundles (good ones, byte flips over the
# whole file, truncations, swapped values, salts, proof hashes and cosignatures, hostile ZIPs,
# policies) is checked by the C verifier, then by the page in Debian's chromium (playwright-core
# from tests/web/node_modules) from file://; verdicts and messages must be the same, and the page
# must make no network request. Usage: bash tests/verify-web/run.sh (after a build).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
D=${DEFTER:-$ROOT/build/asan/defter}
VERIFY=${DEFTER_VERIFY:-$(dirname "$D")/defter-verify}
HTML=${DEFTER_VERIFY_HTML:-$(dirname "$D")/defter-verify.html}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for f in "$D" "$VERIFY" "$CHROMIUM"; do [ -x "$f" ] || { echo "verify-web: missing $f" >&2; exit 1; }; done
[ -f "$HTML" ] || { echo "verify-web: missing $HTML" >&2; exit 1; }
[ -d tests/web/node_modules/playwright-core ] || { echo "verify-web: playwright-core missing (make deps)" >&2; exit 1; }

W=$(mktemp -d /tmp/defter-verify-web.XXXXXX)
trap 'rm -rf "$W"' EXIT
B="python3 tests/cli/bundle_tool.py"
TL="python3 tests/cli/tlog_verify.py"
export DEFTER_VAULT="$W/vault" DEFTER_PASSPHRASE_FILE="$W/pass"
printf 'verify web test\n' >"$W/pass"
"$D" init --kdf interactive >/dev/null
VKEY=$("$D" identity | head -n 1)
"$D" add --from-json data/demo/meeting.json >/dev/null
CASE=$("$D" --json list case | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
WIT=$("$D" --json add person "name=Şevket Witness" "birth_date=1970" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$D" link "$WIT" "$CASE" --role witness >/dev/null
head -c 3000 /dev/urandom >"$W/photo.bin"
"$D" attach "$CASE" "$W/photo.bin" >/dev/null
S1=$(printf '11%.0s' $(seq 32)); S2=$(printf '22%.0s' $(seq 32))
W1=$($TL witness-vkey witness.example/one "$S1"); W2=$($TL witness-vkey witness.example/two "$S2")
"$D" witness add "$W1" >/dev/null
"$D" witness add "$W2" >/dev/null
"$D" witness policy 2 >/dev/null
"$D" checkpoint >"$W/cp"
$TL cosign "$W/cp" witness.example/one "$S1" 1764000000 >"$W/cp1"
$TL cosign "$W/cp1" witness.example/two "$S2" 1764000001 >"$W/cp2"
"$D" checkpoint --import "$W/cp2" >/dev/null
"$D" edit "$WIT" "summary=later" >/dev/null

C="$W/corpus"
mkdir -p "$C"
"$D" export --bundle "$C/good-court.zip" --case "$CASE" --profile court >/dev/null
"$D" export --bundle "$C/good-diplomatic.zip" --case "$CASE" --profile diplomatic >/dev/null
"$D" export --bundle "$C/good-public.zip" --case "$CASE" --profile public >/dev/null
G="$C/good-court.zip"
SHA=$(sha256sum "$W/photo.bin" | cut -d' ' -f1)
# byte flips over the whole file and truncations
python3 - "$G" "$C" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
step = max(1, len(d) // 250)
for i in range(0, len(d), step):
    x = bytearray(d); x[i] ^= 0x01 if i % 2 else 0x80
    open("%s/flip-%06d.zip" % (sys.argv[2], i), "wb").write(x)
for n in (0, 1, 21, 22, 100, len(d) // 2, len(d) - 23, len(d) - 1):
    open("%s/trunc-%06d.zip" % (sys.argv[2], n), "wb").write(d[:n])
PY
R="records/$WIT.json"
$B rewrite "$G" "$C/m-value.zip" "json:$R=o=[x for x in J['operations'] if any(r['name']=='fields/name' for r in x['disclosure']['revealed'])][0]; [r for r in o['disclosure']['revealed'] if r['name']=='fields/name'][0]['value']='Someone Else'"
$B rewrite "$G" "$C/m-salt.zip" "json:$R=r=J['operations'][0]['disclosure']['revealed']; r[0]['salt'], r[1]['salt'] = r[1]['salt'], r[0]['salt']"
$B rewrite "$G" "$C/m-withheld.zip" "json:$R=J['operations'][0]['disclosure']['withheld'].append(J['operations'][0]['disclosure']['path'][0] if J['operations'][0]['disclosure']['path'] else 'A'*43+'=')"
$B rewrite "$G" "$C/m-type.zip" "json:manifest.json=J['records'][0]['type']='event'"
$B rewrite "$G" "$C/m-del.zip" "del:$R"
printf 'x' >"$W/x"
$B rewrite "$G" "$C/m-extra.zip" "add:records/per_0000000000000000.json=$W/x"
head -c 3000 /dev/urandom >"$W/other.bin"
$B rewrite "$G" "$C/m-evidence.zip" "set:evidence/$SHA=$W/other.bin"
$B rewrite "$G" "$C/m-mediatype.zip" "json:manifest.json=J['mediaType']='application/json'"
$B rewrite "$G" "$C/m-logkey.zip" "json:manifest.json=J['log']['vkey']='$W1'"
$B rewrite "$G" "$C/m-size.zip" "json:manifest.json=J['log']['size']+=1"
$B rewrite "$G" "$C/m-quorum.zip" "json:manifest.json=J['witnesses']['policy']=3"
$B rewrite "$G" "$C/m-nocos.zip" "json:manifest.json=J['witnesses']['cosigned']=None"
PROOF=$($B list "$G" | grep 'tlog-proof$' | tail -n 1)
$B cat "$G" "$PROOF" | python3 -c "
import sys
l = sys.stdin.read().split('\n'); l[2] = ('A' if l[2][0] != 'A' else 'B') + l[2][1:]; sys.stdout.write('\n'.join(l))" >"$W/proof"
$B rewrite "$G" "$C/m-proof.zip" "set:$PROOF=$W/proof"
$B cat "$G" manifest.json | python3 -c "
import base64, json, sys
m = json.load(sys.stdin); note = m['witnesses']['cosigned']
text, sigs = note.rsplit('\n\n', 1); lines = sigs.strip('\n').split('\n')
a = [i for i, l in enumerate(lines) if 'witness.example/one' in l][0]
b = [i for i, l in enumerate(lines) if 'witness.example/two' in l][0]
ra = base64.b64decode(lines[a].split(' ')[2]); rb = base64.b64decode(lines[b].split(' ')[2])
lines[a] = lines[a].rsplit(' ', 1)[0] + ' ' + base64.b64encode(ra[:12] + rb[12:]).decode()
m['witnesses']['cosigned'] = text + '\n\n' + '\n'.join(lines) + '\n'
sys.stdout.write(json.dumps(m, separators=(',', ':'), sort_keys=True, ensure_ascii=False))" >"$W/manifest"
$B rewrite "$G" "$C/m-cosig.zip" "set:manifest.json=$W/manifest"
$B rewrite "$G" "$C/h-dotdot.zip" "add:../evil=$W/x"
$B cat "$G" manifest.json >"$W/m2"
$B rewrite "$G" "$C/h-dup.zip" "add:manifest.json=$W/m2"
$B lie "$G" "$C/h-lie.zip" "$R"
# a privileged note of this vault, included by its author: its sealed fields revealed provably
NOTE=$("$D" --json add note --privileged "text=Privmark sealed strategy" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$D" link "$NOTE" "$CASE" --role note >/dev/null
"$D" export --bundle "$C/good-privileged.zip" --case "$CASE" --profile court --include-privileged >/dev/null
$B rewrite "$C/good-privileged.zip" "$C/m-privileged.zip" "json:records/$NOTE.json=[r for r in J['operations'][0]['disclosure']['revealed'] if r['name']=='fields/text'][0]['value']='Privmark other text'"
# policies given apart (file name: policy-NAME.json; bundle good-court.zip)
P="$W/policies"
mkdir -p "$P"
printf '{"log":"%s","witnesses":["%s","%s"],"quorum":1}' "$VKEY" "$W1" "$W2" >"$P/ok.json"
printf '{"log":"%s","witnesses":["%s","%s"],"quorum":2}' "$VKEY" "$W1" "$W2" >"$P/coverage.json"
printf '{"log":"%s","witnesses":[],"quorum":0}' "$W1" >"$P/badlog.json"

# what the C verifier says about each
python3 - "$VERIFY" "$C" "$P" "$W/expected.json" <<'PY'
import json, os, subprocess, sys
verify, corpus, pols, out = sys.argv[1:5]
cases = []
for name in sorted(os.listdir(corpus)):
    cases.append({"bundle": os.path.join(corpus, name), "policy": None})
for name in sorted(os.listdir(pols)):
    cases.append({"bundle": os.path.join(corpus, "good-court.zip"), "policy": os.path.join(pols, name)})
for c in cases:
    cmd = [verify, c["bundle"]] + (["--policy", c["policy"]] if c["policy"] else [])
    p = subprocess.run(cmd, capture_output=True)
    err = p.stderr.decode("utf-8", "replace").strip()
    if p.returncode not in (0, 3) or (p.returncode == 3 and len(err.splitlines()) != 1):
        sys.exit("defter-verify %s: exit %d: %s" % (c, p.returncode, err))
    c["ok"] = p.returncode == 0
    c["error"] = None if c["ok"] else err.removeprefix("defter-verify: ")
json.dump(cases, open(out, "w"), indent=1)
print("corpus: %d cases, %d pass, %d fail" % (len(cases), sum(c["ok"] for c in cases), sum(not c["ok"] for c in cases)))
PY
export EXPECTED="$W/expected.json" VERIFY_HTML="$HTML" CHROMIUM
export WEB_MODULES="$ROOT/tests/web/package.json"
node --test --test-concurrency=1 tests/verify-web/verify.test.mjs
