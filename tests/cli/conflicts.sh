#!/usr/bin/env bash
# conflicts.sh - `defter conflicts` and `defter resolve` on a vault of one member (no sync
# server here: the merge itself is tested in tests/vault/test_sync.c), and the parents every
# operation now carries.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER

expect 0 "$D" init --kdf interactive --json
expect 0 "$D" --json conflicts
[ "$(json 'J')" = "[]" ] || fail "a vault never shared has no conflicts: $out"
expect 0 "$D" conflicts
[ "$out" = "no conflicts" ] || fail "human output: $out"
expect 2 "$D" conflicts extra

# every operation names the operations on its record its author had seen
expect 0 "$D" --json add person "name=Server Mustafayev"
P=$(json 'J["id"]')
expect 0 "$D" --json edit "$P" "summary=detained"
expect 0 "$D" --json edit "$P" "summary=sentenced"
expect 0 "$D" --json show "$P"
[ "$(json 'J["history"][0]["parents"]')" = "[]" ] || fail "a create has no parents"
[ "$(json 'J["history"][1]["parents"] == [J["history"][0]["id"]]')" = True ] || fail "parents"
[ "$(json 'J["history"][2]["parents"] == [J["history"][1]["id"]]')" = True ] || fail "parents"

# resolve: usage, nothing to resolve; nothing changes
before=$(state)
expect 2 "$D" resolve "$P" name
expect 2 "$D" resolve "$P" _deleted maybe
expect 1 "$D" resolve "$P" name "Server M."
echo "$errout" | grep -q "no conflict on field 'name'" || fail "message: $errout"
expect 1 "$D" resolve per_0000000000000000 name X
expect 1 "$D" resolve "$P" "bad name" X
[ "$(state)" = "$before" ] || fail "a refused resolve changed the vault"
expect 0 "$D" --json verify

# a vault made before parents existed: opens, verifies, and its next edit names the old head
cp -a "$(dirname "$0")/data/legacy-v1" "$T/legacy" && mkdir "$T/legacy/objects"
expect 0 "$D" --vault "$T/legacy" --json list person
L=$(json 'J[0]["id"]')
expect 0 "$D" --vault "$T/legacy" --json show "$L"
[ "$(json '"parents" in J["history"][0]')" = False ] || fail "the fixture has no parents"
expect 0 "$D" --vault "$T/legacy" --json edit "$L" "summary=after the upgrade"
expect 0 "$D" --vault "$T/legacy" --json show "$L"
[ "$(json 'J["history"][1]["parents"] == [J["history"][0]["id"]]')" = True ] ||
    fail "an edit of an old record names its last operation: $out"
expect 0 "$D" --vault "$T/legacy" --json conflicts
[ "$(json 'J')" = "[]" ] || fail "old operations are no conflict: $out"
expect 0 "$D" --vault "$T/legacy" verify
echo "conflicts.sh: $checks checks ok"
