#!/usr/bin/env bash
# Browser tests of `defter ui`: four suites, each on its own fresh vault and its own `defter ui`
# on a system-chosen loopback port, driven by node's test runner (playwright-core driving
# Debian's /usr/bin/chromium, headless):
#   ui.test.mjs        records, search, privileged notes, languages, lock, evidence, integrity;
#   daily.test.mjs     daily work (issue 16): filters, the case page, delete and restore, print,
#                      languages, spreadsheets, the page without a session, `defter ui --open`;
#   panic.test.mjs     the panic button and the cover page of a camouflaged vault (issue 14);
#   coercion.test.mjs  the Safety page (issue 14), each step checked with the CLI.
# A suite that fails is reported (its failing tests' own reports come last, after the server
# log's tail, so the last lines of a CI log say what failed), then run once more from scratch on
# a fresh vault and server: a browser on a loaded two-core machine is not deterministic. The
# first failure stays in the log and in build/test-logs/web-retried.log; a suite that fails
# twice fails the run. WEB_RETRY=0 turns the second run off.
# Installs nothing: `make deps` (scripts/deps.sh) brings chromium and tests/web/node_modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${DEFTER:-$ROOT/build/defter}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$BIN" ] || { echo "web: no defter binary at $BIN (make build)" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "web: $CHROMIUM missing (make deps)" >&2; exit 1; }
[ -d tests/web/node_modules/playwright-core ] || { echo "web: playwright-core missing (make deps)" >&2; exit 1; }

work=$(mktemp -d /tmp/defter-web-XXXXXX)
server=""
stop_server() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=""
    fi
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

PASSPHRASE="web test passphrase"
printf '%s' "$PASSPHRASE" >"$work/pass"
chmod 600 "$work/pass"
export DEFTER_PASSPHRASE_FILE="$work/pass" DEFTER_BIN="$BIN" DEFTER_PASSPHRASE="$PASSPHRASE" CHROMIUM
# The cross-script part needs the real search subsystem; the placeholder only matches titles.
if [ -f src/search/stub.c ]; then
    export DEFTER_SEARCH_STUB=1
fi

# `defter ui` on vault $1 in the background; sets server (its pid) and DEFTER_URL.
start_ui() { # vault, server log
    local fifo fd url=""
    fifo=$(mktemp -u "$work/out-XXXXXX")
    mkfifo "$fifo"
    "$BIN" --vault "$1" ui >"$fifo" 2>"$2" &
    server=$!
    exec {fd}<"$fifo"
    read -r url <&"$fd" || true
    # keep draining the server's stdout (one reader throughout) so it never blocks or breaks
    cat <&"$fd" >/dev/null 2>&1 &
    exec {fd}<&-
    case "$url" in
    http://127.0.0.1:*/\?t=*) ;;
    *)
        echo "web: defter ui printed no URL (first line: '$url')" >&2
        cat "$2" >&2
        return 1
        ;;
    esac
    export DEFTER_URL="$url"
}

# Each suite's set-up: a fresh vault in directory $1 with what its test file expects.
setup_ui() {
    "$BIN" --vault "$1/vault" init --kdf interactive >/dev/null || return 1
    start_ui "$1/vault" "$1/server.log"
}
setup_daily() { # cases, events, a proceeding with hearings and a photo with EXIF
    local v="$1/vault" case1
    "$BIN" --vault "$v" init --kdf interactive >/dev/null || return 1
    "$BIN" --vault "$v" add --from-json tests/web/daily-data.json >/dev/null || return 1
    node tests/web/exif.mjs "$1/photo.jpg" || return 1
    case1=$("$BIN" --vault "$v" --json list case --where case_number=1-23/2016 |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])') || return 1
    "$BIN" --vault "$v" attach "$case1" "$1/photo.jpg" >/dev/null || return 1
    "$BIN" --vault "$v" edit "$case1" status=appeal >/dev/null || return 1
    export DEFTER_VAULT2="$v" DEFTER_CASE="$case1"
    start_ui "$v" "$1/server.log"
}
setup_panic() { # camouflaged; the test wipes it
    local v="$1/vault"
    "$BIN" --vault "$v" init --kdf interactive --camouflage holiday >/dev/null || return 1
    "$BIN" --vault "$v" add person name="Panic Test Person" >/dev/null || return 1
    export DEFTER_VAULT3="$v"
    start_ui "$v" "$1/server.log" || return 1
    export DEFTER_UI_PID="$server"
}
setup_coercion() {
    local v="$1/vault"
    "$BIN" --vault "$v" init --kdf interactive >/dev/null || return 1
    export DEFTER_VAULT4="$v"
    start_ui "$v" "$1/server.log"
}

mkdir -p build/test-logs
retried_log=build/test-logs/web-retried.log
: >"$retried_log"

# One attempt of suite $1 in directory $2; on failure, the report (see the top).
attempt() { # suite, directory
    local dir=$2 out="$2/node.tap" rc=0
    mkdir -p "$dir"
    if ! "setup_$1" "$dir"; then
        echo "web: setting up the $1 suite failed" >&2
        stop_server
        return 1
    fi
    node --test --test-concurrency=1 "tests/web/$1.test.mjs" >"$out" 2>&1 || rc=$?
    stop_server
    cat "$out"
    if [ "$rc" -ne 0 ]; then
        {
            echo "--- server log ($1)"
            tail -n 8 "$dir/server.log"
            echo "--- failed in tests/web/$1.test.mjs"
            awk '/^not ok/ {p = 1} p {print} p && /^  \.\.\.$/ {p = 0}' "$out" | head -n 22
        } >&2
    fi
    return "$rc"
}

status=0
for suite in ui daily panic coercion; do
    if attempt "$suite" "$work/$suite"; then
        continue
    fi
    {
        echo "== $suite failed on its first run:"
        cat "$work/$suite/node.tap"
        echo "--- server log ($suite)"
        cat "$work/$suite/server.log"
    } >>"$retried_log"
    if [ "${WEB_RETRY:-1}" = 0 ]; then
        status=1
        continue
    fi
    echo "web: the $suite suite failed; running it once more on a fresh vault (first failure above and in $retried_log)" >&2
    if attempt "$suite" "$work/$suite-again"; then
        echo "web: the $suite suite passed on its second run" >&2
    else
        status=1
    fi
done
exit "$status"
