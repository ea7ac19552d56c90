#!/usr/bin/env bash
# Run the unit tests of the unsanitized build (build/vg, made by `make valgrind`) and a round of
# command-line commands under valgrind (memcheck): any memory error or definitely lost block
# fails the run. Prints one line per run and closes with "N passed, N failed".
#
# Slow tests are skipped (listed in SLOW below; VG_ALL=1 runs them too): the server tests start
# a real HTTP server and time out under valgrind. Not part of `make test`.
set -u
cd "$(dirname "$0")/.."
B=build/vg
SLOW=(server/test_http)
# VG_OPTS adds options, e.g. VG_OPTS=--track-origins=yes to trace an uninitialised value.
# shellcheck disable=SC2206
VG=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite ${VG_OPTS:-})
pass=0
fail=0
failed=()
logdir=build/test-logs/valgrind
mkdir -p "$logdir"
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/deps.sh)"; exit 1; }
[ -x "$B/defter" ] || { echo "no $B/defter: run 'make valgrind'"; exit 1; }

record() { # name, status, log
    if [ "$2" -eq 0 ]; then
        pass=$((pass + 1))
        printf 'PASS %s\n' "$1"
    else
        fail=$((fail + 1))
        failed+=("$1")
        printf 'FAIL %s (log: %s)\n' "$1" "$3"
        tail -n 40 "$3" | sed 's/^/    /'
    fi
}

for t in $(find "$B/tests" -type f -name 'test_*' | sort); do
    name=${t#$B/tests/}
    if [ -z "${VG_ALL:-}" ] && [[ " ${SLOW[*]} " == *" $name "* ]]; then
        printf 'SKIP %s (slow under valgrind; VG_ALL=1 runs it)\n' "$name"
        continue
    fi
    log="$logdir/$(echo "$name" | tr '/' '_').log"
    "${VG[@]}" "$t" >"$log" 2>&1
    record "unit $name" $? "$log"
done

# Command line: one vault through every command. A command expected to fail runs with another
# valgrind exit code, so that its own exit status 1, 2 or 3 is not taken for a memory error.
T=$(mktemp -d /tmp/defter-vg.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'correct horse battery staple\n' >"$T/pass"
printf 'wrong passphrase\n' >"$T/wrong"
export DEFTER_PASSPHRASE_FILE="$T/pass"
export DEFTER_VAULT="$T/vault"
out=""
n=0
cli() { # cli WANT ARGS...: run defter under valgrind, expect exit WANT, keep stdout in $out
    local want=$1
    shift
    n=$((n + 1))
    local log="$logdir/cli-$n.log"
    local code=1
    [ "$want" -ne 0 ] && code=99
    out=$("${VG[@]/--error-exitcode=1/--error-exitcode=$code}" "$B/defter" "$@" 2>"$log")
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "exit $got, wanted $want" >>"$log"
        record "cli $*" 1 "$log"
        return 1
    fi
    record "cli $*" 0 "$log"
}
jget() { printf '%s' "$out" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

cli 0 init --kdf interactive --json
cli 0 --json add person "name=Ахтем Чийгоз" "x-name_crh=Ahtem Çiygoz"
P=$(jget "['id']")
cli 0 --json add case "title=Case of Ilmi Umerov" "case_number=1-23/2016"
C=$(jget "['id']")
printf '%s' '{"records":[{"type":"person","key":"a","name":"A"},{"type":"event","key":"e",
 "summary":"search"}],"links":[["a","e","witness"]]}' >"$T/batch.json"
cli 0 --json add --from-json "$T/batch.json"
printf '[{"type":"person","name":"ok"},{"type":"robot"}]' >"$T/bad.json"
cli 1 --json add --from-json "$T/bad.json"
cli 0 --json edit "$P" "summary=lawyer"
cli 0 --json link "$P" "$C" --role lawyer
L=$(jget "['id']")
cli 0 --json show "$C"
cli 0 --json delete "$L"
cli 0 --json list
cli 0 --json log
cli 0 --json verify
DEFTER_PASSPHRASE_FILE="$T/wrong" cli 1 list

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
