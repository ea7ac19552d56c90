#!/usr/bin/env bash
# Short libFuzzer run of every harness in fuzz/: about FUZZ_TOTAL seconds in all (default 60).
set -eu
cd "$(dirname "$0")/.."
harnesses=(build/fuzz/fuzz/*)
[ -e "${harnesses[0]}" ] || { echo "no fuzz harnesses"; exit 0; }
total=${FUZZ_TOTAL:-60}
per=${FUZZ_SECONDS:-$(( total / ${#harnesses[@]} ))}
[ "$per" -lt 3 ] && per=3
for h in "${harnesses[@]}"; do
    name=$(basename "$h")
    corpus=fuzz/corpus/$name
    work=build/fuzz/work/$name
    mkdir -p "$work"
    echo "fuzz $name for ${per}s"
    "$h" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        "$work" $( [ -d "$corpus" ] && echo "$corpus" ) 2>&1 | tail -n 3
done
