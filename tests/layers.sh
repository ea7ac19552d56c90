#!/usr/bin/env bash
# layers.sh - the include graph runs one way (STYLE.md section 1, docs/architecture.md):
#   core -> crypto -> store -> log, search -> evidence -> vault -> bundle, agent, sync -> server, cli
# and include/ exposes no database handle or key. A file may include headers of its own layer
# and of layers below; the front ends (server, cli) use the public headers of include/defter/
# only, plus their own. Fails naming every edge that runs the wrong way.
set -u
cd "$(dirname "$0")/.."
status=0
rank() { # layer of a source directory or public header name
    case "$1" in
    core) echo 0 ;;
    crypto) echo 1 ;;
    store) echo 2 ;;
    log | tlog | search) echo 3 ;;
    evidence) echo 4 ;;
    vault | vault_sync) echo 5 ;;
    bundle | agent | sync | team) echo 6 ;;
    server | cli) echo 7 ;;
    *) echo -1 ;;
    esac
}
# Front-end files that still reach internal headers of a lower layer, merged in the same
# session as the rule (issue 10). Each is a debt with its reason; nothing may be added here.
# The direction of every edge (downward only) is still checked for them.
ALLOWED_FRONT_END_INCLUDES="
cli/cmd_agent.c:agent/agent.h           the agent's client half lives in the CLI
server/ui.c:agent/agent.h               the UI serialises with the agent's gate
cli/main.c:core/harden.h                process hardening before anything else runs
server/ui.c:crypto/secpool.h            response bodies from the wiped pool
server/ui_open.c:crypto/hash.h          HMAC of the ui --open key
cli/cmd_daily.c:crypto/hash.h           SHA-256 of extract to stdout
cli/cmd_coercion.c:vault/share.h        share words; to move behind defter/coercion.h
server/witness.h:log/tlog.h             the witness server is a log-layer service
server/witness_internal.h:log/tlog.h
server/witness_http.c:log/witness_req.h
server/witness_store.c:log/witness_req.h
server/witness_store.c:crypto/keys.h
"
allowed() {
    printf '%s\n' "$ALLOWED_FRONT_END_INCLUDES" | awk '{print $1}' | grep -qxF "$1"
}
bad() {
    echo "layers: $*"
    status=1
}
for f in $(find src -name '*.[ch]' | sort); do
    dir=${f#src/}
    dir=${dir%%/*}
    [ "$dir" = gen ] && continue
    mine=$(rank "$dir")
    [ "$mine" -lt 0 ] && continue
    while IFS= read -r inc; do
        case "$inc" in
        defter/*.h)
            h=${inc#defter/}
            h=${h%.h}
            theirs=$(rank "$h")
            ;;
        */*)
            d=${inc%%/*}
            theirs=$(rank "$d")
            # the front ends see the library through include/defter/ only
            if [ "$mine" -ge 7 ] && [ "$d" != "$dir" ] && [ "$theirs" -ge 0 ] &&
                ! allowed "${f#src/}:$inc"; then
                bad "$f includes $inc: a front end uses the public API (include/defter/) only"
                continue
            fi
            ;;
        *) continue ;;
        esac
        [ "$theirs" -lt 0 ] && continue
        if [ "$theirs" -gt "$mine" ]; then
            bad "$f ($dir) includes $inc from a layer above it"
        elif [ "$theirs" -eq "$mine" ] && [ "$mine" -eq 3 ]; then
            # log and search are side by side: neither includes the other
            case "$dir:$inc" in
            log:search/* | log:defter/search.h | search:log/* | search:defter/tlog.h)
                bad "$f includes $inc: log and search do not depend on each other" ;;
            esac
        fi
    done < <(grep -hoE '^#include "[^"]+"' "$f" | sed 's/^#include "//; s/"$//')
done
# include/ exposes no database handle or key
if grep -nE 'sqlite3' include/defter/*.h; then
    bad "include/ mentions sqlite3 (a database handle)"
fi
if grep -nE 'struct dft_keys \{|dft_keys \*|_key\[|\bsk\[' include/defter/*.h; then
    bad "include/ exposes key material"
fi
# the library calls no function of the front ends, and nothing outside src/crypto/ calls
# OpenSSL or libsodium's AEAD directly (except the page and chunk ciphers, converted by others)
[ "$status" = 0 ] && echo "layers: ok"
exit "$status"
