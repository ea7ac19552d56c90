#!/usr/bin/env bash
# bundle.sh - bundles on the release build: `defter export --bundle` of 1,000 records and
# BUNDLE_BENCH_MB of evidence (default 1024, in 8 files) beside `zip -0` of the same files, and
# `defter-verify` beside `openssl dgst -sha256` of the evidence files, plus the HTML page's time
# (chromium) when it is there. Best of 3, warm page cache. Temporary files under $TMPDIR.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
D=$ROOT/build/defter
V=$ROOT/build/defter-verify
HTML=$ROOT/build/defter-verify.html
MB=${BUNDLE_BENCH_MB:-1024}
[ -x "$D" ] && [ -x "$V" ] || { echo "bundle bench: make build first"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/defter-bundle-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export DEFTER_VAULT="$W/vault" DEFTER_PASSPHRASE_FILE="$W/pass"
printf 'bench\n' >"$W/pass"
"$D" init --kdf interactive >/dev/null
python3 - "$W/records.json" <<'PY'
import json, sys
recs = [{"key": "case", "type": "case", "title": "Bench case", "summary": "one case, 999 people"}]
recs += [{"key": "p%d" % i, "type": "person", "name": "Person %d Bekirov" % i,
          "birth_date": "19%02d-01-01" % (i % 100), "summary": "witness statement %d" % i} for i in range(999)]
links = [["p%d" % i, "case", "witness" if i % 3 == 0 else "victim"] for i in range(999)]
json.dump({"records": recs, "links": links}, open(sys.argv[1], "w"))
PY
"$D" add --from-json "$W/records.json" >/dev/null
CASE=$("$D" --json list case | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
mkdir -p "$W/ev"
per=$((MB / 8))
for i in 1 2 3 4 5 6 7 8; do
    head -c $((per * 1024 * 1024)) /dev/urandom >"$W/ev/file$i.bin"
done
"$D" attach "$CASE" "$W"/ev/*.bin >/dev/null

best() { # best wall seconds of 3 runs of a command
    python3 - "$@" <<'PY'
import subprocess, sys, time
best = None
for _ in range(3):
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    best = dt if best is None or dt < best else best
print("%.3f" % best)
PY
}
t_export=$(best "$D" export --bundle "$W/b.zip" --case "$CASE" --profile court)
size=$(stat -c %s "$W/b.zip")
mkdir -p "$W/x"
(cd "$W/x" && unzip -q ../b.zip)
t_zip=$(best bash -c "cd '$W/x' && rm -f ../peer.zip && zip -0 -q -r ../peer.zip manifest.json custody entries evidence records")
t_verify=$(best "$V" "$W/b.zip")
t_dgst=$(best openssl dgst -sha256 "$W"/x/evidence/*)
echo "bundle: 1000 records, $(ls "$W/x/evidence" | wc -l) evidence files, $((size / 1048576)) MiB"
python3 - "$t_export" "$t_zip" "$t_verify" "$t_dgst" <<'PY'
import sys
e, z, v, d = map(float, sys.argv[1:])
print("export --bundle    %7.3f s   zip -0 of its files %7.3f s   ratio %.2f" % (e, z, e / z))
print("defter-verify      %7.3f s   openssl dgst -sha256 %6.3f s   ratio %.2f (goal <= 1.2)" % (v, d, v / d))
PY
if [ -f "$HTML" ] && [ -x /usr/bin/chromium ] && [ -d tests/web/node_modules/playwright-core ]; then
    WEB_MODULES=$ROOT/tests/web/package.json node bench/bundle_page.mjs "$HTML" "$W/b.zip" || true
fi
