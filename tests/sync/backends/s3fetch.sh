#!/usr/bin/env bash
# s3fetch.sh OUTDIR - fetch every object of the test radosgw back into OUTDIR, for the marker
# scan: each object of bucket defter-test through a signed S3 GET (what a client of the service
# gets), and every raw RADOS object of the cluster's data pools (what its disks would hold).
# Needs the DEFTER_TEST_S3_* variables of tests/sync/radosgw.sh. Prints the object count.
set -euo pipefail
out=$1
mkdir -p "$out/s3" "$out/rados"
EH=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
n=0
while IFS= read -r key; do
    [ -n "$key" ] || continue
    curl -sf --noproxy '*' --aws-sigv4 "aws:amz:$DEFTER_TEST_S3_REGION:s3" \
        --user "$DEFTER_TEST_S3_ACCESS:$DEFTER_TEST_S3_SECRET" -H "x-amz-content-sha256: $EH" \
        -o "$out/s3/$(printf '%s' "$key" | tr '/' '_')" "$DEFTER_TEST_S3_ENDPOINT/defter-test/$key"
    n=$((n + 1))
done < <(radosgw-admin -c "$DEFTER_TEST_S3_CONF" bucket list --bucket=defter-test \
    --max-entries=1000000 2>/dev/null | python3 -c 'import json,sys; [print(e["name"]) for e in json.load(sys.stdin)]')
r=0
for pool in $(rados -c "$DEFTER_TEST_S3_CONF" lspools); do
    while IFS= read -r obj; do
        [ -n "$obj" ] || continue
        r=$((r + 1))
        rados -c "$DEFTER_TEST_S3_CONF" -p "$pool" get "$obj" "$out/rados/$pool.$r" 2>/dev/null || true
        # omap values hold bucket indexes and metadata
        rados -c "$DEFTER_TEST_S3_CONF" -p "$pool" listomapvals "$obj" >"$out/rados/$pool.$r.omap" 2>/dev/null || true
    done < <(rados -c "$DEFTER_TEST_S3_CONF" -p "$pool" ls --all 2>/dev/null | awk '{print $NF}')
done
echo "s3fetch: $n objects through S3, $r raw RADOS objects"
