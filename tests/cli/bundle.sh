#!/usr/bin/env bash
# bundle.sh - `defter export --bundle` and `defter-verify`: a redacted court bundle of the demo
# case round-trips; withheld and privileged markers are nowhere in the ZIP; every swapped value,
# salt, proof hash, cosignature or evidence byte, and every hostile ZIP, gives exit 3 and one line.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
VERIFY=${DEFTER_VERIFY:-$(dirname "$D")/defter-verify}
B="python3 $(dirname "$0")/bundle_tool.py"
TL="python3 $(dirname "$0")/tlog_verify.py"
[ -x "$VERIFY" ] || fail "no defter-verify beside $D"

# verify3 BUNDLE WHAT: defter-verify must exit 3 with exactly one line on stderr, naming WHAT
verify3() {
    expect 3 "$VERIFY" "$1"
    [ "$(printf '%s\n' "$errout" | wc -l)" = 1 ] || fail "more than one line: $errout"
    printf '%s' "$errout" | grep -q -- "$2" || fail "message for $1: '$errout' (want '$2')"
}

expect 0 "$D" init --kdf interactive
expect 0 "$D" identity
VKEY=$(printf '%s\n' "$out" | head -n 1)
expect 0 "$D" --json add --from-json "$(dirname "$0")/../../data/demo/meeting.json"
expect 0 "$D" --json list case
CASE=$(json 'J[0]["id"]')
expect 0 "$D" --json show "$CASE"
PEOPLE=$(json '",".join(r["other"] for r in J["relations"] if r["other_type"] == "person")')
LAWYER=$(json '[r["other"] for r in J["relations"] if r["role"] == "lawyer"][0]')

# A witness (masked by the diplomatic profile), a privileged note, a public marking, evidence.
WNAME="Witnessmarker Qxzvyt Bekirova"
expect 0 "$D" --json add person "name=$WNAME" "birth_date=1971-03-04" "summary=saw the search"
WIT=$(json 'J["id"]')
expect 0 "$D" link "$WIT" "$CASE" --role witness
PRIV="Privmarker-7f3a lawyer strategy"
expect 0 "$D" --json add note "text=$PRIV" "privileged:=true"
NOTE=$(json 'J["id"]')
expect 0 "$D" link "$NOTE" "$CASE" --role note
expect 0 "$D" edit "$CASE" "public=title"
head -c 5000 /dev/urandom >"$T/photo.bin"
printf 'scan of the summons\n' >"$T/summons.txt"
expect 0 "$D" --json attach "$CASE" "$T/photo.bin" "$T/summons.txt"
SHA=$(sha256sum "$T/photo.bin" | cut -d' ' -f1)

# ---- dry run: what each record will show, and nothing written ----
expect 0 "$D" --json export --case "$CASE" --profile diplomatic --dry-run
[ "$(json '[r for r in J["records"] if r["id"] == "'"$WIT"'"][0]["masked"]')" = True ] ||
    fail "dry run: witness not masked: $out"
[ "$(json '"name" in [r for r in J["records"] if r["id"] == "'"$WIT"'"][0]["withholds"]')" = True ] ||
    fail "dry run: witness name not withheld"
[ "$(json '[d["id"] for d in J["dropped"]] == ["'"$NOTE"'"]')" = True ] ||
    fail "dry run: privileged note not left out: $out"
expect 0 "$D" export --case "$CASE" --profile court --dry-run
printf '%s' "$out" | grep -q "left out: privileged note" || fail "human dry run: $out"
[ ! -e "$T/nothing.zip" ] || fail "dry run wrote a file"

# ---- court bundle: round trip, determinism, standard tools ----
before=$(state)
expect 0 "$D" --json export --bundle "$T/court.zip" --case "$CASE" --profile court
[ "$(json 'J["evidence"]')" = 2 ] || fail "court bundle evidence: $out"
[ "$before" = "$(state)" ] || fail "export changed the vault"
expect 0 "$D" export --bundle "$T/court2.zip" --case "$CASE" --profile court
cmp -s "$T/court.zip" "$T/court2.zip" || fail "two exports of the same selection differ"
ok
unzip -tq "$T/court.zip" >/dev/null || fail "unzip -t rejects the bundle"
ok
$B rewrite "$T/court.zip" "$T/repacked.zip"
cmp -s "$T/court.zip" "$T/repacked.zip" || fail "the documented layout does not reproduce the bundle"
ok
expect 0 "$VERIFY" "$T/court.zip"
printf '%s' "$out" | grep -q "bundle verified (court profile)" || fail "verify output: $out"
expect 0 "$VERIFY" --json "$T/court.zip"
printf '%s' "$out" >"$T/report.json"
for id in $(echo "$PEOPLE,$WIT" | tr ',' ' '); do
    want=$("$D" --json show "$id" | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['fields'], sort_keys=True))")
    got=$(python3 -c "import json,sys; r=[x for x in json.load(open('$T/report.json'))['records'] if x['id']=='$id'][0]; print(json.dumps(r['fields'], sort_keys=True))")
    [ "$want" = "$got" ] || fail "court bundle shows other fields for $id: $got (vault: $want)"
    ok
