#!/bin/sh
# Install the Debian packages Defter needs, only when something is missing.
# Idempotent and quiet on a ready machine: dpkg-query answers without touching the network.
set -eu

PACKAGES="build-essential pkg-config clang clang-format libclang-rt-14-dev valgrind
libsodium-dev libssl-dev openssl libsqlite3-dev sqlite3 libjansson-dev libutf8proc-dev libicu-dev
libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev libmagic-dev libexif-dev
age python3 xxd"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
