/* SPDX-License-Identifier: Apache-2.0 */
/* The one wipe helper and the constant-time compare (common/wipe.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"
#include "wipe.h"

START_TEST(wipes_what_it_is_given)
{
    uint8_t secret[32];
    memset(secret, 0x5A, sizeof(secret));
    nb_wipe(secret + 4, 20);
    for (size_t i = 0; i < sizeof(secret); i++)
        ck_assert_uint_eq(secret[i], i >= 4 && i < 24 ? 0 : 0x5A);
    nb_wipe(NULL, 10); /* nothing to do, no crash */
    nb_free_wiped(NULL);
    char *block = malloc(40);
    ck_assert_ptr_nonnull(block);
    memset(block, 'P', 40);
    ck_assert_uint_ge(nb_alloc_size(block), 40); /* all of it is wiped, not just what was asked */
    nb_free_wiped(block);
}
END_TEST

START_TEST(compares_secrets_whole)
{
    ck_assert(nb_equal_secret("654321", "654321", 6));
    ck_assert(!nb_equal_secret("654321", "654322", 6));
    ck_assert(!nb_equal_secret("054321", "654321", 6));
    ck_assert(nb_equal_secret("a", "b", 0));
}
END_TEST

static Suite *wipe_suite(void)
{
    Suite *s = suite_create("wipe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, wipes_what_it_is_given);
    tcase_add_test(tc, compares_secrets_whole);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(wipe_suite)
