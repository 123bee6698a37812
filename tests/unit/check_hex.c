/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "hex.h"
#include "testutil.h"

START_TEST(decodes_strictly)
{
    uint8_t out[4];
    ck_assert_int_eq(nb_hex_decode("00a4Ff", 6, out, sizeof(out)), 3);
    ck_assert_uint_eq(out[1], 0xA4);
    ck_assert_uint_eq(out[2], 0xFF);
    ck_assert_int_eq(nb_hex_decode("", 0, out, sizeof(out)), 0);
    ck_assert_int_eq(nb_hex_decode("0", 1, out, sizeof(out)), -1);      /* odd */
    ck_assert_int_eq(nb_hex_decode("0g", 2, out, sizeof(out)), -1);     /* not hex */
    ck_assert_int_eq(nb_hex_decode("00 1", 4, out, sizeof(out)), -1);   /* space */
    ck_assert_int_eq(nb_hex_decode("0x00", 4, out, sizeof(out)), -1);
    ck_assert_int_eq(nb_hex_decode("0011223344", 10, out, sizeof(out)), -1); /* too long */
}
END_TEST

START_TEST(encodes_upper_case)
{
    char text[7];
    const uint8_t data[] = {0x00, 0xAB, 0x9F};
    nb_hex_encode(data, 3, text);
    ck_assert_str_eq(text, "00AB9F");
}
END_TEST

static Suite *hex_suite(void)
{
    Suite *s = suite_create("hex");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, decodes_strictly);
    tcase_add_test(tc, encodes_upper_case);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(hex_suite)
