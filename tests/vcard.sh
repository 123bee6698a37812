#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts or stops a private pcscd with two readers, each with a virtual NES
# card inserted: "nesbridge Virtual Reader" (vpcd and nesbridge-vcard) and
# "nesbridge Pinpad Reader" (our own IFD handler, build/libifdnesbridge.so,
# with its card inside). Idempotent. Usage: vcard.sh up|down BUILD
# VCARD_PROFILE=v1.3|v1.2.1|v1.2|v1.0 picks both cards' ATR; VCARD_INIT
# (fresh|pin-locked|puk-locked) their state.
set -eu
action=${1:?up or down}
build=${2:-build}
mkdir -p "$build/vcard-run"
build=$(cd "$build" && pwd)
run="$build/vcard-run"
reader="nesbridge Virtual Reader 00 00"
pinpad_reader="nesbridge Pinpad Reader 00 00"
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
        [ -f "$build/libifdnesbridge.so" ] || { echo "vcard-up: $build/libifdnesbridge.so is missing (make)" >&2; exit 1; }
        # The pinpad reader's card: its DEVICENAME is this file (ifd/slot.h).
        cat > "$run/pinpad.conf" <<CONF
state=$run/pinpad.state
control=$run/pinpad.sock
cert=$build/pki/card-cert.der
serial=NB0000000002
${VCARD_PROFILE:+profile=$VCARD_PROFILE}
${VCARD_INIT:+init=$VCARD_INIT}
CONF
        # The plain reader first: pages that take the first card find it.
        cat > "$run/reader.conf" <<CONF
FRIENDLYNAME "nesbridge Virtual Reader"
DEVICENAME   /dev/null:0x9000
LIBPATH      $driver
CHANNELID    0x9000

FRIENDLYNAME "nesbridge Pinpad Reader"
DEVICENAME   $run/pinpad.conf
LIBPATH      $build/libifdnesbridge.so
CHANNELID    0
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
            ${VCARD_PROFILE:+--profile "$VCARD_PROFILE"} \
            > "$run/vcard.log" 2>&1 &
        echo $! > "$run/vcard.pid"
    fi
    if ! atr=$("$build/tests/pcsc-probe" "$reader" 10000); then
        echo "vcard-up: the virtual card did not become usable; logs in $run" >&2
        exit 1
    fi
    if ! pinpad_atr=$("$build/tests/pcsc-probe" "$pinpad_reader" 10000); then
        echo "vcard-up: the pinpad reader's card did not become usable; see $run/pcscd.log" >&2
        exit 1
    fi
    echo "vcard-up: \"$reader\" has the virtual NES card (ATR $atr)"
    echo "vcard-up: \"$pinpad_reader\" has the second one (ATR $pinpad_atr); its keypad: $run/pinpad.sock"
    ;;
restart-pcscd)
    # pcscd dies and comes back (fault tests); the card reconnects by itself.
    stop_pid "$run/pcscd.pid"
    setsid pcscd -f -c "$run/reader.conf" > "$run/pcscd.log" 2>&1 &
    echo $! > "$run/pcscd.pid"
    "$build/tests/pcsc-probe" "$reader" 10000 >/dev/null || { echo "vcard: pcscd did not come back" >&2; exit 1; }
    "$build/tests/pcsc-probe" "$pinpad_reader" 10000 >/dev/null || { echo "vcard: the pinpad reader did not come back" >&2; exit 1; }
    ;;
down)
    stop_pid "$run/vcard.pid"
    stop_pid "$run/pcscd.pid" # and with it the pinpad reader's card
    rm -f "$run/pinpad.sock"
    echo "vcard-down: stopped"
    ;;
*)
    echo "usage: vcard.sh up|down|restart-pcscd BUILD" >&2
    exit 2
    ;;
esac
