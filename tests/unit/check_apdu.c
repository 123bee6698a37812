/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "apdu.h"
#include "testutil.h"

static int parse(const uint8_t *b, size_t len, nb_apdu *a)
{
    const char *why = NULL;
    return nb_apdu_parse(b, len, a, &why);
}

START_TEST(short_cases)
{
    nb_apdu a;
    const uint8_t c1[] = {0x00, 0x20, 0x00, 0x81};
    ck_assert_int_eq(parse(c1, 4, &a), 0);
    ck_assert_int_eq(a.apdu_case, 1);
    const uint8_t c2[] = {0x00, 0xB0, 0x00, 0x00, 0x00};
    ck_assert_int_eq(parse(c2, 5, &a), 0);
    ck_assert_int_eq(a.apdu_case, 2);
    ck_assert_uint_eq(a.le, 256);
    const uint8_t c3[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
    ck_assert_int_eq(parse(c3, 7, &a), 0);
    ck_assert_int_eq(a.apdu_case, 3);
    ck_assert_uint_eq(a.lc, 2);
    ck_assert_uint_eq(a.data_offset, 5);
    const uint8_t c4[] = {0x00, 0xA4, 0x04, 0x00, 0x01, 0x50, 0x10};
    ck_assert_int_eq(parse(c4, 7, &a), 0);
    ck_assert_int_eq(a.apdu_case, 4);
    ck_assert_uint_eq(a.le, 0x10);
}
END_TEST

START_TEST(extended_cases)
{
    nb_apdu a;
    const uint8_t e2[] = {0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00};
    ck_assert_int_eq(parse(e2, 7, &a), 0);
    ck_assert_int_eq(a.apdu_case, 2);
    ck_assert(a.extended);
    ck_assert_uint_eq(a.le, 65536);
    uint8_t e3[7 + 300];
    memset(e3, 0xAA, sizeof(e3));
    e3[0] = 0x00; e3[1] = 0xD6; e3[2] = 0; e3[3] = 0; e3[4] = 0; e3[5] = 0x01; e3[6] = 0x2C;
    ck_assert_int_eq(parse(e3, sizeof(e3), &a), 0);
    ck_assert_int_eq(a.apdu_case, 3);
    ck_assert_uint_eq(a.lc, 300);
    uint8_t e4[7 + 300 + 2];
    memcpy(e4, e3, sizeof(e3));
    e4[sizeof(e3)] = 0x01;
    e4[sizeof(e3) + 1] = 0x00;
    ck_assert_int_eq(parse(e4, sizeof(e4), &a), 0);
    ck_assert_int_eq(a.apdu_case, 4);
    ck_assert_uint_eq(a.le, 256);
}
END_TEST

START_TEST(malformed)
{
    nb_apdu a;
    const uint8_t too_short[] = {0x00, 0xA4, 0x00};
    ck_assert_int_eq(parse(too_short, 3, &a), -1);
    const uint8_t lc_mismatch[] = {0x00, 0xA4, 0x00, 0x0C, 0x05, 0x3F, 0x00};
    ck_assert_int_eq(parse(lc_mismatch, 7, &a), -1);
    const uint8_t lc_too_short[] = {0x00, 0xA4, 0x00, 0x0C, 0x01, 0x3F, 0x00, 0x00};
    ck_assert_int_eq(parse(lc_too_short, 8, &a), -1);
    const uint8_t six[] = {0x00, 0xB0, 0x00, 0x00, 0x00, 0x00};
    ck_assert_int_eq(parse(six, 6, &a), -1);
    const uint8_t ext_zero_lc[] = {0x00, 0xD6, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAA};
    ck_assert_int_eq(parse(ext_zero_lc, 8, &a), -1);
    const uint8_t ext_mismatch[] = {0x00, 0xD6, 0x00, 0x00, 0x00, 0x00, 0x05, 0xAA};
    ck_assert_int_eq(parse(ext_mismatch, 8, &a), -1);
    const uint8_t cla_ff[] = {0xFF, 0xCA, 0x00, 0x00};
    ck_assert_int_eq(parse(cla_ff, 4, &a), -1);
    static uint8_t huge[NB_APDU_MAX_BYTES + 1];
    ck_assert_int_eq(parse(huge, sizeof(huge), &a), -1);
}
END_TEST

static Suite *apdu_suite(void)
{
    Suite *s = suite_create("apdu");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, short_cases);
    tcase_add_test(tc, extended_cases);
    tcase_add_test(tc, malformed);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(apdu_suite)
