/* SPDX-License-Identifier: Apache-2.0 */
/* Strict base64 (common/base64.c): standard alphabet, padding, no white
 * space, unused bits zero. */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "testutil.h"

START_TEST(base64_is_strict)
{
    size_t n;
    uint8_t *d = nb_base64_decode("TkI=", 4, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(memcmp(d, "NB", 2), 0);
    free(d);
    const char *bad[] = {"TkI", "TkJ=", "T kI=", "Tk==I", "====", "TkI=TkI=", "T\xC3\xA7I="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(nb_base64_decode(bad[i], strlen(bad[i]), &n) == NULL, "accepted %s", bad[i]);
    char *e = nb_base64_encode((const uint8_t *)"NB0", 3);
    ck_assert_str_eq(e, "TkIw");
    free(e);
}
END_TEST

static Suite *base64_suite(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, base64_is_strict);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(base64_suite)
