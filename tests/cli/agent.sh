#!/usr/bin/env bash
# agent.sh - one unlock for a working session: `defter unlock`, commands without the passphrase
# through the agent (stdin, relative paths, exit statuses), `status`, `lock`, the idle lock,
# --for, SIGTERM, kill -9 leaving the vault intact, another uid refused, a stale or foreign
# socket falling back to the passphrase, and `defter ui` with CLI commands at once.
cd "$(dirname "$0")/../.." || exit 1
source tests/cli/lib.bash
D=$DEFTER
mkdir -m 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run" # this test's own sockets, apart from every other test
unset DEFTER_AGENT_IDLE
NOPASS=(env -u DEFTER_PASSPHRASE_FILE)
agent_pid() { "$D" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin).get("pid",""))'; }
wait_gone() { # wait_gone PID: until the process has exited (no time limit: the test runner has one)
    while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
}
cleanup_agents() {
    chmod 700 "$T" "$T/run" "$T/run/defter" 2>/dev/null # as the uid part left them, on a failure
    "${NOPASS[@]}" "$D" lock >/dev/null 2>&1
    [ -n "${ui_pid:-}" ] && kill "$ui_pid" 2>/dev/null
    [ -n "${other:-}" ] && userdel -r "$other" >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup_agents EXIT

expect 0 "$D" init --kdf interactive
expect 0 "$D" add person name=Ali

# ---- locked: status says so, nothing runs without the passphrase ----
expect 0 "$D" status
[ "$out" = "locked: $(realpath "$T/vault")" ] || fail "status before unlock: $out"
expect 0 "$D" --json status
[ "$(json 'J["locked"]')" = True ] || fail "status --json before unlock: $out"
expect 1 "${NOPASS[@]}" "$D" list
grep -q "no passphrase" <<<"$errout" || fail "without agent: $errout"

# ---- bad input to unlock changes nothing ----
expect 2 "$D" unlock --for 0s
expect 2 "$D" unlock --for soon
expect 2 "$D" unlock --idle 5x
expect 2 "$D" unlock --for 31d
expect 2 "$D" unlock extra
expect 1 "$D" --passphrase-file "$T/wrong" unlock
grep -qi "passphrase" <<<"$errout" || fail "wrong passphrase: $errout"
expect 0 "$D" --json status
[ "$(json 'J["locked"]')" = True ] || fail "a refused unlock left an agent: $out"
expect 1 "$D" --vault "$T/nothing" unlock
grep -q "no vault" <<<"$errout" || fail "unlock of a missing vault: $errout"

# ---- unlock, then commands without the passphrase ----
expect 0 "$D" unlock --for 1h
grep -q "^unlocked: " <<<"$out" || fail "unlock: $out"
pid=$(agent_pid)
[ -n "$pid" ] || fail "no agent pid"
expect 0 "$D" --json status
[ "$(json 'J["locked"]')" = False ] || fail "status after unlock: $out"
[ "$(json 'J["idle_seconds"]')" = 900 ] || fail "default idle time: $out"
# not dumpable, no core file
grep -Eq '^Max core file size +0 +0' "/proc/$pid/limits" || fail "agent core limit"
if [ "$(id -u)" != 0 ]; then
    [ "$(stat -c %u "/proc/$pid/status")" = 0 ] || fail "agent is dumpable"
fi
sock=$("$D" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["socket"])')
[ "$(stat -c %a "$(dirname "$sock")")" = 700 ] || fail "socket directory mode"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode"
expect 0 "$D" unlock # already unlocked: says so, keeps the agent
[ "$(agent_pid)" = "$pid" ] || fail "a second unlock replaced the agent"

expect 0 "${NOPASS[@]}" "$D" list
grep -q "Ali" <<<"$out" || fail "list through the agent: $out"
expect 0 "${NOPASS[@]}" "$D" --json add person name=Veli
veli=$(json 'J["id"]')
# stdin through the agent, --json output, and the exit statuses of errors
out=$(printf '[{"type":"person","name":"Ахтем"}]' | "${NOPASS[@]}" "$D" --json add --from-json - 2>"$T/stderr") ||
    fail "add --from-json - through the agent: $(cat "$T/stderr")"
[ "$(json 'len(J["ids"])')" = 1 ] || fail "batch through the agent: $out"
out=$(printf '[{"type":"person","name":"Второй"}]' | "${NOPASS[@]}" "$D" --json add --from-json - 2>/dev/null) ||
    fail "second stdin request"
[ "$(json 'len(J["ids"])')" = 1 ] || fail "stdin of a second request: $out"
expect 2 "${NOPASS[@]}" "$D" add
expect 1 "${NOPASS[@]}" "$D" add unicorn name=x
grep -q "unicorn" <<<"$errout" || fail "error message through the agent: $errout"
expect 1 "${NOPASS[@]}" "$D" show per_aaaaaaaaaaaaaaaa
expect 0 "${NOPASS[@]}" "$D" --json search Veli
[ "$(json 'J["hits"][0]["id"]')" = "$veli" ] || fail "search through the agent: $out"
# relative paths resolve in the command's directory, and the output file gets its umask
mkdir "$T/work"
printf 'evidence bytes\n' >"$T/work/scan.txt"
out=$(cd "$T/work" && "${NOPASS[@]}" "$D" --json attach "$veli" scan.txt 2>"$T/stderr") ||
    fail "attach through the agent: $(cat "$T/stderr")"
evid=$(json 'J[0]["id"]')
(cd "$T/work" && umask 077 && "${NOPASS[@]}" "$D" extract "$evid" out.txt >/dev/null) ||
    fail "extract through the agent"
cmp "$T/work/scan.txt" "$T/work/out.txt" || fail "extract through the agent: content"
[ "$(stat -c %a "$T/work/out.txt")" = 600 ] || fail "extract ignored the command's umask"
ok
# commands that never go through the agent
expect 1 "$D" passwd --new-passphrase-file "$T/wrong"
grep -q "defter lock" <<<"$errout" || fail "passwd while unlocked: $errout"
expect 0 "${NOPASS[@]}" "$D" --json verify
[ "$(json 'J["ok"]')" = True ] || fail "verify through the agent: $out"

# ---- a raw client of another uid is refused by the agent itself (SO_PEERCRED) ----
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v setpriv >/dev/null; then
    other=dftagent$$
    useradd -M -r -s /usr/sbin/nologin "$other" >/dev/null 2>&1 || fail "useradd"
    ouid=$(id -u "$other")
    chmod 600 "$T/pass" "$T/wrong"
    chmod 711 "$T" "$T/run" # only the agent's own directory stands in the way
    # the directory is the user's own: another uid cannot even reach the socket ...
    setpriv --reuid="$ouid" --regid="$ouid" --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); sys.exit("connected")
