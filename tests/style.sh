#!/usr/bin/env bash
# style.sh - what STYLE.md asks CI to enforce: no banned string functions, clang-format clean.
set -u
cd "$(dirname "$0")/.."
status=0
banned=$(grep -rnE '(^|[^a-z_])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets)\(' \
    src include tests fuzz bench --include='*.c' --include='*.h' | grep -vE 'snprintf|vsnprintf')
if [ -n "$banned" ]; then
    echo "banned functions (STYLE.md section 6):"
    echo "$banned"
    status=1
fi
if command -v clang-format >/dev/null 2>&1; then
    for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests fuzz bench -name '*.[ch]'); do
        clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not clang-formatted: $f"; status=1; }
    done
fi
[ "$status" = 0 ] && echo "style: ok"
exit "$status"
