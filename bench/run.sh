#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make bench: pcscd + virtual card up, the C rows, the browser row, report.
set -eu
build=${1:-build}
mkdir -p "$build/bench"
sh tests/vcard.sh up "$build" >/dev/null
trap 'sh tests/vcard.sh down "$build" >/dev/null' EXIT INT TERM
rows="$build/bench/rows.jsonl"
echo "bench: host rows (cold start x200, 2000 APDUs, unlock x20, scaling, memory)..."
NB_BUILD="$build" "$build/bench/bench" 200 > "$rows"
echo "bench: page-to-card in headless Chromium (200 round trips)..."
NB_BUILD="$build" node bench/browser.js >> "$rows"
echo
node bench/report.js "$rows" "$build/bench"
