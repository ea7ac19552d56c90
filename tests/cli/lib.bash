# lib.bash - helpers for the command-line tests (sourced). Uses $DEFTER (the sanitized binary).
set -u
: "${DEFTER:=$PWD/build/asan/defter}"
T=$(mktemp -d "${TMPDIR:-/tmp}/defter-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
printf 'correct horse battery staple\n' >"$T/pass"
printf 'wrong passphrase\n' >"$T/wrong"
export DEFTER_PASSPHRASE_FILE="$T/pass"
export DEFTER_VAULT="$T/vault"
checks=0
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() {
    checks=$((checks + 1))
}
# expect STATUS CMD...: run, compare the exit status, keep stdout in $out and stderr in $errout
expect() {
    local want=$1
    shift
    out=$("$@" 2>"$T/stderr")
    local got=$?
    errout=$(cat "$T/stderr")
    [ "$got" = "$want" ] || fail "exit $got (want $want): $* :: $errout"
    ok
}
json() { # json EXPR: evaluate a Python expression on $out parsed as J
    printf '%s' "$out" | python3 -c "import json,sys; J=json.load(sys.stdin); print($1)"
}
state() { # fingerprint of what the vault shows: log size and every record
    "$DEFTER" --json log | python3 -c "import json,sys; print(json.load(sys.stdin)['size'])"
    "$DEFTER" --json list
}
