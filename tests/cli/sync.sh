#!/usr/bin/env bash
# sync.sh - team sync end to end with a real `defter serve` on 127.0.0.1: share, invites for
# an editor, a viewer and a field device, offline edits synced in random orders (fixed seeds)
# to identical views with the conflict listed on every reader, field reads refused, a revoked
# member cut off and unable to open the next epoch, bad inputs changing nothing, and a server
# restarted on an older copy of its data (rollback) caught with exit 3 and nothing merged.
. "$(dirname "$0")/lib.bash"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# start_server DIR [LISTEN]: sets URL, SVKEY, SPID
start_server() {
    local dir=$1 listen=${2:-127.0.0.1:0}
    mkdir -p "$dir"
    rm -f "$dir/out"
    "$DEFTER" serve --listen "$listen" --data "$dir" >"$dir/out" 2>"$dir/err" &
    SPID=$!
    pids+=("$SPID")
    for _ in $(seq 1 400); do
        [ -s "$dir/out" ] && break
        kill -0 "$SPID" 2>/dev/null || fail "server did not start: $(cat "$dir/err")"
        sleep 0.05
    done
    read -r URL SVKEY <"$dir/out" || fail "no first line"
    [[ "$URL" == http://127.0.0.1:* ]] || fail "first line is not a URL: $URL"
    [[ "$SVKEY" == defter.server/*+*+* ]] || fail "first line carries a verifier key: $SVKEY"
}

d() { # d VAULT ARGS...: defter on one member's vault
    local v=$1
    shift
    "$DEFTER" --vault "$T/$v" "$@"
}

expect 2 "$DEFTER" serve --data "$T/x"
expect 2 "$DEFTER" serve --listen nowhere --data "$T/x"
start_server "$T/srv"
[ "$(stat -c %a "$T/srv/server.key")" = 600 ] || fail "server key is 0600"

# the owner shares a vault with history
expect 0 d A init --kdf interactive
expect 0 d A --json add person name="Mustafa Dzhemilev"
P=$(json 'J["id"]')
expect 0 d A --json add case title="Case 1"
C=$(json 'J["id"]')
head -c 200000 /dev/urandom >"$T/scan.bin"
printf 'EVIDENCE-MARKER-7f3a' >>"$T/scan.bin"
expect 0 d A attach "$C" "$T/scan.bin"
expect 2 d A share
expect 1 d A sync
[[ "$errout" == *"not shared"* ]] || fail "sync before share says so: $errout"
expect 0 d A --json share --server "$URL"
cid=$(json 'J["collection"]')
[ "${#cid}" = 32 ] || fail "collection id: $cid"
[ "$(json 'J["pushed"]')" = 3 ] || fail "share pushes history: $out"
expect 1 d A share --server "$URL"
[[ "$errout" == *"already shared"* ]] || fail "second share refused: $errout"

# invites
expect 2 d A member invite admin
for role in editor viewer field; do
    expect 0 d A --json member invite $role
    inv=$(json 'J["invite"]')
    [[ "$inv" == defter-invite:* ]] || fail "invite string: $inv"
    eval "INV_$role=\$inv"
done
expect 0 d B init --kdf interactive --join "$INV_editor"
expect 0 d V init --kdf interactive --join "$INV_viewer"
expect 0 d F init --kdf interactive --join "$INV_field"
# one use: a second join with the same invite is refused, and makes no member
expect 1 d X init --kdf interactive --join "$INV_editor"
[ -e "$T/X" ] && fail "a spent invite makes no vault"
expect 1 d Y init --kdf interactive --join "defter-invite:AAAA"
[ -e "$T/Y" ] && fail "a damaged invite makes no vault"
ok
expect 0 d A --json member list
[ "$(json 'len(J["members"])')" = 4 ] || fail "four members: $out"
[ "$(json '",".join(sorted(m["role"] for m in J["members"]))')" = "editor,field,owner,viewer" ] ||
    fail "roles: $out"
# the readers see the history at once
expect 0 d B --json list
[ "$(json 'len(J)')" = 2 ] || fail "editor reads the history: $out"
# evidence came along: same bytes, and the server holds no plaintext of it
expect 0 d B --json show "$C"
expect 0 d B extract "$(json 'J["evidence"][0]["id"]')" "$T/scan.out"
cmp -s "$T/scan.bin" "$T/scan.out" || fail "evidence extracted by a member is the original"
grep -rqa "EVIDENCE-MARKER-7f3a" "$T/srv" && fail "the server stores evidence in clear"
ok
expect 0 d F --json list
[ "$(json 'len(J)')" = 0 ] || fail "field device reads nothing: $out"

# offline edits: a conflict on one field, plus independent additions
expect 0 d A edit "$P" name="Mustafa Cemilev"
expect 0 d B edit "$P" name="Мустафа Джемилев"
expect 0 d B add note title="editor note"
expect 0 d F add note title="field report"
expect 0 d A link "$P" "$C" --role victim
members=(A B V F)
for seed in 1 2 3; do
    RANDOM=$seed
    for round in 1 2 3; do
        order=$(printf '%s\n' "${members[@]}" | awk -v s=$((RANDOM)) 'BEGIN{srand(s)}{print rand()"\t"$0}' | sort | cut -f2)
        for m in $order; do
            expect 0 d "$m" --json sync
        done
    done
    expect 0 d "${members[$((RANDOM % 2))]}" add note title="seed $seed"
done
for m in A B V F; do expect 0 d "$m" --json sync; done
for m in A B V F; do expect 0 d "$m" --json sync; done
expect 0 d A --json list
view=$out
for m in B V; do
    expect 0 d "$m" --json list
    [ "$out" = "$view" ] || fail "$m's view differs from the owner's"
done
expect 0 d A --json show "$P"
showA=$(printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps([d['fields'],d['relations']],sort_keys=True))")
expect 0 d V --json show "$P"
showV=$(printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps([d['fields'],d['relations']],sort_keys=True))")
[ "$showA" = "$showV" ] || fail "show differs"
printf '%s' "$view" | grep -q "field report" || fail "the field device's note reached the readers"
for m in A B V; do
    expect 0 d "$m" --json conflicts
    [ "$(json 'len(J)')" = 1 ] || fail "$m lists the conflict: $out"
    [ "$(json 'sorted(v["value"] for v in J[0]["values"])')" = "['Mustafa Cemilev', 'Мустафа Джемилев']" ] ||
        fail "both values: $out"
done
expect 0 d F --json list
[ "$(json 'len(J)')" = 1 ] || fail "the field device still reads only its own: $out"
# resolve on one member; after sync no reader lists the conflict and all show the value
expect 0 d V --json conflicts
[ "$(json 'J[0]["record"]')" = "$P" ] || fail "the conflict names the record: $out"
expect 0 d B resolve "$P" name "Mustafa Dzhemilev (Cemilev)"
for m in B A V B A V; do expect 0 d "$m" --json sync; done
for m in A B V; do
    expect 0 d "$m" --json conflicts
    [ "$(json 'len(J)')" = 0 ] || fail "$m: resolved: $out"
    expect 0 d "$m" --json show "$P"
    [ "$(json 'J["fields"]["name"]')" = "Mustafa Dzhemilev (Cemilev)" ] || fail "$m shows it"
done

# a field device's read is refused by the server too (403), not only by cryptography
expect 0 d A --json sync
size=$(json 'J["size"]')

# bad inputs change nothing
expect 2 d A member revoke
expect 2 d A member revoke AAAA
expect 1 d B member invite viewer
[[ "$errout" == *"only an owner"* ]] || fail "an editor cannot invite: $errout"
expect 0 d A --json sync
[ "$(json 'J["size"]')" = "$size" ] || fail "refused commands logged nothing"

# an invite made now is used only after the next epoch begins
expect 0 d A --json member invite viewer
INV_late=$(json 'J["invite"]')

# revoke the editor: cut off at once; the new epoch is sealed to the others only
expect 0 d A --json member list
KB=$(json '[m["key"] for m in J["members"] if m["role"]=="editor"][0]')
expect 0 d A --json member revoke "$KB"
[ "$(json 'J["epoch"]')" = 1 ] || fail "a new epoch: $out"
expect 1 d B --json sync
[[ "$errout" == *"not a member"* ]] || fail "revoked key refused: $errout"
expect 0 d A add note title="after the revocation"
expect 0 d A --json sync
expect 0 d V --json sync
expect 0 d V --json list
printf '%s' "$out" | grep -q "after the revocation" || fail "viewer reads the new epoch"
expect 0 d B --json list
printf '%s' "$out" | grep -q "after the revocation" && fail "the revoked editor reads nothing new"
ok
# the late viewer holds no key of epoch 1 yet: it merges nothing until an owner grants it
expect 0 d L init --kdf interactive --join "$INV_late"
expect 0 d L --json sync
[ "$(json 'J["waiting_for_epoch"]')" = 1 ] || fail "waiting for epoch 1: $out"
expect 0 d A --json sync
[ "$(json 'J["granted"]')" = 1 ] || fail "the owner grants it: $out"
expect 0 d A --json sync
[ "$(json 'J.get("granted", 0)')" = 0 ] || fail "granted once: $out"
expect 0 d L --json sync
[ "$(json '"waiting_for_epoch" in J')" = False ] || fail "no longer waiting: $out"
expect 0 d L --json list
printf '%s' "$out" | grep -q "after the revocation" || fail "the late viewer reads epoch 1"
expect 0 d A --json list
expect 0 d V --json list
view=$out
expect 0 d L --json list
[ "$out" = "$view" ] || fail "the late viewer's view equals the others'"

# rollback: the server restarted on an older copy of its data -> exit 3, nothing merged
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
cp -a "$T/srv" "$T/srv-old"
port=${URL##*:}
start_server "$T/srv" "127.0.0.1:$port"
expect 0 d A add note title="one more"
expect 0 d A --json sync
expect 0 d V --json sync
expect 0 d V --json list
before=$out
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
rm -rf "$T/srv"
mv "$T/srv-old" "$T/srv"
start_server "$T/srv" "127.0.0.1:$port"
expect 3 d V --json sync
[[ "$errout" == *"rolled back"* ]] || fail "rollback named: $errout"
expect 0 d V --json list
[ "$out" = "$before" ] || fail "nothing merged after a rollback"

# fork: a copy of the server's data diverges (the owner pushes to one, the viewer was shown
# the other): the viewer's next sync finds no consistency and exits 3 with evidence kept
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
rm -rf "$T/srv" "$T/srv-fork"
mkdir -p "$T/srv2"
start_server "$T/srv2"
expect 0 d G init --kdf interactive
expect 0 d G --json share --server "$URL"
expect 0 d G --json member invite viewer
expect 0 d W init --kdf interactive --join "$(json 'J["invite"]')"
expect 0 d G --json member invite editor
expect 0 d E init --kdf interactive --join "$(json 'J["invite"]')"
expect 0 d G --json sync
expect 0 d W --json sync
port=${URL##*:}
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
cp -a "$T/srv2" "$T/srv-fork"
start_server "$T/srv2" "127.0.0.1:$port"
expect 0 d G add note title="history one"
expect 0 d G --json sync
expect 0 d W --json sync
expect 0 d W --json list
seen=$out
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
start_server "$T/srv-fork" "127.0.0.1:$port"
# the editor, who saw neither history, pushes to the copy: a real fork of equal size
expect 0 d E add note title="history two"
expect 0 d E --json sync
expect 3 d W --json sync
[[ "$errout" == *"forked"* ]] || fail "fork named: $errout"
# the owner notices too, before pushing anything
expect 0 d G add note title="not for a forked server"
expect 3 d G --json sync
[[ "$errout" == *"forked"* ]] || fail "fork named: $errout"
expect 0 d W --json list
[ "$out" = "$seen" ] || fail "nothing merged after a fork"

# the server is lost: a member re-seeds a new one from its copy, the others follow it
{ kill -9 "$SPID" && wait "$SPID"; } 2>/dev/null
start_server "$T/srv3"
expect 1 d F --json sync --to "$URL"
expect 0 d A --json sync --to "$URL"
[ "$(json 'J["server"]')" = "$URL" ] || fail "the owner moved: $out"
expect 0 d V --json sync --to "$URL"
expect 0 d A add note title="on the new server"
expect 0 d A --json sync
expect 0 d V --json sync
expect 0 d A --json list
view=$out
printf '%s' "$view" | grep -q "on the new server" || fail "the owner works on the new server"
expect 0 d V --json list
[ "$out" = "$view" ] || fail "the viewer follows the new server"

echo "sync.sh: $checks checks passed"
