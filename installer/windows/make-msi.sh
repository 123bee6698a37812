#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the two MSIs from nesbridge.wxs with wixl: per machine (Program
# Files, HKLM) and per user (%LOCALAPPDATA%\Programs, HKCU).
# Usage: make-msi.sh WIN_BUILD_DIR VERSION [WIN_DEPS_DIR]
set -eu
dir=${1:-build/win}
version=${2:-0.1.0}
deps=${3:-$dir/deps}
here=$(cd "$(dirname "$0")" && pwd)
stage="$dir/msi-stage"
rm -rf "$stage"
mkdir -p "$stage"
x86_64-w64-mingw32-strip -o "$stage/nesbridge-host.exe" "$dir/nesbridge-host.exe"
# Both browsers take a host path relative to the manifest's own folder on
# Windows, so the files need no install-time editing.
sed 's|@HOST_PATH@|nesbridge-host.exe|' "$here/../../manifests/chromium.json.in" > "$stage/tr.gov.kamusm.nesbridge.chrome.json"
sed 's|@HOST_PATH@|nesbridge-host.exe|' "$here/../../manifests/firefox.json.in" > "$stage/tr.gov.kamusm.nesbridge.firefox.json"
printf '%s\r\n' "Public keys (PEM, *.pem) of the authority that signs nesbridge card scripts." \
    "The per-machine install keeps this folder under Program Files, where only" \
    "administrators may write." > "$stage/trust-README.txt"
# Our licence, and those of what the exe carries inside it (deps.sh).
cp "$here/../../LICENSE" "$stage/LICENSE.txt"
{
    printf '%s\n' "nesbridge-host.exe contains, linked statically, code under these licences." ""
    printf '%s\n' "==== OpenSSL (libcrypto) ====" ""
    cat "$deps/licenses/openssl-LICENSE.txt"
    printf '\n%s\n\n' "==== cJSON ===="
    cat "$deps/licenses/cjson-LICENSE"
} > "$stage/THIRD-PARTY-NOTICES.txt"
# wixl looks for sources relative to the .wxs file: build beside them.
cp "$here/nesbridge.wxs" "$stage/"
out=$(cd "$dir" && pwd)
for scope in machine user; do
    suffix=""
    [ "$scope" = user ] && suffix="-user"
    (cd "$stage" && wixl -a x64 -D Version="$version" -D Scope="$scope" -D SourceDir=. \
        -o "$out/nesbridge-$version-x64$suffix.msi" nesbridge.wxs)
done
