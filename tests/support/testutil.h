/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the Check unit tests. */
#ifndef NB_TESTUTIL_H
#define NB_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

#define NB_CHECK_MAIN(make_suite)                                  \
    int main(void)                                                 \
    {                                                              \
        SRunner *runner = srunner_create(make_suite());            \
        srunner_run_all(runner, CK_NORMAL);                        \
        int failed = srunner_ntests_failed(runner);                \
        srunner_free(runner);                                      \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;          \
    }

#endif
