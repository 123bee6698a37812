#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts or stops a private pcscd with the "nesbridge Virtual Reader" and
# the virtual NES card inserted. Idempotent. Usage: vcard.sh up|down BUILD
set -eu
action=${1:?up or down}
build=${2:-build}
mkdir -p "$build/vcard-run"
build=$(cd "$build" && pwd)
run="$build/vcard-run"
reader="nesbridge Virtual Reader 00 00"
socket=/run/pcscd/pcscd.comm
port=36864

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() {
    pidfile=$1
    if alive "$pidfile"; then
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

case "$action" in
up)
    mkdir -p "$run"
    if ! alive "$run/pcscd.pid"; then
        if [ -S "$socket" ] && pgrep -x pcscd >/dev/null 2>&1; then
            echo "vcard-up: another pcscd (pid $(pgrep -x pcscd | tr '\n' ' ')) holds $socket." >&2
            echo "vcard-up: stop it first, e.g. 'systemctl stop pcscd.socket pcscd.service' or 'pkill -x pcscd'." >&2
            exit 1
        fi
        driver=$(ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* 2>/dev/null | head -n 1)
        [ -n "$driver" ] || { echo "vcard-up: vsmartcard-vpcd is not installed (make deps)" >&2; exit 1; }
        cat > "$run/reader.conf" <<CONF
FRIENDLYNAME "nesbridge Virtual Reader"
DEVICENAME   /dev/null:0x9000
LIBPATH      $driver
CHANNELID    0x9000
CONF
        # No -a/-d: pcscd would log APDUs, PINs included.
        pcscd -f -c "$run/reader.conf" > "$run/pcscd.log" 2>&1 &
        echo $! > "$run/pcscd.pid"
        i=0
        until [ -S "$socket" ]; do
            i=$((i + 1))
            if [ $i -gt 200 ] || ! alive "$run/pcscd.pid"; then
                echo "vcard-up: pcscd did not start; see $run/pcscd.log" >&2
                cat "$run/pcscd.log" >&2
                exit 1
            fi
            sleep 0.025
        done
    fi
    if ! alive "$run/vcard.pid"; then
        "$build/nesbridge-vcard" --state "$run/card.state" --control "$run/control.sock" \
            --port $port --cert "$build/pki/card-cert.der" ${VCARD_INIT:+--init "$VCARD_INIT"} \
            > "$run/vcard.log" 2>&1 &
        echo $! > "$run/vcard.pid"
    fi
    if ! atr=$("$build/tests/pcsc-probe" "$reader" 10000); then
        echo "vcard-up: the virtual card did not become usable; logs in $run" >&2
        exit 1
    fi
    echo "vcard-up: \"$reader\" has the virtual NES card (ATR $atr)"
    ;;
restart-pcscd)
    # pcscd dies and comes back (fault tests); the card reconnects by itself.
    stop_pid "$run/pcscd.pid"
    setsid pcscd -f -c "$run/reader.conf" > "$run/pcscd.log" 2>&1 &
    echo $! > "$run/pcscd.pid"
    "$build/tests/pcsc-probe" "$reader" 10000 >/dev/null || { echo "vcard: pcscd did not come back" >&2; exit 1; }
    ;;
down)
    stop_pid "$run/vcard.pid"
    stop_pid "$run/pcscd.pid"
    echo "vcard-down: stopped"
    ;;
*)
    echo "usage: vcard.sh up|down|restart-pcscd BUILD" >&2
    exit 2
    ;;
esac
