#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds nesbridge.pkg on a Mac (Xcode command line tools, Homebrew cjson and
# openssl@3). NOT TESTED: no Mac is available to the project's CI; see
# README.md beside this file for what is known to need care.
#   sh installer/macos/build-pkg.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out="$top/build/macos"
brew=$(brew --prefix)
rm -rf "$out" && mkdir -p "$out/root/Library/Application Support/nesbridge/trust.d" "$out/scripts"
# PC/SC comes from the system framework; cJSON and OpenSSL from Homebrew.
make -C "$top" BUILD="$out/obj" \
    CFLAGS="-I$brew/include -I$brew/opt/openssl@3/include" \
    LDFLAGS="-L$brew/lib -L$brew/opt/openssl@3/lib -framework PCSC" \
    "$out/obj/nesbridge-host"
install -m 0755 "$out/obj/nesbridge-host" "$out/root/Library/Application Support/nesbridge/nesbridge-host"
cp "$top/manifests/chromium.json.in" "$top/manifests/firefox.json.in" "$out/root/Library/Application Support/nesbridge/"
install -m 0755 "$here/scripts/postinstall" "$out/scripts/postinstall"
pkgbuild --root "$out/root" --scripts "$out/scripts" --identifier tr.gov.kamusm.nesbridge \
    --version 0.1.0 --install-location / "$out/nesbridge.pkg"
echo "$out/nesbridge.pkg"
