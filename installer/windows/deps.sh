#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds what nesbridge-host.exe links statically, from the sources Debian
# itself ships (apt-get source --tar-only): OpenSSL's libcrypto, made small
# (only what signature checks need), and cJSON. Uses a private apt state
# under the build folder, so the machine's apt configuration is untouched.
# Their licences go to OUT/licenses, for the MSI's third-party notices.
#   sh installer/windows/deps.sh OUT   ->  OUT/include, OUT/lib, OUT/licenses
set -eu
out=$(mkdir -p "$1" && cd "$1" && pwd)
have_licences() {
    [ -f "$out/licenses/openssl-LICENSE.txt" ] && [ -f "$out/licenses/cjson-LICENSE" ]
}
# The licence texts, from the unpacked sources.
keep_licences() {
    mkdir -p "$out/licenses"
    cp "$out/src/openssl/LICENSE.txt" "$out/licenses/openssl-LICENSE.txt"
    cp "$out/src/cjson/LICENSE" "$out/licenses/cjson-LICENSE"
}
if [ -f "$out/lib/libcrypto.a" ] && [ -f "$out/lib/libcjson.a" ]; then
    have_licences && exit 0
    # Built before the notices were kept: take them from the sources.
    if [ -f "$out/src/openssl/LICENSE.txt" ] && [ -f "$out/src/cjson/LICENSE" ]; then
        keep_licences
        exit 0
    fi
fi
cross=x86_64-w64-mingw32
apt_dir="$out/apt"
src="$out/src"
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$src" "$out/include/cjson" "$out/lib"

# Source entries mirror the machine's own binary entries.
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*$/Types: deb-src/' "$f" > "$apt_dir/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f" >> "$apt_dir/parts/from-lists.list"
done
apt_opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt_dir/parts
 -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o Debug::NoLocking=1
 -o APT::Sandbox::User=root -qq"
# shellcheck disable=SC2086
apt-get $apt_opts update
# shellcheck disable=SC2086
(cd "$src" && apt-get $apt_opts source --tar-only openssl cjson >/dev/null)

ssl_tar=$(ls "$src"/openssl_*.orig.tar.gz | tail -n 1)
json_tar=$(ls "$src"/cjson_*.orig.tar.gz | tail -n 1)
rm -rf "$src/openssl" "$src/cjson"
mkdir -p "$src/openssl" "$src/cjson"
tar -xzf "$ssl_tar" -C "$src/openssl" --strip-components=1
tar -xzf "$json_tar" -C "$src/cjson" --strip-components=1

# cJSON: one source file.
"$cross-gcc" -std=c89 -O2 -c "$src/cjson/cJSON.c" -o "$src/cjson/cJSON.o"
"$cross-ar" rcs "$out/lib/libcjson.a" "$src/cjson/cJSON.o"
cp "$src/cjson/cJSON.h" "$out/include/cjson/"

# libcrypto without the TLS stack, legacy ciphers and anything that loads
# code or configuration at run time. (CMAC stays: the test shim's virtual
# card needs it; the host does not link it.)
cd "$src/openssl"
./Configure mingw64 --cross-compile-prefix="$cross-" --prefix="$out/openssl" \
    no-shared no-module no-dso no-engine no-legacy no-deprecated no-tests \
    no-ssl no-tls no-dtls no-comp no-ocsp no-ts no-cms no-ct no-srp no-psk \
    no-dh no-dsa no-sm2 no-sm3 no-sm4 no-idea no-camellia no-seed no-whirlpool \
    no-mdc2 no-md4 no-rc2 no-rc4 no-rc5 no-bf no-cast no-des no-ec2m no-siphash \
    no-scrypt no-aria no-blake2 no-chacha no-poly1305 no-ocb no-siv \
    no-ui-console no-async no-autoload-config no-uplink >/dev/null
make -s -j"$(nproc)" build_generated >/dev/null
make -s -j"$(nproc)" libcrypto.a >/dev/null 2>&1
cp libcrypto.a "$out/lib/"
cp -r include/openssl "$out/include/"
keep_licences
echo "deps: built libcrypto and cJSON for Windows from $(basename "$ssl_tar") and $(basename "$json_tar")"
