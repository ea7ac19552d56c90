#!/usr/bin/env bash
# run.sh - what tests/sync/backends.sh runs once PostgreSQL and radosgw are up (their
# DEFTER_TEST_* variables set): the storage conformance suite on every backend, radosgw's
# refusals asserted, then every serve CLI test (tests/cli/sync*.sh) and the marker scan on
# PostgreSQL + S3 through defter-remote. Prints one line per part; exits 1 if any failed.
set -u
cd "$(dirname "$0")/../../.."
B=${B:-build/asan}
real="$PWD/$B/defter"
fail=0
part() { # part NAME CMD...: run, keep the log, one line
    local name=$1 log
    shift
    log="$TMPDIR_BACKENDS/$(echo "$name" | tr ' /' '__').log"
    if "$@" >"$log" 2>&1; then
        echo "  ok   $name"
    else
        echo "  FAIL $name"
        tail -n 25 "$log" | sed 's/^/      /'
        fail=1
    fi
}
TMPDIR_BACKENDS=$(mktemp -d "${TMPDIR:-/tmp}/defter-backends.XXXXXX")
trap 'rm -rf "$TMPDIR_BACKENDS"' EXIT

part "storage suite (sqlite+files, postgresql, s3)" "$B/tests/sync/test_storage"

# radosgw checks SigV4 (the fakes do not): a wrong secret, an unsigned PUT, a body that does
# not match its x-amz-content-sha256, and libcurl's own SigV4 without that header (curl #8810)
refusals() {
    local E=$DEFTER_TEST_S3_ENDPOINT A=$DEFTER_TEST_S3_ACCESS S=$DEFTER_TEST_S3_SECRET
    local sig="aws:amz:$DEFTER_TEST_S3_REGION:s3" f="$TMPDIR_BACKENDS/body" code body
    local EH=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    printf 'chunk bytes\n' >"$f"
    local h
    h=$(sha256sum "$f" | cut -d' ' -f1)
    c() { curl -s --noproxy '*' -o "$TMPDIR_BACKENDS/resp" -w '%{http_code}' "$@"; }
    code=$(c --aws-sigv4 "$sig" --user "$A:$S" -H "x-amz-content-sha256: $EH" -X PUT "$E/refusals")
    [ "$code" = 200 ] || { echo "bucket: $code"; return 1; }
    code=$(c --aws-sigv4 "$sig" --user "$A:$S" -H "x-amz-content-sha256: $h" -T "$f" "$E/refusals/good")
    [ "$code" = 200 ] || { echo "a good PUT: $code"; return 1; }
    code=$(c --aws-sigv4 "$sig" --user "$A:wrong$S" -H "x-amz-content-sha256: $h" -T "$f" "$E/refusals/a")
    grep -q SignatureDoesNotMatch "$TMPDIR_BACKENDS/resp" && [ "$code" = 403 ] ||
        { echo "wrong secret: $code $(cat "$TMPDIR_BACKENDS/resp")"; return 1; }
    code=$(c -T "$f" "$E/refusals/b")
    [ "$code" = 403 ] || { echo "unsigned PUT: $code"; return 1; }
    code=$(c --aws-sigv4 "$sig" --user "$A:$S" -H "x-amz-content-sha256: $EH" -T "$f" "$E/refusals/c")
    grep -q XAmzContentSHA256Mismatch "$TMPDIR_BACKENDS/resp" && [ "$code" = 400 ] ||
        { echo "body not matching its hash: $code $(cat "$TMPDIR_BACKENDS/resp")"; return 1; }
    code=$(c --aws-sigv4 "$sig" --user "$A:$S" -T "$f" "$E/refusals/d")
    [ "$code" = 403 ] || { echo "no x-amz-content-sha256: $code"; return 1; }
    # none of the refused ones exists
    for k in a b c d; do
        code=$(c --aws-sigv4 "$sig" --user "$A:$S" -H "x-amz-content-sha256: $EH" "$E/refusals/$k")
        [ "$code" = 404 ] || { echo "refused object $k exists: $code"; return 1; }
    done
    echo "radosgw refused: wrong secret 403, unsigned 403, hash mismatch 400, no hash header 403"
}
part "radosgw refusals" refusals

for t in tests/cli/sync*.sh; do
    [ -f "$t" ] || continue
    part "cli ${t#tests/cli/} on postgresql+s3" env DEFTER="$PWD/tests/sync/backends/defter-remote" \
        DEFTER_REAL="$real" bash "$t"
done
part "postgresql crash and server kill -9: nothing acknowledged lost" env DEFTER_REAL="$real" \
    bash tests/sync/backends/pgcrash.sh
part "marker scan on sqlite+files" env DEFTER="$real" bash tests/sync/backends/marker.sh
part "marker scan on postgresql+s3" env DEFTER="$PWD/tests/sync/backends/defter-remote" \
    DEFTER_REAL="$real" bash tests/sync/backends/marker.sh
exit "$fail"
