#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages that building and testing need, when any is
# missing. Needs root for the install; otherwise says what to run.
# Usage: deps.sh [demo]  (demo: only what `make demo` needs)
set -eu
# Building the programs and running the demo: the host, the card, pcscd
# with the virtual reader, and headless Chromium.
demo_packages="make gcc pkg-config libpcsclite-dev pcscd vsmartcard-vpcd libcjson-dev libssl-dev openssl
procps ca-certificates chromium libp11-kit-dev"
# Test-only, never shipped: none of these is in the .deb, .rpm or MSI; each
# keeps its own licence (Check is LGPL-2.1; wine, valgrind, Firefox and the
# compilers their own).
# Everything make check runs besides: clang, Check, valgrind, Firefox,
# packaging, Windows (mingw-w64, wine, wixl); a session bus, GDBus and the
# Python D-Bus binding for doctor's sandbox tests (tests/installer);
# SoftHSM2 and OpenSC's pkcs11-tool, the authority's HSM and its key
# generation in the signing tests (tests/authority).
check_packages="clang check valgrind firefox-esr zip libclang-rt-14-dev gdb clang-tools lintian rpm
gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev perl wixl msitools wine wine64
dbus python3-dbus python3-gi libglib2.0-0 libglib2.0-bin softhsm2 opensc"
if [ "${1:-}" = demo ]; then
    packages=$demo_packages
else
    packages="$demo_packages $check_packages"
fi
missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node may come with the machine rather than from Debian: ask for the commands.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run: sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
