#!/usr/bin/env bash
# Run every bench program on the release build; each prints its figures beside its peer.
set -eu
cd "$(dirname "$0")/.."
B=build/release/bench
[ -x "$B/vfs_bench" ] && "$B/vfs_bench"
exit 0
