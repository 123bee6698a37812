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

# Where a snap or Flatpak browser is found: /snap/bin and the Flatpak
# installations, as doctor looks (NESBRIDGE_SANDBOX_ROOT moves /snap and
# /var/lib/flatpak for tests, as it does for doctor).
sandbox_root=${NESBRIDGE_SANDBOX_ROOT:-}
sandboxed() { # snap flatpak: prints "snap" or "Flatpak" when installed
    if [ "$1" != - ] && [ -e "$sandbox_root/snap/bin/$1" ]; then echo snap
    elif [ "$2" != - ] && { [ -e "$home/.local/share/flatpak/app/$2" ] || [ -e "$sandbox_root/var/lib/flatpak/app/$2" ]; }; then
        echo Flatpak
    fi
}

# The browsers, from the table doctor shares (browsers-linux.tsv), as
# "id|kind|directory|create" lines: the browser's own directory per user
# (found when it exists), or its system directory. A snap or Flatpak
# browser starts the host through the WebExtensions portal or
# xdg-native-messaging-proxy, which read the home directory's host folder
# (~/.mozilla, ~/.config/chromium), not the sandbox's own: per user, that
# folder is made (create=1) even when no unsandboxed browser uses it.
table="$here/browsers-linux.tsv"
tab=$(printf '\t')
browsers=$(
    grep -v '^#' "$table" | while IFS=$tab read -r id _name kind user_dir system_dir snap flatpak; do
        if [ "$mode" = user ]; then
            [ "$user_dir" != - ] || continue
            case "$user_dir" in
                .config/*) echo "$id|$kind|$config/${user_dir#.config/}|0" ;;
                *) echo "$id|$kind|$root$home/$user_dir|0" ;;
            esac
            if [ -n "$(sandboxed "$snap" "$flatpak")" ]; then
                if [ "$kind" = firefox ]; then echo "$id|$kind|$root$home/.mozilla|1"
                else echo "$id|$kind|$config/chromium|1"; fi
            fi
        elif [ "$system_dir" != - ]; then
            echo "$id|$kind|$root$system_dir|0"
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

# What doctor says of a snap or Flatpak browser, in short: no advice to
# change browsers while the portal or the proxy can start the host.
explain_sandboxes() {
    grep -v '^#' "$table" | while IFS=$tab read -r _id bname kind _user _system snap flatpak; do
        how=$(sandboxed "$snap" "$flatpak")
        [ -n "$how" ] || continue
        if [ "$mode" = system ]; then
            if [ "$kind" = firefox ]; then where=/usr/lib/mozilla/native-messaging-hosts
            else where=/etc/chromium/native-messaging-hosts; fi
        elif [ "$kind" = firefox ]; then where=$home/.mozilla/native-messaging-hosts
        else where=${XDG_CONFIG_HOME:-$home/.config}/chromium/NativeMessagingHosts; fi
        echo "note: $bname ($how) starts nesbridge through the WebExtensions portal or xdg-native-messaging-proxy," \
             "which read $where/$name.json. The portal asks once whether $bname may start it: answer Allow." \
             "Run \`nesbridge-host doctor\` to see which of the two this system has and what is missing;" \
             "with neither, install the xdg-native-messaging-proxy package (docs/install.md)."
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
    browser=${line%%|*}; rest=${line#*|}; kind=${rest%%|*}; rest=${rest#*|}; dir=${rest%|*}; create=${rest##*|}
    if [ "$mode" = user ] && [ ! -d "$dir" ] && [ "$create" = 0 ]; then continue; fi
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
