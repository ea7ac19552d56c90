#!/usr/bin/env bash
# run-demo.sh - `make run`: a demo vault from data/demo/meeting.json, then the main job.
# The demo passphrase is printed: this vault holds only public facts from a news report.
set -euo pipefail
cd "$(dirname "$0")/.."
D=$PWD/build/defter
VAULT=${DEMO_VAULT:-$PWD/build/demo-vault}
PASS=$PWD/build/demo-passphrase
export DEFTER_VAULT=$VAULT DEFTER_PASSPHRASE_FILE=$PASS
if [ ! -f "$VAULT/header" ]; then
    rm -rf "$VAULT"
    printf 'demo passphrase - public data only\n' >"$PASS"
    "$D" init --kdf interactive >/dev/null
    "$D" add --from-json data/demo/meeting.json >/dev/null
    echo "created demo vault $VAULT"
fi
echo "demo vault: $VAULT (passphrase: $(head -n 1 "$PASS"))"
"$D" list
"$D" verify
