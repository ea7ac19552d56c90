#!/usr/bin/env bash
# run.sh - every bench program on the release build, each printing figures beside its peer.
set -u
cd "$(dirname "$0")/.."
for b in build/release/bench/*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
    echo
done
for s in bench/*.sh; do
    [ -f "$s" ] && [ "$(basename "$s")" != run.sh ] && { echo "== $s"; bash "$s"; echo; }
done
exit 0
