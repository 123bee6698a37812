/* SPDX-License-Identifier: Apache-2.0 */
/* The nonce table (host/nonce.c): issue, check, spend, forget, evict. */
#include <string.h>

#include "nonce.h"
#include "testutil.h"

START_TEST(nonce_lifecycle)
{
    nb_nonce_table t;
    memset(&t, 0, sizeof(t));
    uint8_t a[NB_NONCE_BYTES], b[NB_NONCE_BYTES];
    ck_assert_int_eq(nb_nonce_issue(&t, 7, 1000, a), 0);
    ck_assert_int_eq(nb_nonce_issue(&t, 8, 1000, b), 0);
    ck_assert_int_ne(memcmp(a, b, sizeof(a)), 0);
    ck_assert_int_eq(nb_nonce_check(&t, a, 7, 1300), NB_OK);
    ck_assert_int_eq(nb_nonce_check(&t, a, 7, 1301), NB_ERR_NONCE_EXPIRED);
    ck_assert_int_eq(nb_nonce_check(&t, a, 7, 999), NB_ERR_NONCE_EXPIRED); /* clock went back */
    ck_assert_int_eq(nb_nonce_check(&t, a, 8, 1000), NB_ERR_NONCE_WRONG_HANDLE);
    nb_nonce_consume(&t, a);
    ck_assert_int_eq(nb_nonce_check(&t, a, 7, 1000), NB_ERR_NONCE_REPLAYED);
    nb_nonce_forget_handle(&t, 8);
    ck_assert_int_eq(nb_nonce_check(&t, b, 8, 1000), NB_ERR_NONCE_REPLAYED);
    /* When full, the oldest goes first. */
    uint8_t first[NB_NONCE_BYTES], x[NB_NONCE_BYTES];
    nb_nonce_issue(&t, 1, 2000, first);
    for (int i = 1; i <= NB_NONCE_SLOTS; i++)
        nb_nonce_issue(&t, 1, 2000 + i, x);
    ck_assert_int_eq(nb_nonce_check(&t, first, 1, 2100), NB_ERR_NONCE_REPLAYED);
    ck_assert_int_eq(nb_nonce_check(&t, x, 1, 2100), NB_OK);
}
END_TEST

static Suite *nonce_suite(void)
{
    Suite *s = suite_create("nonce");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, nonce_lifecycle);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(nonce_suite)
