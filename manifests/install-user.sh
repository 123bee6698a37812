#!/bin/sh
# Installs nesbridge-host and its native-messaging manifests for the current
# user (Chromium, Google Chrome, Firefox). Usage: install-user.sh HOST_BINARY
set -eu
binary=${1:?host binary}
prefix="${XDG_DATA_HOME:-$HOME/.local/share}/nesbridge"
config="${XDG_CONFIG_HOME:-$HOME/.config}"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$prefix"
install -m 0755 "$binary" "$prefix/nesbridge-host"
for dir in "$config/chromium/NativeMessagingHosts" "$config/google-chrome/NativeMessagingHosts" \
           "$HOME/.mozilla/native-messaging-hosts"; do
    case "$dir" in
        *mozilla*) template="$here/firefox.json.in" ;;
        *) template="$here/chromium.json.in" ;;
    esac
    mkdir -p "$dir"
    sed "s|@HOST_PATH@|$prefix/nesbridge-host|" "$template" > "$dir/tr.gov.kamusm.nesbridge.json"
    chmod 0644 "$dir/tr.gov.kamusm.nesbridge.json"
    echo "install-user: $dir/tr.gov.kamusm.nesbridge.json"
done
echo "install-user: host in $prefix/nesbridge-host"
