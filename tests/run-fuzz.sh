#!/usr/bin/env bash
# Short libFuzzer run of every harness in fuzz/: about FUZZ_TOTAL seconds in all (default 60).
# Fails when any harness finds a crash, a leak or a timeout; the input that did it is kept in
# build/fuzz/work/NAME/ (crash-*, leak-*, timeout-*) and the harness's report is printed.
set -u
cd "$(dirname "$0")/.."
harnesses=(build/fuzz/fuzz/*)
[ -e "${harnesses[0]}" ] || { echo "no fuzz harnesses"; exit 0; }
total=${FUZZ_TOTAL:-60}
per=${FUZZ_SECONDS:-$(( total / ${#harnesses[@]} ))}
[ "$per" -lt 3 ] && per=3
failed=()
for h in "${harnesses[@]}"; do
    name=$(basename "$h")
    corpus=fuzz/corpus/$name
    work=build/fuzz/work/$name
    mkdir -p "$work"
    echo "fuzz $name for ${per}s"
    log=$(mktemp)
    "$h" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="$work/" "$work" $( [ -d "$corpus" ] && echo "$corpus" ) >"$log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        failed+=("$name")
        grep -v '^INFO\|^#[0-9]' "$log" | head -n 60
    else
        tail -n 3 "$log"
    fi
    rm -f "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failures in ${failed[*]} (inputs in build/fuzz/work/<name>/)"
    exit 1
fi
echo "fuzz: every harness ran clean"
