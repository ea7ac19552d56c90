#!/usr/bin/env bash
# marker.sh - after a team syncs, the server's storage holds no plaintext: records, a file
# name and an evidence file carry a random marker; after share, join and sync the marker scan
# (UTF-8, UTF-16LE/BE, base64 at every alignment) finds nothing in the server's data folder
# (its SQLite files), its log (run with --verbose), and, on the remote backends, the PostgreSQL
# data directory and log, every S3 object fetched back, every raw RADOS object and the
# radosgw log. A positive control (the plaintext file itself) must hit, so a scan that cannot
# see is caught too.
#   DEFTER=build/asan/defter bash tests/sync/backends/marker.sh                (SQLite + files)
#   run by tests/sync/backends.sh with DEFTER=tests/sync/backends/defter-remote (pg + S3)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../cli/lib.bash"
scan="$here/../markerscan.sh"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

M="Dft$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')Mk"
srv="$T/srv"
mkdir -p "$srv"
"$DEFTER" serve --listen 127.0.0.1:0 --data "$srv" --verbose >"$T/serve.out" 2>"$T/serve.log" &
pids+=($!)
for _ in $(seq 1 400); do
    [ -s "$T/serve.out" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "server did not start: $(cat "$T/serve.log")"
    sleep 0.05
done
read -r URL _ <"$T/serve.out" || fail "no first line"

d() {
    local v=$1
    shift
    "$DEFTER" --vault "$T/$v" "$@"
}
expect 0 d A init --kdf interactive
expect 0 d A --json add person name="$M Person" name_variants:='["'"$M"' Variant"]'
P=$(json 'J["id"]')
expect 0 d A --json add case title="Case $M" summary="about $M"
C=$(json 'J["id"]')
expect 0 d A link "$P" "$C" --role victim
printf 'evidence text %s\n%s\n' "$M" "$(printf '%s' "$M" | iconv -t UTF-16LE | base64)" >"$T/$M-scan.txt"
expect 0 d A attach "$P" "$T/$M-scan.txt"
expect 0 d A --json share --server "$URL"
expect 0 d A --json member invite editor
inv=$(json 'J["invite"]')
expect 0 d B init --kdf interactive --join "$inv"
expect 0 d B edit "$P" name="$M Edited"
expect 0 d B add note title="note $M" text="text $M"
expect 0 d B --json sync
expect 0 d A --json sync
expect 0 d A --json show "$P"
[[ "$out" == *"$M Edited"* ]] || fail "the edit synced: $out"
# the positive control: the scanner sees the marker where it is in clear
expect 1 bash "$scan" "$M" "$T/$M-scan.txt"

targets=("$srv" "$T/serve.log")
if [ -n "${DEFTER_TEST_PG_DATA:-}" ]; then
    psql -q "$DEFTER_TEST_PG_URL" -c CHECKPOINT >/dev/null # flush pages beside the WAL
    targets+=("$DEFTER_TEST_PG_DATA")
    [ -n "${DEFTER_TEST_PG_LOG:-}" ] && targets+=("$DEFTER_TEST_PG_LOG")
fi
if [ -n "${DEFTER_TEST_S3_CONF:-}" ]; then
    bash "$here/s3fetch.sh" "$T/s3" || fail "cannot fetch the S3 objects back"
    n=$(find "$T/s3/s3" -type f | wc -l)
    [ "$n" -gt 0 ] || fail "the evidence reached no S3 object: nothing to scan"
    targets+=("$T/s3" "$DEFTER_TEST_S3_LOG")
else
    n=$(find "$srv/chunks" -type f 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || fail "the evidence reached no chunk file: nothing to scan"
fi
# the member who did not attach it extracts the evidence intact
expect 0 d B --json show "$P"
ev=$(json '[e["id"] for e in J.get("evidence", [])][0]')
expect 0 d B extract "$ev" "$T/extracted"
cmp -s "$T/extracted" "$T/$M-scan.txt" || fail "the evidence arrived changed"
expect 0 bash "$scan" "$M" "${targets[@]}"
echo "$out"
echo "marker.sh: $checks checks passed"
