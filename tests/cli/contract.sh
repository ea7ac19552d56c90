#!/usr/bin/env bash
# contract.sh - every command of the table in DESIGN.md's command-line contract, run exactly as
# written there (with --json where the table lists an output), against a fresh vault; checks the
# exit statuses and the shapes of the JSON documents.
. "$(dirname "$0")/lib.bash" || exit 1
. "$(dirname "$0")/ui.bash" || exit 1
D=$DEFTER
unset DEFTER_VAULT
V="$T/v"
P="$T/pass"
unset DEFTER_PASSPHRASE_FILE
dv() { "$D" --vault "$V" --passphrase-file "$P" "$@"; }
has() { # KEYS...: $out is an object with these keys
    for k in "$@"; do
        [ "$(json "'$k' in J")" = True ] || fail "missing key $k in: $out"
    done
}
h32() { # EXPR: a standard base64 hash of 32 bytes
    [ "$(json "len(__import__('base64').b64decode($1, validate=True)) == 32")" = True ] || fail "not a base64 hash: $1 in $out"
}

# defter init [--kdf interactive|moderate|sensitive]  ->  {"vault":…, "identity":…}
expect 0 dv --json init --kdf interactive
has vault identity
# the passphrase can also come from $DEFTER_PASSPHRASE_FILE; --vault else $DEFTER_VAULT
DEFTER_VAULT="$T/v2" DEFTER_PASSPHRASE_FILE="$P" expect 0 "$D" --json init --kdf interactive
has vault identity
DEFTER_VAULT="$T/v2" DEFTER_PASSPHRASE_FILE="$P" expect 0 "$D" --json list

# defter add TYPE [FIELD=VALUE…]  ->  {"id":…}
expect 0 dv --json add person "name=Nariman Dzhelyal" "name_variants=Нариман Джелял"
has id
PER=$(json 'J["id"]')
expect 0 dv --json add case "title=Case of the deputy chairman" "case_number=1-34/2021"
CASE=$(json 'J["id"]')
for t in event proceeding source note place organization; do
    expect 0 dv --json add "$t" "title=a $t"
    has id
