#!/usr/bin/env bash
# Browser tests of `defter ui`: a fresh vault, `defter ui` on a system-chosen loopback port, then
# ui.test.mjs (node's test runner, playwright-core driving Debian's /usr/bin/chromium, headless).
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
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# One browser suite; on failure the server log's tail, then the failing tests' own reports last
# (a CI log shows only its last lines, and those must name what failed and why).
run_suite() { # test file, server log, label
    local out="$work/node-$(basename "$1").tap" rc=0
    node --test --test-concurrency=1 "$1" >"$out" 2>&1 || rc=$?
    cat "$out"
    if [ "$rc" -ne 0 ]; then
        echo "--- server log ($3)" >&2
        tail -n 8 "$2" >&2
        echo "--- failed in $1" >&2
        awk '/^not ok/ {p = 1} p {print} p && /^  \.\.\.$/ {p = 0}' "$out" | head -n 22 >&2
        status=$rc
    fi
}

printf '%s' "web test passphrase" >"$work/pass"
chmod 600 "$work/pass"
export DEFTER_PASSPHRASE_FILE="$work/pass"
"$BIN" --vault "$work/vault" init --kdf interactive >/dev/null
mkfifo "$work/out"
"$BIN" --vault "$work/vault" ui >"$work/out" 2>"$work/server.log" &
server=$!
exec 3<"$work/out"
read -r url <&3 || { echo "web: defter ui printed no URL" >&2; cat "$work/server.log" >&2; exit 1; }
cat <&3 >/dev/null &
case "$url" in
http://127.0.0.1:*/\?t=*) ;;
*) echo "web: unexpected first line: $url" >&2; exit 1 ;;
esac

# The cross-script part needs the real search subsystem; the placeholder only matches titles.
if [ -f src/search/stub.c ]; then
    export DEFTER_SEARCH_STUB=1
fi
export DEFTER_URL="$url" DEFTER_PASSPHRASE="web test passphrase" CHROMIUM
status=0
run_suite tests/web/ui.test.mjs "$work/server.log" ui

# Daily work (issue 16): a second vault with cases, events, a proceeding with hearings and a
# photo with EXIF, then its own `defter ui` for daily.test.mjs (filters, delete and restore,
# print, languages, spreadsheets, the page without a session, `defter ui --open`).
V2="$work/vault2"
"$BIN" --vault "$V2" init --kdf interactive >/dev/null
"$BIN" --vault "$V2" add --from-json tests/web/daily-data.json >/dev/null
node tests/web/exif.mjs "$work/photo.jpg"
case1=$("$BIN" --vault "$V2" --json list case --where case_number=1-23/2016 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$BIN" --vault "$V2" attach "$case1" "$work/photo.jpg" >/dev/null
"$BIN" --vault "$V2" edit "$case1" status=appeal >/dev/null
mkfifo "$work/out2"
"$BIN" --vault "$V2" ui >"$work/out2" 2>"$work/server2.log" &
server2=$!
exec 4<"$work/out2"
read -r url2 <&4 || { echo "web: the second defter ui printed no URL" >&2; exit 1; }
cat <&4 >/dev/null &
export DEFTER_URL="$url2" DEFTER_BIN="$BIN" DEFTER_VAULT2="$V2" DEFTER_CASE="$case1"
run_suite tests/web/daily.test.mjs "$work/server2.log" daily
kill "$server2" 2>/dev/null || true
wait "$server2" 2>/dev/null || true

# The panic button and the cover page (issue 14): a third vault, camouflaged, and its own
# `defter ui`, which the test wipes.
V3="$work/vault3"
"$BIN" --vault "$V3" init --kdf interactive --camouflage holiday >/dev/null
"$BIN" --vault "$V3" add person name="Panic Test Person" >/dev/null
mkfifo "$work/out3"
"$BIN" --vault "$V3" ui >"$work/out3" 2>"$work/server3.log" &
server3=$!
exec 5<"$work/out3"
read -r url3 <&5 || { echo "web: the third defter ui printed no URL" >&2; exit 1; }
cat <&5 >/dev/null &
export DEFTER_URL="$url3" DEFTER_VAULT3="$V3" DEFTER_UI_PID="$server3" DEFTER_PASSPHRASE="web test passphrase"
run_suite tests/web/panic.test.mjs "$work/server3.log" panic
kill "$server3" 2>/dev/null || true
wait "$server3" 2>/dev/null || true

# The Safety page (issue 14): duress, wipe after N, recovery shares, on a fourth vault with its
# own `defter ui`; the test checks each step with the CLI.
V4="$work/vault4"
"$BIN" --vault "$V4" init --kdf interactive >/dev/null
mkfifo "$work/out4"
"$BIN" --vault "$V4" ui >"$work/out4" 2>"$work/server4.log" &
server4=$!
exec 6<"$work/out4"
read -r url4 <&6 || { echo "web: the fourth defter ui printed no URL" >&2; exit 1; }
cat <&6 >/dev/null &
export DEFTER_URL="$url4" DEFTER_VAULT4="$V4" DEFTER_PASSPHRASE="web test passphrase"
run_suite tests/web/coercion.test.mjs "$work/server4.log" coercion
kill "$server4" 2>/dev/null || true
wait "$server4" 2>/dev/null || true
exit "$status"
