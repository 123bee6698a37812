#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# nesbridge installer for Linux: the host binary and a native-messaging
# manifest for every browser found. POSIX sh.
#
#   install.sh [--user|--system] [--uninstall] [--dry-run] [--host FILE] [--root DIR]
#
# --user (default): for this user (~/.local, each browser's user directory).
# --system: for everyone (/usr/lib/nesbridge, /etc/..., needs root).
# --root DIR: install below DIR instead of / (packaging and tests).
# Uninstall removes exactly what the install recorded.
set -eu

mode=user
action=install
dry=0
host=""
root=""
here=$(cd "$(dirname "$0")" && pwd)
name=tr.gov.kamusm.nesbridge
chrome_id=ffpjpdkbfkaajpicelpogecbmppnpjkp
firefox_id=nesbridge@kamusm.gov.tr

while [ $# -gt 0 ]; do
    case "$1" in
        --user) mode=user ;;
        --system) mode=system ;;
        --uninstall) action=uninstall ;;
        --dry-run) dry=1 ;;
        --host) host=$2; shift ;;
        --root) root=$2; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$host" ] || host="$here/../build/nesbridge-host"

home=${HOME:?HOME is not set}
if [ "$mode" = user ]; then
    bindir="$root$home/.local/lib/nesbridge"
    record="$root$home/.local/share/nesbridge/installed-files"
    config="$root${XDG_CONFIG_HOME:-$home/.config}"
else
    [ "$dry" = 1 ] || [ -n "$root" ] || [ "$(id -u)" = 0 ] || { echo "install.sh: --system needs root" >&2; exit 1; }
    bindir="$root/usr/lib/nesbridge"
    record="$root/var/lib/nesbridge/installed-files"
fi

# The browsers, from the table doctor shares (browsers-linux.tsv), as
# "id|kind|directory" lines: the browser's own directory per user (found
# when it exists), or its system directory.
table="$here/browsers-linux.tsv"
tab=$(printf '\t')
browsers=$(
    grep -v '^#' "$table" | while IFS=$tab read -r id _name kind user_dir system_dir _snap _flatpak; do
        if [ "$mode" = user ]; then
            [ "$user_dir" != - ] || continue
            case "$user_dir" in
                .config/*) echo "$id|$kind|$config/${user_dir#.config/}" ;;
                *) echo "$id|$kind|$root$home/$user_dir" ;;
            esac
        elif [ "$system_dir" != - ]; then
            echo "$id|$kind|$root$system_dir"
        fi
    done
)

run() {
    if [ "$dry" = 1 ]; then echo "would: $*"; else "$@"; fi
}

manifest_dir() { # kind directory
    if [ "$1" = firefox ]; then echo "$2/native-messaging-hosts"
    elif [ "$mode" = user ]; then echo "$2/NativeMessagingHosts"
    else echo "$2/native-messaging-hosts"; fi
}

write_manifest() { # kind file
    if [ "$1" = firefox ]; then allowed="\"allowed_extensions\": [\"$firefox_id\"]"
    else allowed="\"allowed_origins\": [\"chrome-extension://$chrome_id/\"]"; fi
    hostpath=${bindir#"$root"}/nesbridge-host
    cat > "$2" <<JSON
{
  "name": "$name",
  "description": "nesbridge: NES card unlock for the Kamu SM site",
  "path": "$hostpath",
  "type": "stdio",
  $allowed
}
JSON
    chmod 0644 "$2"
}

explain_sandboxes() {
    grep -v '^#' "$table" | while IFS=$tab read -r _id _name _kind _user _system snap flatpak; do
        if [ "$snap" != - ] && command -v snap >/dev/null 2>&1 && snap list "$snap" >/dev/null 2>&1; then
            echo "note: $snap is a snap; snaps cannot start native hosts installed outside the snap." \
                 "Install the browser from your distribution's packages to use nesbridge with it."
        fi
        if [ "$flatpak" != - ] && command -v flatpak >/dev/null 2>&1 && flatpak info "$flatpak" >/dev/null 2>&1; then
            echo "note: $flatpak is a flatpak; it cannot start a host outside its sandbox." \
                 "Use the browser from your distribution's packages (docs/install.md)."
        fi
    done
}

if [ "$action" = uninstall ]; then
    [ -f "$record" ] || { echo "install.sh: nothing recorded in $record; nothing to remove"; exit 0; }
    while IFS= read -r f; do
        [ -n "$f" ] || continue
        run rm -f "$f"
        echo "removed $f"
    done < "$record"
    run rm -f "$record"
    exit 0
fi

[ -x "$host" ] || { echo "install.sh: no host binary at $host (make first, or --host FILE)" >&2; exit 1; }
installed=""
run mkdir -p "$bindir"
run install -m 0755 "$host" "$bindir/nesbridge-host"
installed="$bindir/nesbridge-host"
found=0
done_dirs=""
while IFS= read -r line; do
    [ -n "$line" ] || continue
    browser=${line%%|*}; rest=${line#*|}; kind=${rest%%|*}; dir=${rest#*|}
    if [ "$mode" = user ] && [ ! -d "$dir" ]; then continue; fi
    if [ "$mode" = system ] && [ ! -d "$dir" ] && [ ! -d "$(dirname "$dir")" ]; then continue; fi
    mdir=$(manifest_dir "$kind" "$dir")
    # All channels of a browser share one system directory: write it once.
    case "$done_dirs" in *"|$mdir|"*) continue ;; esac
    done_dirs="$done_dirs|$mdir|"
    file="$mdir/$name.json"
    run mkdir -p "$mdir"
    if [ "$dry" = 1 ]; then echo "would: write $file"; else write_manifest "$kind" "$file"; fi
    echo "$browser: $file"
    installed="$installed
$file"
    found=$((found + 1))
done <<BROWSERS
$browsers
BROWSERS
[ "$found" -gt 0 ] || echo "install.sh: no browser found; the host is installed, the manifests are not"
if [ "$dry" = 0 ]; then
    mkdir -p "$(dirname "$record")"
    # Keep what an earlier install recorded, so that uninstall removes all.
    { [ -f "$record" ] && cat "$record"; echo "$installed"; } | sort -u | sed '/^$/d' > "$record.new"
    mv "$record.new" "$record"
fi
explain_sandboxes
if [ "$dry" = 1 ]; then
    echo "dry run: would install $bindir/nesbridge-host and $found browser manifests"
else
    echo "installed: $bindir/nesbridge-host ($found browser manifests)"
fi