done
# defter add TYPE --from-json FILE  ->  {"ids":[…]}
printf '[{"name":"Asan Akhtemov"},{"name":"Aziz Akhtemov"}]' >"$T/b.json"
expect 0 dv --json add person --from-json "$T/b.json"
[ "$(json 'len(J["ids"])')" = 2 ] || fail "add TYPE --from-json FILE: $out"
# defter add TYPE --from-json -  ->  {"ids":[…]}
out=$(printf '[{"title":"Detention"}]' | dv --json add event --from-json -) || fail "stdin add"
[ "$(json 'len(J["ids"])')" = 1 ] || fail "add TYPE --from-json -: $out"
# defter add TYPE FIELD=VALUE --from-json is one form of the table: TYPE with FIELDs or a file
# defter show ID  ->  the record with fields, relations, evidence
expect 0 dv --json show "$PER"
has id type title fields relations evidence
[ "$(json 'J["title"]')" = "Nariman Dzhelyal" ] || fail "a person's title is its name"
# defter list [TYPE]
expect 0 dv --json list
[ "$(json 'isinstance(J, list) and all("id" in r and "type" in r and "title" in r for r in J)')" = True ] || fail "list shape: $out"
expect 0 dv --json list person
[ "$(json 'len(J) == 3 and all(r["type"] == "person" for r in J)')" = True ] || fail "list TYPE: $out"
# defter edit ID FIELD=VALUE…  ->  {"id":…}
expect 0 dv --json edit "$PER" "summary=deputy chairman of the Mejlis" "birth_date=1980"
has id
# defter link ID ID --role ROLE  ->  {"id":…}
expect 0 dv --json link "$PER" "$CASE" --role victim
has id
LNK=$(json 'J["id"]')
expect 0 dv --json show "$CASE"
[ "$(json '[r["role"] for r in J["relations"]]')" = "['victim']" ] || fail "link shows"
# defter delete ID  ->  {"id":…}
expect 0 dv --json delete "$LNK"
has id
# defter attach ID FILE…  ->  [{"id":…,"sha256":…,"size":…}]
printf 'protocol of the search\n' >"$T/a.txt"
head -c 3000000 /dev/urandom >"$T/b.bin"
expect 0 dv --json attach "$CASE" "$T/a.txt" "$T/b.bin"
[ "$(json 'len(J) == 2 and all(set(e) >= {"id","sha256","size"} for e in J)')" = True ] || fail "attach shape: $out"
[ "$(json 'J[0]["sha256"]')" = "$(sha256sum "$T/a.txt" | cut -d' ' -f1)" ] || fail "sha256 hex"
[ "$(json 'J[1]["size"]')" = 3000000 ] || fail "size"
EV=$(json 'J[1]["id"]')
expect 0 dv --json show "$CASE"
[ "$(json 'len(J["evidence"]) == 2 and all("sha256" in e for e in J["evidence"])')" = True ] || fail "show lists evidence"
# defter extract EVIDENCE-ID OUT  ->  {"sha256":…}
expect 0 dv --json extract "$EV" "$T/out.bin"
has sha256
cmp -s "$T/b.bin" "$T/out.bin" || fail "extract content"
[ "$(json 'J["sha256"]')" = "$(sha256sum "$T/b.bin" | cut -d' ' -f1)" ] || fail "extract sha256"
# defter search QUERY [--type T] [--limit N]  ->  {"hits":[{"id","type","title","score"}]}
expect 0 dv --json search "Джелял" --type person --limit 5
[ "$(json 'all(set(h) >= {"id","type","title","score"} for h in J["hits"]) and len(J["hits"]) <= 5')" = True ] || fail "search shape: $out"
[ "$(json 'J["hits"][0]["id"]')" = "$PER" ] || fail "cross-script hit: $out"
expect 0 dv --json search "Nariman"
has hits
# defter identity  ->  {"vkey","sign_pub","box_pub"}; first line of text: the vkey
expect 0 dv --json identity
has vkey sign_pub box_pub
VKEY=$(json 'J["vkey"]')
expect 0 dv identity
[ "$(printf '%s\n' "$out" | head -n1)" = "$VKEY" ] || fail "identity first line"
# defter log [--since N] [--envelopes]
expect 0 dv --json log
has size entries
SIZE=$(json 'J["size"]')
[ "$(json 'all(set(e) >= {"index","leaf_hash","records","action","author","ts"} for e in J["entries"])')" = True ] || fail "log shape"
[ "$(json '[e["index"] for e in J["entries"]] == list(range(J["size"]))')" = True ] || fail "indices"
expect 0 dv --json log --since 2 --envelopes
[ "$(json 'J["entries"][0]["index"] == 2 and all("envelope" in e for e in J["entries"])')" = True ] || fail "log --since --envelopes"
[ "$(json "__import__('hashlib').sha256(b'\\x00' + __import__('base64').b64decode(J['entries'][0]['envelope'])).digest() == __import__('base64').b64decode(J['entries'][0]['leaf_hash'])")" = True ] || fail "leaf hash"
# defter checkpoint  ->  a C2SP signed note on stdout
expect 0 dv checkpoint
[ "$(printf '%s\n' "$out" | head -n1)" = "${VKEY%%+*}" ] || fail "checkpoint origin"
[ "$(printf '%s\n' "$out" | sed -n 2p)" = "$SIZE" ] || fail "checkpoint size"
# defter prove ID  ->  {"index","size","leaf_hash","proof":[…],"checkpoint"}
expect 0 dv --json prove "$CASE"
has index size leaf_hash proof checkpoint
h32 'J["leaf_hash"]'
[ "$(json 'all(len(__import__("base64").b64decode(p)) == 32 for p in J["proof"])')" = True ] || fail "proof hashes"
[ "$(json 'J["size"]')" = "$SIZE" ] || fail "prove size"
[ "$(json 'J["checkpoint"].split("\n")[1]')" = "$SIZE" ] || fail "prove checkpoint size"
# defter prove --consistency OLD NEW
expect 0 dv --json prove --consistency 3 "$SIZE"
has old_size new_size old_root new_root proof
h32 'J["old_root"]'
h32 'J["new_root"]'
[ "$(json "J['old_size'] == 3 and J['new_size'] == $SIZE")" = True ] || fail "consistency sizes"
expect 0 dv --json prove --consistency "$SIZE" "$SIZE"
[ "$(json 'J["proof"]')" = "[]" ] || fail "OLD = NEW: empty proof"
expect 1 dv --json prove --consistency 0 "$SIZE"
expect 1 dv --json prove --consistency 4 3
expect 1 dv --json prove --consistency 1 $((SIZE + 1))
# defter verify  ->  {"ok":true,…}
expect 0 dv --json verify
[ "$(json 'J["ok"]')" = True ] || fail "verify ok"
# defter ui [--port P]: first line the token URL; the API answers after the token exchange
ui_start --vault "$V" --passphrase-file "$P" ui
ui_get /api/records
[ "$code" = 200 ] || fail "ui /api/records: $code"
[ "$(json "any(r['id'] == '$PER' for r in (J if isinstance(J, list) else J.get('records', [])))")" = True ] || fail "ui lists records: $out"
ui_post /api/verify
[ "$code" = 200 ] || fail "ui verify: $code $out"
[ "$(json 'J["ok"]')" = True ] || fail "ui verify ok"
ok
ui_stop
# defter ui --port P: a free port picked here (bound once by the system, then released)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ui_start --vault "$V" --passphrase-file "$P" ui --port "$PORT"
[ "$ui_base" = "http://127.0.0.1:$PORT" ] || fail "ui --port: $ui_base"
ui_get /api/session
[ "$code" = 200 ] || fail "ui --port session: $code"
ok
ui_stop
# usage errors exit 2, user errors 1
expect 2 dv bogus-command
expect 1 dv --json show per_AAAAAAAAAAAAAAAA

echo "contract.sh: $checks checks passed"
