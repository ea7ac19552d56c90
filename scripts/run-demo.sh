#!/usr/bin/env bash
# run-demo.sh - `make run`: a demo vault from data/demo/meeting.json, then `defter ui` on it.
# The demo passphrase is printed: this vault holds only public facts from a news report.
# The first line `defter ui` prints on stdout is the one-time URL to open in a browser.
#
#   DEMO_VAULT=DIR   vault directory (default build/demo-vault)
#   PORT=N           port for `defter ui` (default: the system chooses)
#   DEMO_NO_SERVE=1  only create the vault
set -euo pipefail
cd "$(dirname "$0")/.."
D=${DEFTER:-$PWD/build/defter}
VAULT=${DEMO_VAULT:-$PWD/build/demo-vault}
PASS=$PWD/build/demo-passphrase
export DEFTER_VAULT=$VAULT DEFTER_PASSPHRASE_FILE=$PASS
mkdir -p build
( umask 077 && printf 'demo passphrase - public data only\n' >"$PASS" )
if [ ! -f "$VAULT/header" ]; then
    rm -rf "$VAULT"
    "$D" init --kdf interactive >/dev/null
    "$D" add --from-json data/demo/meeting.json >/dev/null
    echo "created demo vault $VAULT" >&2
fi
echo "demo vault: $VAULT (passphrase: $(head -n 1 "$PASS"))" >&2
"$D" verify >&2
[ -n "${DEMO_NO_SERVE:-}" ] && exit 0
echo "open the URL below in a browser on this machine (Ctrl-C stops):" >&2
exec "$D" ui ${PORT:+--port "$PORT"}
