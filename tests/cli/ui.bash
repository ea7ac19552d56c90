# ui.bash - start `defter ui` on a system-chosen loopback port and talk to its JSON API
# (sourced after lib.bash). ui_start sets $ui_base; ui_get / ui_post set $out (the body) and
# $code (the HTTP status).
ui_pid=
ui_start() { # defter arguments, "ui" among them
    rm -f "$T/ui.out" "$T/cookies"
    mkfifo "$T/ui.out"
    "$DEFTER" "$@" >"$T/ui.out" 2>"$T/ui.log" &
    ui_pid=$!
    exec 7<"$T/ui.out"
    read -r ui_url <&7 || fail "defter ui printed no URL: $(cat "$T/ui.log")"
    cat <&7 >/dev/null &
    case "$ui_url" in
    http://127.0.0.1:*/\?t=*) ;;
    *) fail "unexpected first line of defter ui: $ui_url" ;;
    esac
    ui_base=${ui_url%%/\?t=*}
    curl -s -o /dev/null -c "$T/cookies" -b "$T/cookies" "$ui_url" || fail "token exchange"
    ui_csrf=$(curl -s -b "$T/cookies" "$ui_base/api/session" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])') || fail "no session"
}
ui_stop() {
    if [ -n "$ui_pid" ]; then
        kill "$ui_pid" 2>/dev/null
        wait "$ui_pid" 2>/dev/null
        ui_pid=
    fi
}
ui_get() { # PATH
    code=$(curl -s -b "$T/cookies" -o "$T/ui.body" -w '%{http_code}' "$ui_base$1")
    out=$(cat "$T/ui.body")
}
ui_post() { # PATH [JSON]
    code=$(curl -s -b "$T/cookies" -H "Origin: $ui_base" -H "X-CSRF-Token: $ui_csrf" \
        -H 'Content-Type: application/json' --data-binary "${2:-{\}}" -o "$T/ui.body" \
        -w '%{http_code}' "$ui_base$1")
    out=$(cat "$T/ui.body")
}
trap 'ui_stop; rm -rf "$T"' EXIT