except PermissionError:
    pass' "$sock" || fail "another uid reached the socket"
    ok
    # ... and when the directory is opened up, the agent refuses it by uid
    chmod 711 "$(dirname "$sock")"
    chmod 666 "$sock"
    reply=$(setpriv --reuid="$ouid" --regid="$ouid" --clear-groups /usr/bin/python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
# the agent answers at accept, before reading a byte of another uid (so read first: a request
# left unread would reset the connection before the answer is read)
data = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    data += c
magic, status, flags, n = struct.unpack("=IiII", data[:16])
print(status, data[16:16 + n].decode())' "$sock") || fail "raw client"
    chmod 700 "$(dirname "$sock")" "$T/run" "$T"
    chmod 600 "$sock"
    grep -q "^1 refused" <<<"$reply" || fail "another uid was not refused: $reply"
    ok
    # the `defter` of another user never uses this agent: it asks for the passphrase
    expect 1 setpriv --reuid="$ouid" --regid="$ouid" --clear-groups env -u DEFTER_PASSPHRASE_FILE \
        XDG_RUNTIME_DIR="$T/run" "$D" --vault "$T/vault" list
    grep -q "Ali" <<<"$out" && fail "another uid got data"
    expect 0 "${NOPASS[@]}" "$D" list # the agent still serves its user
else
    echo "SKIP another uid refused: needs root, useradd and setpriv (running as uid $(id -u))"
fi

# ---- lock wipes: the passphrase is needed again ----
expect 0 "$D" lock
grep -q "keys wiped" <<<"$out" || fail "lock: $out"
wait_gone "$pid"
[ ! -e "$sock" ] || fail "lock left the socket"
expect 1 "${NOPASS[@]}" "$D" list
expect 0 "$D" lock # nothing to lock: still fine
grep -q "no agent" <<<"$out" || fail "lock without agent: $out"

# ---- idle lock (the idle time is settable: option and environment) ----
expect 0 "$D" unlock --idle 1s
pid=$(agent_pid)
wait_gone "$pid"
expect 0 "$D" --json status
[ "$(json 'J["locked"]')" = True ] || fail "idle lock: $out"
expect 1 "${NOPASS[@]}" "$D" list
expect 0 env DEFTER_AGENT_IDLE=2s "$D" --json unlock
[ "$(json 'J["idle_seconds"]')" = 2 ] || fail "DEFTER_AGENT_IDLE: $out"
wait_gone "$(agent_pid)"
ok
expect 2 env DEFTER_AGENT_IDLE=never "$D" unlock

# ---- --for: never outlives it, even while in use ----
expect 0 "$D" unlock --for 2s --idle 1h
pid=$(agent_pid)
until_s=$("$D" --json status | python3 -c '
import json, sys, datetime
J = json.load(sys.stdin)
u = datetime.datetime.strptime(J["until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
print(int((u - datetime.datetime.now(datetime.timezone.utc)).total_seconds()))')
[ "$until_s" -le 2 ] || fail "--for 2s: until in $until_s s"
while kill -0 "$pid" 2>/dev/null; do "${NOPASS[@]}" "$D" list >/dev/null 2>&1; sleep 0.2; done
expect 1 "${NOPASS[@]}" "$D" list

# ---- SIGTERM locks ----
expect 0 "$D" unlock
pid=$(agent_pid)
kill -TERM "$pid"
wait_gone "$pid"
expect 1 "${NOPASS[@]}" "$D" list
[ ! -e "$sock" ] || fail "SIGTERM left the socket"

# ---- kill -9 leaves the vault intact; the stale socket falls back to the passphrase ----
expect 0 "$D" unlock
pid=$(agent_pid)
expect 0 "${NOPASS[@]}" "$D" add person name=Beforekill
kill -9 "$pid"
wait_gone "$pid"
[ -S "$sock" ] || fail "expected a stale socket after kill -9"
expect 1 "${NOPASS[@]}" "$D" list # stale socket: no agent, no passphrase
grep -q "no passphrase" <<<"$errout" || fail "stale socket: $errout"
expect 0 "$D" --json verify
[ "$(json 'J["ok"]')" = True ] || fail "verify after kill -9: $out"
expect 0 "$D" list
grep -q Beforekill <<<"$out" || fail "data lost by kill -9"
expect 0 "$D" unlock # replaces the stale socket
expect 0 "${NOPASS[@]}" "$D" list
expect 0 "$D" lock

# ---- a foreign listener at the socket path: ignored, the passphrase is asked ----
python3 -c '
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
os.write(1, b"ready\n")
while True:
    c, _ = s.accept(); c.recv(16); c.sendall(b"garbage that is not an answer"); c.close()
' "$sock" >"$T/fake.out" &
fake=$!
while ! grep -q ready "$T/fake.out" 2>/dev/null; do sleep 0.05; done
expect 1 "${NOPASS[@]}" "$D" list
grep -q "no passphrase" <<<"$errout" || fail "a foreign socket did not fall back: $errout"
expect 0 "$D" list # with the passphrase, as without an agent
grep -q "Ali" <<<"$out" || fail "list beside a foreign socket: $out"
kill "$fake"
wait "$fake" 2>/dev/null
rm -f "$sock"

# ---- `defter ui` and CLI commands at once ----
expect 0 "$D" unlock
mkfifo "$T/ui.out"
"${NOPASS[@]}" "$D" ui >"$T/ui.out" 2>"$T/ui.err" &
ui_pid=$!
exec 3<"$T/ui.out"
read -r url <&3 || fail "ui printed no URL: $(cat "$T/ui.err")"
[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+/\?t=[0-9a-f]{64}$ ]] || fail "ui URL: $url"
port=${url#http://127.0.0.1:}
port=${port%%/*}
jar="$T/cookies"
curl -s -o /dev/null -c "$jar" "$url" || fail "token exchange"
ok
expect 0 "${NOPASS[@]}" "$D" --json add case title="Case from the CLI"
case_id=$(json 'J["id"]')
out=$(curl -s -b "$jar" "http://127.0.0.1:$port/api/records/$case_id")
[ "$(json 'J["title"]')" = "Case from the CLI" ] || fail "the UI does not see the CLI's record: $out"
out=$(curl -s -b "$jar" "http://127.0.0.1:$port/api/session")
csrf=$(json 'J["csrf"]')
out=$(curl -s -b "$jar" -H "Origin: http://127.0.0.1:$port" -H "X-CSRF-Token: $csrf" \
    -H 'Content-Type: application/json' -d '{"type":"person","name":"From the UI"}' \
    "http://127.0.0.1:$port/api/records")
grep -q '"id"' <<<"$out" || fail "add in the UI: $out"
expect 0 "${NOPASS[@]}" "$D" list person
grep -q "From the UI" <<<"$out" || fail "the CLI does not see the UI's record: $out"
expect 0 "$D" --json status
[ "$(json 'J["ui"]')" = True ] || fail "status with the UI: $out"
expect 1 "${NOPASS[@]}" "$D" ui # one UI per agent
# Lock in the page wipes the keys: the agent is locked too, the CLI asks for the passphrase
out=$(curl -s -b "$jar" -H "Origin: http://127.0.0.1:$port" -H "X-CSRF-Token: $csrf" -X POST \
    "http://127.0.0.1:$port/api/lock")
grep -q '"locked":true' <<<"$out" || fail "lock in the page: $out"
expect 0 "$D" --json status
[ "$(json 'J["locked"]')" = True ] || fail "status after the page's lock: $out"
expect 1 "${NOPASS[@]}" "$D" list
# unlock in the page: the agent serves commands again
out=$(curl -s -b "$jar" -H "Origin: http://127.0.0.1:$port" -H "X-CSRF-Token: $csrf" \
    --data-binary @<(printf 'correct horse battery staple') "http://127.0.0.1:$port/api/unlock")
grep -q '"locked":false' <<<"$out" || fail "unlock in the page: $out"
expect 0 "${NOPASS[@]}" "$D" list
grep -q "From the UI" <<<"$out" || fail "CLI after the page's unlock: $out"
# stopping `defter ui` keeps the agent and its vault
kill -INT "$ui_pid"
wait "$ui_pid" || fail "defter ui exit status"
ui_pid=""
exec 3<&-
expect 0 "${NOPASS[@]}" "$D" list
grep -q "Case from the CLI" <<<"$out" || fail "the agent lost its vault with the UI"
# `defter lock` while a UI runs stops the UI and wipes the keys
"${NOPASS[@]}" "$D" ui >"$T/ui2.out" 2>"$T/ui2.err" &
ui_pid=$!
while ! grep -q '^http' "$T/ui2.out" 2>/dev/null; do sleep 0.05; done
expect 0 "$D" lock
wait "$ui_pid" || fail "defter ui after lock"
ui_pid=""
grep -q "locked" "$T/ui2.err" || fail "ui after lock: $(cat "$T/ui2.err")"
expect 1 "${NOPASS[@]}" "$D" list
# without an agent, `defter ui` works as before (passphrase at start)
"$D" ui >"$T/ui3.out" 2>"$T/ui3.err" &
ui_pid=$!
while ! grep -q '^http' "$T/ui3.out" 2>/dev/null; do
    kill -0 "$ui_pid" 2>/dev/null || fail "ui without agent: $(cat "$T/ui3.err")"
    sleep 0.05
done
expect 1 "$D" list # meanwhile: in use, and how to have both at once
grep -q "defter unlock" <<<"$errout" || fail "busy vault without agent: $errout"
kill -TERM "$ui_pid"
wait "$ui_pid" || fail "defter ui without agent exit status"
ui_pid=""
expect 0 "$D" --json verify
[ "$(json 'J["ok"]')" = True ] || fail "final verify: $out"

echo "agent.sh: $checks checks passed"
