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

# A suite's result: one line, and the tail of its log when it failed.
report() { # name, log, exit status
    if [ "$3" -eq 0 ]; then
        pass=$((pass + 1))
        printf 'PASS %s\n' "$1"
    else
        fail=$((fail + 1))
        failed+=("$1")
        printf 'FAIL %s (log: %s)\n' "$1" "$2"
        tail -n 30 "$2" | sed 's/^/    /'
    fi
}

log_of() { echo "$logdir/$(echo "$1" | tr '/ ' '__').log"; }

run_one() { # name, command...
    local name=$1
    shift
    local log
    log=$(log_of "$name")
    "$@" >"$log" 2>&1
    report "$name" "$log" $?
}

# The unit tests and command-line suites are independent (each makes its own temporary
# folders and asks the system for its ports), so they run TEST_JOBS at a time (default: one
# per core); the results are printed in the order the suites are listed.
jobs_max=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
names=()
cmds=()
for t in $(find "$B/tests" -type f -name 'test_*' | sort); do
    names+=("unit ${t#$B/tests/}")
    cmds+=("$t")
done
for t in $(find tests/cli -name '*.sh' | sort); do
    names+=("cli ${t#tests/cli/}")
    cmds+=("bash $t")
done
statusdir=$(mktemp -d)
trap 'rm -rf "$statusdir"' EXIT
shown=0
show_finished() { # print, in list order, the results that are in
    while [ "$shown" -lt "${#names[@]}" ] && [ -f "$statusdir/$shown.done" ]; do
        report "${names[$shown]}" "$(log_of "${names[$shown]}")" "$(cat "$statusdir/$shown")"
        shown=$((shown + 1))
    done
}
for i in "${!names[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
        wait -n 2>/dev/null || true
        show_finished
    done
    (
        ${cmds[$i]} >"$(log_of "${names[$i]}")" 2>&1
        echo $? >"$statusdir/$i"
        : >"$statusdir/$i.done"
    ) &
done
wait
show_finished
while [ "$shown" -lt "${#names[@]}" ]; do # a suite that left no status counts as failed
    report "${names[$shown]}" "$(log_of "${names[$shown]}")" "$(cat "$statusdir/$shown" 2>/dev/null || echo 1)"
    shown=$((shown + 1))
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
    if [ -s build/test-logs/web-retried.log ]; then # passed, but not at the first run
        grep '^== ' build/test-logs/web-retried.log | sed 's/^== /NOTE web: retried: /'
    fi
fi
if [ -z "${SKIP_WEB:-}" ] && [ -f tests/verify-web/run.sh ]; then
    run_one "verify-web (defter-verify.html against defter-verify)" bash tests/verify-web/run.sh
fi

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
