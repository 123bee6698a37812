#!/bin/sh
# What runs end to end today: pcscd + the virtual NES card + nesbridge-host,
# driven through real native-messaging frames. The browser extension and
# the demo authority site are not built yet; `make demo` will then run the
# whole unlock in a browser.
set -eu
build=${1:-build}
echo "demo: starting pcscd and the virtual NES card"
sh tests/vcard.sh up "$build"
trap 'sh tests/vcard.sh down "$build" >/dev/null' EXIT INT TERM
"$build/nesbridge-vcard" --control "$build/vcard-run/control.sock" --send "reset-state fresh" >/dev/null
echo "demo: talking to nesbridge-host as the browser extension would"
NB_BUILD="$build" "$build/tests/demo_client"