done
[ "$(python3 -c "import json; r=json.load(open('$T/report.json')); print(sorted(e['sha256'] for e in r['evidence'] if e['file']))" | grep -c "$SHA")" = 1 ] ||
    fail "evidence not checked"
$B cat "$T/court.zip" "evidence/$SHA" | cmp -s - "$T/photo.bin" || fail "evidence bytes differ"
ok
$B list "$T/court.zip" | grep -q "^records/$NOTE.json" && fail "court bundle holds the privileged note"
$B markers "$T/court.zip" "$PRIV" "Privmarker-7f3a" || fail "privileged note text in the court bundle"
ok
$B markers "$T/court.zip" "Witnessmarker" && fail "the court bundle should show the witness (test can fail)"
ok

# ---- diplomatic: the witness's identifying fields are digests only ----
expect 0 "$D" export --bundle "$T/dip.zip" --case "$CASE" --profile diplomatic
expect 0 "$VERIFY" --json "$T/dip.zip"
$B markers "$T/dip.zip" "Witnessmarker" "Qxzvyt" "1971-03-04" "saw the search" "Privmarker-7f3a" ||
    fail "diplomatic bundle shows the witness or the note"
ok
[ "$(json '[r for r in J["records"] if r["id"] == "'"$WIT"'"][0]["withheld"] >= 3')" = True ] ||
    fail "withheld fields not counted: $out"

# ---- public: only fields the record's "public" field lists, no evidence files ----
expect 0 "$D" export --bundle "$T/pub.zip" --case "$CASE" --profile public
expect 0 "$VERIFY" --json "$T/pub.zip"
[ "$(json 'sorted([r for r in J["records"] if r["id"] == "'"$CASE"'"][0]["fields"])')" = "['public', 'title']" ] ||
    fail "public case shows: $out"
[ "$(json 'all(not e["file"] for e in J["evidence"])')" = True ] || fail "public bundle has files"
$B list "$T/pub.zip" | grep -q "^evidence/" && fail "public bundle holds evidence files"
ok

# ---- a profile file ----
printf '{"name":"press","evidence_files":false,"public_only":false,"mask_roles":["witness","lawyer"],"mask_fields":["name","name_variants"],"withhold_fields":["summary"],"evidence_fields":["sha256"]}' >"$T/press.json"
expect 0 "$D" export --bundle "$T/press.zip" --records "$LAWYER,$WIT" --profile "$T/press.json"
expect 0 "$VERIFY" "$T/press.zip"
$B markers "$T/press.zip" "Witnessmarker" || fail "press profile shows the witness"
ok

# ---- bad input: one line, status, nothing written ----
expect 2 "$D" export --bundle "$T/x.zip" --case "$CASE"
expect 2 "$D" export --bundle "$T/x.zip" --profile court
expect 2 "$D" export --bundle "$T/x.zip" --case "$CASE" --records "$WIT" --profile court
expect 1 "$D" export --bundle "$T/x.zip" --case "$CASE" --profile secret
expect 1 "$D" export --bundle "$T/x.zip" --case case_0000000000000000 --profile court
expect 1 "$D" export --bundle "$T/x.zip" --case "$WIT" --profile court
printf '{"name":"x","evidence_files":1}' >"$T/badprof.json"
expect 1 "$D" export --bundle "$T/x.zip" --case "$CASE" --profile "$T/badprof.json"
expect 2 "$D" export --bundle "$T/x.zip" --case "$CASE" --profile court --include-private
[ ! -e "$T/x.zip" ] || fail "a failed export left a file"
expect 2 "$VERIFY"
expect 1 "$VERIFY" "$T/none.zip"

# ---- witnesses: cosigned checkpoint, quorum, policy given apart ----
S1=$(printf '11%.0s' $(seq 32)); S2=$(printf '22%.0s' $(seq 32)); S3=$(printf '33%.0s' $(seq 32))
W1=$($TL witness-vkey witness.example/one "$S1")
W2=$($TL witness-vkey witness.example/two "$S2")
W3=$($TL witness-vkey witness.example/three "$S3")
expect 0 "$D" witness add "$W1"
expect 0 "$D" witness add "$W2"
expect 0 "$D" witness add "$W3"
expect 0 "$D" witness policy 2
expect 0 "$D" checkpoint
printf '%s\n' "$out" >"$T/cp"
$TL cosign "$T/cp" witness.example/one "$S1" 1764000000 >"$T/cp1"
$TL cosign "$T/cp1" witness.example/two "$S2" 1764000001 >"$T/cp2"
expect 0 "$D" checkpoint --import "$T/cp2"
expect 0 "$D" edit "$LAWYER" "summary=after the cosigned checkpoint"
expect 0 "$D" export --bundle "$T/wit.zip" --case "$CASE" --profile court
expect 0 "$VERIFY" --json "$T/wit.zip"
[ "$(json '(J["witnesses"]["cosignatures"], J["witnesses"]["quorum"])')" = "(2, 2)" ] ||
    fail "cosignatures: $out"
