#!/usr/bin/env bash
# records.sh - round trip of every record command, unicode names, bad input changes nothing.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER

expect 0 "$D" init --kdf interactive --json
[ "$(json 'J["identity"]["vkey"].startswith("defter.vault/")')" = True ] || fail "init json"
expect 1 "$D" init --kdf interactive
echo "$errout" | grep -q "already exists" || fail "second init message: $errout"
expect 2 "$D" init --kdf bogus

# Unicode names in Latin, Cyrillic and Crimean Tatar letters survive a round trip.
for name in "Ahtem Çiygoz" "Ахтем Чийгоз" "Ğ ı ñ ö ş ü q İlmi Ümerov" "Меджліс кримськотатарського народу"; do
    expect 0 "$D" --json add person "name=$name" "summary=test ✓"
    id=$(json 'J["id"]')
    expect 0 "$D" --json show "$id"
    [ "$(json 'J["fields"]["name"]')" = "$name" ] || fail "name round trip: $name"
    [ "$(json 'J["title"]')" = "$name" ] || fail "a person's title is its name"
done

# Lists, raw JSON values, edit (set, remove), history kept.
expect 0 "$D" --json add person "name=Nikolai Polozov" "name_variants=Mykola Polozov" \
    "name_variants=Микола Полозов" 'birth_date:="1976"' "x-custom_field=kept"
P=$(json 'J["id"]')
expect 0 "$D" --json show "$P"
[ "$(json 'J["fields"]["name_variants"]')" = "['Mykola Polozov', 'Микола Полозов']" ] || fail lists
[ "$(json 'J["fields"]["x-custom_field"]')" = kept ] || fail "unknown fields are kept"
expect 0 "$D" --json edit "$P" "summary=lawyer" 'x-custom_field:=null'
expect 0 "$D" --json show "$P"
[ "$(json 'J["fields"]["summary"]')" = lawyer ] || fail "edit sets"
[ "$(json '"x-custom_field" in J["fields"]')" = False ] || fail "edit removes"
[ "$(json '[h["action"] for h in J["history"]]')" = "['create', 'update']" ] || fail "history"

# Cases and links.
expect 0 "$D" --json add case "title=Case of Ilmi Umerov" "case_number=1-23/2016" "court=Kyiv"
C=$(json 'J["id"]')
expect 0 "$D" --json link "$P" "$C" --role lawyer
L=$(json 'J["id"]')
expect 0 "$D" --json show "$C"
[ "$(json '[(r["role"], r["other"]) for r in J["relations"]]')" = "[('lawyer', '$P')]" ] || fail link
expect 0 "$D" --json delete "$L"
expect 0 "$D" --json show "$C"
[ "$(json 'len(J["relations"])')" = 0 ] || fail unlink

# Batch: one envelope, ids in input order, all or nothing.
cat >"$T/batch.json" <<'JSON'
[{"type":"person","name":"Refat Chubarov","name_variants":["Рефат Чубаров"]},
 {"type":"organization","name":"Mejlis"},
 {"type":"event","title":"Search of a home","date":"2016-05-12"}]
JSON
expect 0 "$D" --json log
size0=$(json 'J["size"]')
expect 0 "$D" --json add --from-json "$T/batch.json"
[ "$(json 'len(J["ids"])')" = 3 ] || fail "batch ids"
ids=$(json '" ".join(J["ids"])')
set -- $ids
expect 0 "$D" --json show "$1"
[ "$(json 'J["title"]')" = "Refat Chubarov" ] || fail "batch order"
expect 0 "$D" --json log --since "$size0"
[ "$(json 'len(J["entries"])')" = 1 ] || fail "one envelope per batch"
[ "$(json 'J["entries"][0]["action"]')" = batch ] || fail "batch action"
[ "$(json 'J["entries"][0]["records"]')" = "['$1', '$2', '$3']" ] || fail "batch records"
[ "$(json 'J["entries"][0]["index"]')" = "$size0" ] || fail "log index"
expect 0 "$D" add --from-json - <"$T/batch.json"

# Bad input: one clear line, right status, nothing changed.
before=$(state)
printf '[{"type":"person","name":"ok"},{"type":"spaceship"}]' >"$T/bad1.json"
printf '[{"type":"person","name":"unterminated' >"$T/bad2.json"
printf '[{"type":"person","name":"\xff\xfe"}]' >"$T/bad3.json"
printf '{"type":"person"}' >"$T/bad4.json"
printf '[{"type":"person","name":1.5}]' >"$T/bad5.json"
for f in bad1 bad2 bad3 bad4 bad5; do
    expect 1 "$D" add --from-json "$T/$f.json"
    [ "$(echo "$errout" | wc -l)" = 1 ] || fail "one line for $f: $errout"
done
expect 1 "$D" add spaceship name=x
expect 2 "$D" add person nameWithoutEquals
expect 1 "$D" add person "$(printf 'name=\xc3\x28')"
expect 1 "$D" show per_doesnotexist0000
expect 1 "$D" edit per_doesnotexist0000 name=x
expect 1 "$D" delete per_doesnotexist0000
expect 1 "$D" link "$P" per_doesnotexist0000 --role victim
expect 2 "$D" link "$P" "$C"
expect 1 "$D" link "$P" "$C" --role "Not A Role"
expect 2 "$D" frobnicate
expect 2 "$D" log --since -1
expect 1 "$D" --passphrase-file "$T/wrong" list
echo "$errout" | grep -qx "defter: wrong passphrase or damaged header" || fail "wrong passphrase message: $errout"
expect 1 "$D" --passphrase-file "$T/nonexistent" list
expect 1 "$D" --vault "$T/novault" list
[ "$(state)" = "$before" ] || fail "bad input changed the vault"

# --help on every command, exit 0.
for c in init passwd add show list edit delete link search log verify identity; do
    expect 0 "$D" "$c" --help
    echo "$out" | grep -q "usage: defter $c" || fail "help of $c"
done

# identity: first line is the verifier key; origin as the contract says.
expect 0 "$D" identity
first=$(echo "$out" | head -n 1)
expect 0 "$D" --json identity
pub=$(json 'J["sign_pub"]')
want=$(python3 -c "import base64,hashlib,sys; print('defter.vault/'+hashlib.sha256(base64.b64decode(sys.argv[1])).hexdigest()[:16])" "$pub")
case "$first" in "$want+"*) ok ;; *) fail "vkey $first does not start with $want" ;; esac

# passwd rewraps: old passphrase stops working, data stays.
printf 'new passphrase\n' >"$T/new"
expect 0 "$D" passwd --kdf interactive --new-passphrase-file "$T/new"
expect 1 "$D" list
expect 0 "$D" --passphrase-file "$T/new" --json show "$P"
[ "$(json 'J["fields"]["summary"]')" = lawyer ] || fail "data after passwd"
export DEFTER_PASSPHRASE_FILE="$T/new"

# log entries have base64 leaf hashes equal to SHA-256(0x00 ‖ envelope).
expect 0 "$D" --json log --envelopes
python3 - "$out" <<'PY' || fail "leaf hashes"
import base64, hashlib, json, sys
j = json.loads(sys.argv[1])
assert j["size"] == len(j["entries"])
for i, e in enumerate(j["entries"]):
    assert e["index"] == i
    env = base64.b64decode(e["envelope"])
    assert base64.b64decode(e["leaf_hash"]) == hashlib.sha256(b"\0" + env).digest()
PY
expect 0 "$D" --json verify
[ "$(json 'J["ok"]')" = True ] || fail verify
echo "records: $checks checks passed"
