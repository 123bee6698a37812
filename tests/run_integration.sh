#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts pcscd with both readers (the plain one and the pinpad) and their
# cards, runs the integration tests, stops them.
set -u
build=${1:-build}
sh tests/vcard.sh up "$build" || exit 1
trap 'sh tests/vcard.sh down "$build" >/dev/null' EXIT INT TERM
failed=0
for test in it_card it_host it_script it_pinpad; do
    NB_BUILD="$build" "$build/tests/$test" || failed=1
done
# The authority's side: nesbridge-sign with the key in SoftHSM2, key
# rotation and withdrawal, docs/authority.md's worked example; one file
# at a time, as each steers the one virtual card. Node drives the C
# programs, so these run in the sanitized pass too.
for t in tests/authority/*.test.js; do
    NB_BUILD="$build" node --test "$t" || failed=1
done
if [ "${NB_ONLY_C:-0}" = 1 ]; then
    exit $failed
fi
# The extension in real browsers, through the same host, pcscd and card.
NB_BUILD="$build" node --test tests/browser/browser.test.js || failed=1
# The malformed-input battery against the real host, plain and under valgrind.
NB_BUILD="$build" node --test tests/battery/ || failed=1
NB_BUILD="$build" node --test tests/installer/ || failed=1
NB_BUILD="$build" NB_VALGRIND=1 node --test tests/battery/ || failed=1
# The demo site's whole unlock, end to end.
NB_BUILD="$build" node --test tests/e2e/ || failed=1
exit $failed