[ "$(json 'J["witnesses"]["envelopes_witnessed"] < J["envelopes"]')" = True ] || fail "coverage: $out"
printf '{"log":"%s","witnesses":["%s","%s","%s"],"quorum":2}' "$VKEY" "$W1" "$W2" "$W3" >"$T/policy.json"
expect 3 "$VERIFY" --policy "$T/policy.json" "$T/wit.zip"
printf '%s' "$errout" | grep -q "not covered by the cosigned checkpoint" || fail "policy coverage: $errout"
printf '{"log":"%s","witnesses":["%s","%s","%s"],"quorum":3}' "$VKEY" "$W1" "$W2" "$W3" >"$T/policy3.json"
expect 3 "$VERIFY" --policy "$T/policy3.json" "$T/wit.zip"
printf '%s' "$errout" | grep -q "quorum is not met" || fail "quorum 3: $errout"
printf '{"log":"%s","witnesses":[],"quorum":0}' "$W1" >"$T/policy-bad.json"
expect 3 "$VERIFY" --policy "$T/policy-bad.json" "$T/wit.zip"
OTHER=$(DEFTER_VAULT="$T/other" bash -c '"$0" init --kdf interactive >/dev/null && "$0" identity | head -n 1' "$D")
printf '{"log":"%s","witnesses":[],"quorum":0}' "$OTHER" >"$T/policy-other.json"
expect 3 "$VERIFY" --policy "$T/policy-other.json" "$T/court.zip"
printf '%s' "$errout" | grep -q "another log" || fail "other log: $errout"
printf '{"log":"%s","witnesses":[],"quorum":0}' "$VKEY" >"$T/policy0.json"
expect 0 "$VERIFY" --policy "$T/policy0.json" "$T/court.zip"

# A swapped cosignature: witness two's signature bytes under witness one's line.
$B cat "$T/wit.zip" manifest.json >"$T/manifest.json"
python3 - "$T/manifest.json" <<'EOF'
import base64, json, sys
p = sys.argv[1]
m = json.load(open(p))
note = m["witnesses"]["cosigned"]
text, sigs = note.rsplit("\n\n", 1)
lines = sigs.strip("\n").split("\n")
one = [i for i, l in enumerate(lines) if "witness.example/one" in l][0]
two = [i for i, l in enumerate(lines) if "witness.example/two" in l][0]
r1 = base64.b64decode(lines[one].split(" ")[2]); r2 = base64.b64decode(lines[two].split(" ")[2])
lines[one] = lines[one].rsplit(" ", 1)[0] + " " + base64.b64encode(r1[:12] + r2[12:]).decode()
m["witnesses"]["cosigned"] = text + "\n\n" + "\n".join(lines) + "\n"
open(p, "w").write(json.dumps(m, separators=(",", ":"), sort_keys=True, ensure_ascii=False))
EOF
$B rewrite "$T/wit.zip" "$T/m-cosig.zip" "set:manifest.json=$T/manifest.json"
verify3 "$T/m-cosig.zip" "cosigned checkpoint does not verify"

