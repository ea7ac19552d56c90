#!/usr/bin/env bash
# add_type.sh - `defter add TYPE --from-json FILE|-` as DESIGN.md writes it: TYPE is the type of
# the elements that name none; an element naming another type is an input error (exit 1,
# nothing written). `add --from-json` without TYPE keeps working, in both input forms.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER

expect 0 "$D" init --kdf interactive

# A file, elements without a type, and one naming the same type.
cat >"$T/people.json" <<'JSON'
[{"name":"Emir-Usein Kuku"},{"type":"person","name":"Server Mustafayev"}]
JSON
expect 0 "$D" --json add person --from-json "$T/people.json"
[ "$(json 'len(J["ids"])')" = 2 ] || fail "two ids"
ids=$(json '" ".join(J["ids"])')
set -- $ids
expect 0 "$D" --json show "$1"
[ "$(json 'J["type"]')" = person ] || fail "TYPE given to an element naming none"
[ "$(json 'J["title"]')" = "Emir-Usein Kuku" ] || fail "title of the first"
expect 0 "$D" --json show "$2"
[ "$(json 'J["type"]')" = person ] || fail "second is a person"
[ "$(json 'J["title"]')" = "Server Mustafayev" ] || fail "batch order"

# The same from stdin, with `-`.
expect 0 "$D" --json add case --from-json - <<<'[{"title":"Case of the Hizb ut-Tahrir four"}]'
[ "$(json 'len(J["ids"])')" = 1 ] || fail "stdin ids"
C=$(json 'J["ids"][0]')
expect 0 "$D" --json show "$C"
[ "$(json 'J["type"]')" = case ] || fail "stdin type"

# TYPE after the file is the same command.
expect 0 "$D" --json add --from-json - event <<<'[{"title":"Search","date":"2016-05-12"}]'
E=$(json 'J["ids"][0]')
expect 0 "$D" --json show "$E"
[ "$(json 'J["type"]')" = event ] || fail "TYPE after --from-json"

# The document form takes TYPE too.
expect 0 "$D" --json add person --from-json - <<<'{"records":[{"key":"a","name":"A"},{"key":"b","type":"person","name":"B"}],"links":[["a","b","witness"]]}'
[ "$(json 'len(J["ids"])')" = 2 ] || fail "document form ids"

# Without TYPE, as before (the demo format), from a file and from stdin.
expect 0 "$D" --json add --from-json - <<<'[{"type":"note","text":"typed"}]'
[ "$(json 'len(J["ids"])')" = 1 ] || fail "without TYPE"
printf '[{"type":"place","title":"Bakhchysarai"}]' >"$T/place.json"
expect 0 "$D" --json add --from-json "$T/place.json"
[ "$(json 'len(J["ids"])')" = 1 ] || fail "without TYPE, file"

# Errors change nothing.
before=$(state)
printf '[{"name":"X"},{"type":"case","title":"other type"}]' >"$T/mixed.json"
expect 1 "$D" --json add person --from-json "$T/mixed.json"
echo "$errout" | grep -q "record 1 has type 'case', not 'person'" || fail "mixed message: $errout"
[ -z "$out" ] || fail "no stdout on error"
expect 1 "$D" add person --from-json - <<<'[{"type":7,"name":"X"}]'
echo "$errout" | grep -q "record 0 has type" || fail "non-string type: $errout"
expect 1 "$D" add person --from-json - <<<'[{"name":"X"},"string"]'
echo "$errout" | grep -q "record 1 is not a JSON object" || fail "not an object: $errout"
expect 1 "$D" add bogus --from-json "$T/people.json"
echo "$errout" | grep -q "unknown record type 'bogus'" || fail "unknown TYPE: $errout"
# Without TYPE, an element naming none is refused as before.
expect 1 "$D" add --from-json - <<<'[{"name":"X"}]'
echo "$errout" | grep -q 'has no "type"' || fail "no type without TYPE: $errout"
expect 1 "$D" add person --from-json "$T/missing.json"
expect 1 "$D" add person --from-json - <<<'{"not":"a list"}'
expect 1 "$D" add person --from-json - <<<'[]'
expect 2 "$D" add person --from-json
expect 2 "$D" add person name=X --from-json "$T/people.json"
echo "$errout" | grep -q "takes only TYPE" || fail "fields with --from-json: $errout"
expect 2 "$D" add person --from-json "$T/people.json" --from-json "$T/people.json"
# The file is checked before the vault is touched: a refused file with a wrong passphrase gives
# the file's one message, and with wipe-after on it does not count as an attempt (the header
# stays byte-identical); only a good file reaches the unlock, which counts.
expect 0 "$D" duress wipe-after 10
cp "$T/vault/header" "$T/header.before"
expect 1 env DEFTER_PASSPHRASE_FILE="$T/wrong" "$D" add person --from-json "$T/mixed.json"
[ "$errout" = "defter: record 1 has type 'case', not 'person' as the command says" ] || fail "bad file first: $errout"
printf '[{"name":"X"' >"$T/cut.json"
expect 1 env DEFTER_PASSPHRASE_FILE="$T/wrong" "$D" add person --from-json "$T/cut.json"
echo "$errout" | grep -q "^defter: malformed JSON in" || fail "malformed file first: $errout"
[ "$(echo "$errout" | wc -l)" = 1 ] || fail "one message: $errout"
cmp -s "$T/header.before" "$T/vault/header" || fail "a refused file moved the attempt counter"
expect 1 env DEFTER_PASSPHRASE_FILE="$T/wrong" "$D" add person --from-json "$T/people.json"
[ "$errout" = "defter: wrong passphrase or damaged header" ] || fail "unlock after a good file: $errout"
cmp -s "$T/header.before" "$T/vault/header" && fail "a wrong passphrase with wipe-after on did not count"
expect 0 "$D" duress wipe-after off
[ "$(state)" = "$before" ] || fail "a refused add changed the vault"

echo "add_type.sh: $checks checks passed"
