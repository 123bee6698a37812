#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds build/nesbridge_VERSION_ARCH.deb with dpkg-deb (no debhelper
# needed): host, system manifests for the Chromium family and Firefox, the
# authority key directory, Chromium/Chrome policies that install the
# extension. Usage: make-deb.sh BUILD VERSION
set -eu
build=${1:-build}
version=${2:-0.1.0}
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
stage="$build/deb/nesbridge"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/usr/lib/nesbridge" "$stage/usr/share/doc/nesbridge" "$stage/etc/nesbridge/trust.d" \
    "$stage/usr/share/lintian/overrides"
install -m 0755 -s "$build/nesbridge-host" "$stage/usr/lib/nesbridge/nesbridge-host"
host=/usr/lib/nesbridge/nesbridge-host
conffiles=""
put() { # template destination
    mkdir -p "$(dirname "$stage$2")"
    sed "s|@HOST_PATH@|$host|" "$1" > "$stage$2"
    chmod 0644 "$stage$2"
    conffiles="$conffiles$2
"
}
# The Chromium family's system directories, from the table install.sh and
# doctor share.
chromium_dirs=$(awk -F '\t' '!/^#/ && $3 == "chromium" && $5 != "-" { print $5 }' "$here/browsers-linux.tsv" | sort -u)
for dir in $chromium_dirs; do
    put "$here/../manifests/chromium.json.in" "$dir/native-messaging-hosts/tr.gov.kamusm.nesbridge.json"
done
# Firefox's system directory, which the WebExtensions portal and
# xdg-native-messaging-proxy read too (for snap and Flatpak Firefox), as
# they read /etc/chromium and /etc/opt/chrome for the Chromium family.
mkdir -p "$stage/usr/lib/mozilla/native-messaging-hosts"
sed "s|@HOST_PATH@|$host|" "$here/../manifests/firefox.json.in" > "$stage/usr/lib/mozilla/native-messaging-hosts/tr.gov.kamusm.nesbridge.json"
chmod 0644 "$stage/usr/lib/mozilla/native-messaging-hosts/tr.gov.kamusm.nesbridge.json"
# Chromium and Chrome install the extension from their store by policy.
for dir in /etc/chromium/policies/managed /etc/opt/chrome/policies/managed; do
    mkdir -p "$stage$dir"
    printf '{\n  "ExtensionInstallForcelist": ["ffpjpdkbfkaajpicelpogecbmppnpjkp"]\n}\n' > "$stage$dir/nesbridge.json"
    chmod 0644 "$stage$dir/nesbridge.json"
    conffiles="$conffiles$dir/nesbridge.json
"
done
cat > "$stage/etc/nesbridge/trust.d/README" <<'TXT'
Public keys (PEM, *.pem) of the authority that signs nesbridge card scripts.
Only root may write here; nesbridge-host ignores keys others could write.
TXT
chmod 0644 "$stage/etc/nesbridge/trust.d/README"
conffiles="$conffiles/etc/nesbridge/trust.d/README
"
# Snap and Flatpak browsers: what doctor and install.sh say too.
cat > "$stage/usr/share/doc/nesbridge/README.Debian" <<'TXT'
nesbridge for Debian and Ubuntu
===============================

Browsers installed as a snap (Ubuntu's Firefox and Chromium) or a Flatpak
cannot start a program outside their sandbox themselves. They ask a
session service to: the WebExtensions portal of xdg-desktop-portal
(Ubuntu 22.04 and later) or xdg-native-messaging-proxy (Firefox 157 and
later; Ubuntu ships it from 26.04). Both read the manifests this package
installs, /usr/lib/mozilla/native-messaging-hosts for Firefox and
/etc/chromium/native-messaging-hosts, /etc/opt/chrome/native-messaging-hosts
for the Chromium family. The portal asks once whether the browser may
start nesbridge and remembers the answer.

`/usr/lib/nesbridge/nesbridge-host doctor` says which of the two this
system has, whether the answer was yes or no, and the command that undoes
a "no". With neither, install the xdg-native-messaging-proxy package or
use the browser from the distribution's packages.
TXT
cp "$here/debian/copyright" "$stage/usr/share/doc/nesbridge/copyright"
printf 'nesbridge (%s) unstable; urgency=medium\n\n  * Package built from the nesbridge tree.\n\n -- nesbridge maintainers <maintainers@users.noreply.b-seed-74cd134a.example>  %s\n' \
    "$version" "$(date -R -d @0)" | gzip -9n > "$stage/usr/share/doc/nesbridge/changelog.Debian.gz"
cp "$here/debian/lintian-overrides" "$stage/usr/share/lintian/overrides/nesbridge"
chmod 0644 "$stage/usr/share/doc/nesbridge/"* "$stage/usr/share/lintian/overrides/nesbridge"
printf '%s' "$conffiles" > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/libc6 (>= 2.34), libpcsclite1, libcjson1, libssl3/" \
    "$here/debian/control.in" > "$stage/DEBIAN/control"
find "$stage" -type d -exec chmod 0755 {} +
out="$build/nesbridge_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "$out"
