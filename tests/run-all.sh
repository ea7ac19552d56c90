#!/usr/bin/env bash
# Run every test: cmocka unit tests (ASan+UBSan build), command-line tests, a short fuzz run.
# Prints one line per suite and closes with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
B=build/asan
export DEFTER="$PWD/$B/defter"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0
fail=0
failed=()
logdir=build/test-logs
mkdir -p "$logdir"

run_one() { # name, command...
    local name=$1
    shift
    local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1))
        printf 'PASS %s\n' "$name"
    else
        fail=$((fail + 1))
        failed+=("$name")
        printf 'FAIL %s (log: %s)\n' "$name" "$log"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
}

for t in $(find "$B/tests" -type f -name 'test_*' | sort); do
    run_one "unit ${t#$B/tests/}" "$t"
done
for t in $(find tests/cli -name '*.sh' | sort); do
    run_one "cli ${t#tests/cli/}" bash "$t"
done
# every storage backend runs every test: PostgreSQL 15 and Ceph radosgw started on loopback
if [ -z "${SKIP_BACKENDS:-}" ]; then
    run_one "sync backends (postgresql, radosgw)" bash tests/sync/backends.sh
fi
run_one "style (banned functions, clang-format)" bash tests/style.sh
run_one "layers (include graph, public headers)" bash tests/layers.sh
if [ -z "${SKIP_FUZZ:-}" ]; then
    run_one "fuzz (short run)" bash tests/run-fuzz.sh
fi
if [ -z "${SKIP_WEB:-}" ] && [ -f tests/web/run.sh ]; then
    run_one "web (browser)" bash tests/web/run.sh
fi
if [ -z "${SKIP_WEB:-}" ] && [ -f tests/verify-web/run.sh ]; then
    run_one "verify-web (defter-verify.html against defter-verify)" bash tests/verify-web/run.sh
fi

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
