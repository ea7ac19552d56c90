#!/usr/bin/env bash
# contract_team.sh - the commands of issues 11, 13 and 14 (team sync, privileged notes,
# camouflage) run exactly as DESIGN.md and the issues write them: the vault and passphrase come
# from $DEFTER_VAULT and $DEFTER_PASSPHRASE_FILE, so no option is added to the written forms.
# Checks exit statuses and the JSON shapes the contract names.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
SPID=
cleanup() {
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
has() { # KEYS...: $out is an object with these keys
    for k in "$@"; do
        [ "$(json "'$k' in J")" = True ] || fail "missing key $k in: $out"
    done
}
export DEFTER_PASSPHRASE_FILE="$T/pass"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# defter serve --listen 127.0.0.1:PORT --data DIR: first stdout line "URL VKEY", flushed
mkdir -p "$T/srv"
"$D" serve --listen 127.0.0.1:$PORT --data "$T/srv" >"$T/srv.out" 2>"$T/srv.err" &
SPID=$!
for _ in $(seq 1 400); do
    [ -s "$T/srv.out" ] && break
    kill -0 "$SPID" 2>/dev/null || fail "serve did not start: $(cat "$T/srv.err")"
    sleep 0.05
done
read -r URL VKEY <"$T/srv.out" || fail "serve printed no first line"
[ "$URL" = "http://127.0.0.1:$PORT" ] || fail "serve's first word is its URL: $URL"
[[ "$VKEY" == defter.server/*+*+* ]] || fail "serve's second word is a C2SP verifier key: $VKEY"
ok

# the owner's vault: defter init, records
export DEFTER_VAULT="$T/owner"
expect 0 "$D" init --kdf interactive
expect 0 "$D" --json add person "name=Server Osmanov"
PER=$(json 'J["id"]')

# defter share --server URL [--json]  ->  {"collection":…}
expect 0 "$D" share --server "$URL" --json
has collection

# defter member invite owner|editor|viewer|field [--json]  ->  {"invite":…}
for role in editor viewer field owner; do
    expect 0 "$D" member invite $role --json
    has invite
done
expect 0 "$D" member invite editor --json
INVITE=$(json 'J["invite"]')
expect 0 "$D" member invite viewer
[[ "$out" == *defter-invite:* ]] || fail "member invite prints the invite: $out"

# defter sync [--json]  ->  {"pushed":N,"pulled":M,"size":…,"root":…}
expect 0 "$D" sync --json
has pushed pulled size root
expect 0 "$D" sync

# defter init --join INVITE: a new vault on this device, a member of the collection
export DEFTER_VAULT="$T/editor"
expect 0 "$D" init --join "$INVITE"
expect 0 "$D" sync --json
has pushed pulled size root
expect 0 "$D" --json show "$PER"
[ "$(json 'J["title"]')" = "Server Osmanov" ] || fail "the member reads the shared record: $out"
expect 1 "$D" init --join "$INVITE" # one use; this vault exists anyway
expect 0 "$D" edit "$PER" "name=Server Osmanov (editor)"
expect 0 "$D" sync --json

# a concurrent write on the owner's side: defter conflicts [--json], defter resolve ID FIELD VALUE
export DEFTER_VAULT="$T/owner"
expect 0 "$D" edit "$PER" "name=Server Osmanov (owner)"
expect 0 "$D" sync --json
expect 0 "$D" conflicts --json
[ "$(json 'isinstance(J, list) and len(J) == 1')" = True ] || fail "conflicts lists one: $out"
[ "$(json 'J[0]["record"]')" = "$PER" ] || fail "the conflict names the record: $out"
expect 0 "$D" conflicts
expect 0 "$D" resolve "$PER" name "Server Osmanov"
expect 0 "$D" conflicts --json
[ "$(json 'len(J)')" = 0 ] || fail "resolve closes the conflict: $out"

# defter member list|revoke KEY [--since TIME]
expect 0 "$D" member list
expect 0 "$D" --json member list
EKEY=$(json '[m["key"] for m in J["members"] if m["role"] == "editor"][0]')
expect 0 "$D" member revoke "$EKEY" --since 2026-01-01
expect 0 "$D" sync --json

# issue 13: defter add note --privileged
expect 0 "$D" --json add note --privileged "text=strategy for the appeal"
has id
# issue 14: defter init --camouflage NAME
DEFTER_VAULT="$T/cover" expect 0 "$D" init --camouflage notes --kdf interactive
[ -f "$T/cover/notes.001" ] || fail "init --camouflage NAME names the files after NAME"
DEFTER_VAULT="$T/cover" expect 0 "$D" --json list

echo "contract_team.sh: $checks checks passed"
