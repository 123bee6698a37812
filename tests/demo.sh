#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make demo: pcscd + the virtual NES card, then the whole unlock in a browser
# (tests/e2e/demo.js). UI=1 leaves a visible browser and the site running.
set -eu
build=${1:-build}
sh tests/vcard.sh up "$build"
trap 'sh tests/vcard.sh down "$build" >/dev/null' EXIT INT TERM
NB_BUILD="$build" node tests/e2e/demo.js
