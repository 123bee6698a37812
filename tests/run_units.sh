#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs each unit test binary, directly or under valgrind (VALGRIND=1).
set -u
failed=0
for test in "$@"; do
    if [ "${VALGRIND:-0}" = 1 ]; then
        # CK_FORK=no: valgrind follows one process and sees every leak.
        CK_FORK=no valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
            "$test" || failed=1
    else
        "$test" || failed=1
    fi
done
exit $failed
