#!/usr/bin/env bash
# radosgw.sh - run a command beside a throw-away Ceph radosgw on loopback (an S3 service that
# checks SigV4, unlike the fakes), then tear it all down.
#
#   bash tests/sync/radosgw.sh COMMAND [ARGS...]
#
# Starts one monitor, one memstore OSD (no disk), `auth none`, and a radosgw on a free
# 127.0.0.1 port; creates a user with radosgw-admin. COMMAND then runs with:
#   DEFTER_TEST_S3_URL       s3://ACCESS:SECRET@127.0.0.1:PORT/BUCKET?region=default&scheme=http
#   DEFTER_TEST_S3_ENDPOINT  http://127.0.0.1:PORT
#   DEFTER_TEST_S3_ACCESS, DEFTER_TEST_S3_SECRET, DEFTER_TEST_S3_REGION
#   DEFTER_TEST_S3_LOG       radosgw's log file (for the marker scan)
#   DEFTER_TEST_S3_CONF      the ceph.conf (radosgw-admin -c ... bucket list, for the scan)
# Exits with COMMAND's status. Every process it started is killed (by pid) and every temp dir
# removed on exit, failure included. Needs the radosgw, ceph-mon, ceph-osd, ceph-common
# packages (scripts/deps.sh).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: radosgw.sh COMMAND [ARGS...]" >&2; exit 2; }
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
    command -v "$b" >/dev/null || { echo "radosgw.sh: $b not installed (scripts/deps.sh)" >&2; exit 2; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/defter-rgw.XXXXXX")
pids=()
cleanup() {
    local st=$?
    set +e
    for p in "${pids[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    if [ "$st" -ne 0 ] && [ -z "${RGW_QUIET:-}" ]; then
        for f in "$dir"/log/*.log; do
            [ -f "$f" ] && { echo "--- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
        done
    fi
    [ -n "${RGW_KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
    exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a port the system picks on 127.0.0.1, released for the daemon to take
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mon_port=$(free_port)
rgw_port=$(free_port)
fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
mkdir -p "$dir/mon" "$dir/osd/0" "$dir/run" "$dir/log" "$dir/rgw"
conf="$dir/ceph.conf"
cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
keyring = $dir/keyring
mon data = $dir/mon/\$id
osd data = $dir/osd/\$id
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon osd auto mark new in = true
osd class update on start = false
osd crush update on start = false
osd max object name len = 460
osd max object namespace len = 64
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
[client]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw_thread_pool_size = 64
CONF

monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >/dev/null 2>&1
ceph-mon -c "$conf" -i a -f >>"$dir/log/mon-stdout.log" 2>&1 &
pids+=($!)
C=(ceph -c "$conf" --connect-timeout 5)
for i in $(seq 1 100); do
    "${C[@]}" mon stat >/dev/null 2>&1 && break
    [ "$i" = 100 ] && { echo "radosgw.sh: monitor did not come up" >&2; exit 1; }
    sleep 0.2
done

osd_uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
id=$("${C[@]}" osd new "$osd_uuid")
ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
# placed by hand: the OSD's own start-up crush update races its monitor session (wrong fsid)
"${C[@]}" osd crush add "osd.$id" 1.0 root=default >/dev/null 2>&1
ceph-osd -c "$conf" -i "$id" -f >>"$dir/log/osd-stdout.log" 2>&1 &
pids+=($!)
for i in $(seq 1 150); do
    "${C[@]}" osd stat 2>/dev/null | grep -q '1 up.*1 in' && break
    [ "$i" = 150 ] && { echo "radosgw.sh: the OSD did not come up" >&2; exit 1; }
    sleep 0.2
done

radosgw -c "$conf" -n client.rgw.a -f >>"$dir/log/rgw-stdout.log" 2>&1 &
pids+=($!)
for i in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "http://127.0.0.1:$rgw_port/" || true)
    [ "$code" = 200 ] && break
    kill -0 "${pids[2]}" 2>/dev/null || { echo "radosgw.sh: radosgw exited" >&2; exit 1; }
    [ "$i" = 300 ] && { echo "radosgw.sh: radosgw did not answer" >&2; exit 1; }
    sleep 0.2
done

access=$(python3 -c 'import secrets; print(secrets.token_hex(10).upper())')
secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
radosgw-admin -c "$conf" -n client.admin user create --uid=defter-test --display-name=defter-test \
    --access-key="$access" --secret-key="$secret" >/dev/null

export DEFTER_TEST_S3_ENDPOINT="http://127.0.0.1:$rgw_port"
export DEFTER_TEST_S3_ACCESS="$access"
export DEFTER_TEST_S3_SECRET="$secret"
export DEFTER_TEST_S3_REGION=default
export DEFTER_TEST_S3_URL="s3://$access:$secret@127.0.0.1:$rgw_port/defter-test?region=default&scheme=http"
export DEFTER_TEST_S3_LOG="$dir/log/client.rgw.a.log"
export DEFTER_TEST_S3_CONF="$conf"
set +e
"$@"
st=$?
set -e
exit "$st"