# ---- semantic mutations: each fails with exit 3, one line ----
R="records/$LAWYER.json"
$B rewrite "$T/court.zip" "$T/m-value.zip" "json:$R=[x for x in J['operations'] if x['disclosure']['revealed'] and [r for r in x['disclosure']['revealed'] if r['name']=='fields/name']][0]['disclosure']['revealed'][[r['name'] for r in [x for x in J['operations'] if [r for r in x['disclosure']['revealed'] if r['name']=='fields/name']][0]['disclosure']['revealed']].index('fields/name')]['value']='Someone Else'"
verify3 "$T/m-value.zip" "do not match the signed digests"
$B rewrite "$T/court.zip" "$T/m-salt.zip" "json:$R=r=J['operations'][0]['disclosure']['revealed']; r[0]['salt'], r[1]['salt'] = r[1]['salt'], r[0]['salt']"
verify3 "$T/m-salt.zip" "do not match the signed digests"
$B rewrite "$T/court.zip" "$T/m-withheld.zip" "json:records/$CASE.json=w=[x for x in J['operations'] if x['disclosure']['withheld']][0]['disclosure']['withheld']; w[0]=w[0][:5]+('A' if w[0][5]!='A' else 'B')+w[0][6:]"
verify3 "$T/m-withheld.zip" "do not match the signed digests"
$B rewrite "$T/court.zip" "$T/m-drop.zip" "json:records/$CASE.json=[x for x in J['operations'] if x['disclosure']['withheld']][0]['disclosure']['withheld'].pop()"
verify3 "$T/m-drop.zip" "do not match the signed digests"
PROOF=$($B list "$T/wit.zip" | grep 'tlog-proof$' | tail -n 1)
$B cat "$T/wit.zip" "$PROOF" >"$T/proof.txt"
python3 - "$T/proof.txt" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p, encoding="utf-8").read().split("\n")
lines[2] = ("A" if lines[2][0] != "A" else "B") + lines[2][1:]
open(p, "w", encoding="utf-8").write("\n".join(lines))
EOF
$B rewrite "$T/wit.zip" "$T/m-proof.zip" "set:$PROOF=$T/proof.txt"
verify3 "$T/m-proof.zip" "inclusion proof fails"
head -c 5000 /dev/urandom >"$T/other.bin"
$B rewrite "$T/court.zip" "$T/m-evd.zip" "set:evidence/$SHA=$T/other.bin"
verify3 "$T/m-evd.zip" "does not match its signed SHA-256"
$B rewrite "$T/court.zip" "$T/m-type.zip" "json:manifest.json=J['records'][0]['type']='event'"
verify3 "$T/m-type.zip" "does not name the record"
$B rewrite "$T/court.zip" "$T/m-del.zip" "del:$R"
verify3 "$T/m-del.zip" "is missing"
$B rewrite "$T/court.zip" "$T/m-extra.zip" "add:records/per_0000000000000000.json=$T/summons.txt"
verify3 "$T/m-extra.zip" "not named in the manifest"
ENV=$($B list "$T/court.zip" | grep 'envelope$' | head -n 1)
$B cat "$T/court.zip" "$ENV" >"$T/env.bin"
python3 -c "
import sys; d=bytearray(open('$T/env.bin','rb').read()); d[100]^=1; open('$T/env.bin','wb').write(d)"
$B rewrite "$T/court.zip" "$T/m-env.zip" "set:$ENV=$T/env.bin"
verify3 "$T/m-env.zip" "signature does not verify"

# ---- hostile ZIPs ----
SIZE=$(stat -c %s "$T/court.zip")
head -c $((SIZE - 7)) "$T/court.zip" >"$T/h-trunc.zip"
verify3 "$T/h-trunc.zip" "damaged or truncated"
head -c 100 "$T/court.zip" >"$T/h-trunc2.zip"
verify3 "$T/h-trunc2.zip" "damaged or truncated"
: >"$T/h-empty.zip"
verify3 "$T/h-empty.zip" "damaged or truncated"
$B rewrite "$T/court.zip" "$T/h-dotdot.zip" "add:../../evil=$T/summons.txt"
verify3 "$T/h-dotdot.zip" "unsafe entry name"
$B rewrite "$T/court.zip" "$T/h-abs.zip" "add:/etc/evil=$T/summons.txt"
verify3 "$T/h-abs.zip" "unsafe entry name"
$B cat "$T/court.zip" manifest.json >"$T/m2.json"
$B rewrite "$T/court.zip" "$T/h-dup.zip" "add:manifest.json=$T/m2.json"
verify3 "$T/h-dup.zip" "twice"
$B lie "$T/court.zip" "$T/h-lie.zip" "records/$LAWYER.json"
verify3 "$T/h-lie.zip" "lying sizes"
(cd "$T" && mkdir -p zz && cp summons.txt zz/ && zip -q -r h-deflate.zip zz)
verify3 "$T/h-deflate.zip" "ZIP structure is damaged"

# ---- a sample of byte flips over the whole bundle (the unit test flips every byte) ----
python3 - "$T/court.zip" "$T/flip" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
step = max(1, len(d) // 150)
for i in range(0, len(d), step):
    x = bytearray(d); x[i] ^= 0x20
    open("%s-%06d.zip" % (sys.argv[2], i), "wb").write(x)
EOF
for f in "$T"/flip-*.zip; do
    "$VERIFY" "$f" >/dev/null 2>"$T/flip.err"
    st=$?
    [ "$st" = 3 ] || fail "flipped byte $f: exit $st"
    [ "$(wc -l <"$T/flip.err")" = 1 ] || fail "flipped byte $f: $(cat "$T/flip.err")"
    rm -f "$f"
    ok
done
echo "bundle.sh: $checks checks passed"
