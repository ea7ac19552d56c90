#!/bin/sh
# Install the Debian packages Defter needs, only when something is missing.
# Idempotent and quiet on a ready machine: dpkg-query answers without touching the network.
set -eu

PACKAGES="build-essential pkg-config clang clang-format libclang-rt-14-dev valgrind
libsodium-dev libssl-dev openssl libsqlite3-dev sqlite3 libjansson-dev libutf8proc-dev libicu-dev
libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev libmagic-dev libexif-dev libcsv-dev
libzip-dev zlib1g-dev libqrencode-dev age python3 xxd chromium gdb golang-go golang-golang-x-mod-dev
zip unzip weasyprint fonts-dejavu-core poppler-utils zbar-tools
libgfshare-dev librsvg2-bin strace
libpq-dev postgresql-15 postgresql-common radosgw ceph-mon ceph-osd ceph-common"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# node and npm for the browser tests (tests/web); a machine may have them from elsewhere
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm packages of the browser tests (playwright-core drives Debian's chromium; no browser
# download), from the committed package-lock.json
web="$(dirname "$0")/../tests/web"
if [ -f "$web/package-lock.json" ] && [ ! -d "$web/node_modules/playwright-core" ]; then
    echo "deps: npm ci in tests/web" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
