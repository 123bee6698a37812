/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "policy.h"
#include "testutil.h"

static int allowed(const uint8_t *b, size_t len)
{
    nb_apdu a;
    const char *why = NULL;
    ck_assert_int_eq(nb_apdu_parse(b, len, &a, &why), 0);
    return nb_policy_plain_transmit(&a, &why);
}

START_TEST(read_only_commands_pass)
{
    const uint8_t select[] = {0x00, 0xA4, 0x04, 0x0C, 0x07, 'P', 'K', 'C', 'S', '-', '1', '5'};
    const uint8_t read_binary[] = {0x00, 0xB0, 0x00, 0x00, 0x00};
    const uint8_t read_record[] = {0x00, 0xB2, 0x01, 0x04, 0x00};
    const uint8_t get_data[] = {0x00, 0xCA, 0x00, 0x5A, 0x00};
    const uint8_t get_challenge[] = {0x00, 0x84, 0x00, 0x00, 0x08};
    const uint8_t get_response[] = {0x00, 0xC0, 0x00, 0x00, 0x10};
    const uint8_t verify_query[] = {0x00, 0x20, 0x00, 0x81};
    const uint8_t select_channel1[] = {0x01, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
    ck_assert(allowed(select, sizeof(select)));
    ck_assert(allowed(read_binary, sizeof(read_binary)));
    ck_assert(allowed(read_record, sizeof(read_record)));
    ck_assert(allowed(get_data, sizeof(get_data)));
    ck_assert(allowed(get_challenge, sizeof(get_challenge)));
    ck_assert(allowed(get_response, sizeof(get_response)));
    ck_assert(allowed(verify_query, sizeof(verify_query)));
    ck_assert(allowed(select_channel1, sizeof(select_channel1)));
}
END_TEST

START_TEST(changing_commands_are_refused)
{
    const uint8_t verify_pin[] = {0x00, 0x20, 0x00, 0x81, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF};
    const uint8_t verify_le[] = {0x00, 0x20, 0x00, 0x81, 0x00};
    const uint8_t change[] = {0x00, 0x24, 0x00, 0x81, 0x02, 0x31, 0x32};
    const uint8_t reset_retry[] = {0x00, 0x2C, 0x03, 0x81};
    const uint8_t update_binary[] = {0x00, 0xD6, 0x00, 0x00, 0x01, 0x00};
    const uint8_t authenticate[] = {0x00, 0x82, 0x00, 0x00, 0x01, 0x00};
    const uint8_t proprietary_select[] = {0x80, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00};
    const uint8_t chained_select[] = {0x10, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
    const uint8_t reserved_cla[] = {0x20, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
    const uint8_t manage_channel[] = {0x00, 0x70, 0x00, 0x00, 0x01};
    const uint8_t terminate[] = {0x00, 0xE6, 0x00, 0x00};
    /* P1=FF "resets the security status": it logs other programs out. */
    const uint8_t verify_reset_status[] = {0x00, 0x20, 0xFF, 0x81};
    const uint8_t verify_other_p1[] = {0x00, 0x20, 0x01, 0x81};
    ck_assert(!allowed(verify_reset_status, sizeof(verify_reset_status)));
    ck_assert(!allowed(verify_other_p1, sizeof(verify_other_p1)));
    ck_assert(!allowed(verify_pin, sizeof(verify_pin)));
    ck_assert(!allowed(verify_le, sizeof(verify_le)));
    ck_assert(!allowed(change, sizeof(change)));
    ck_assert(!allowed(reset_retry, sizeof(reset_retry)));
    ck_assert(!allowed(update_binary, sizeof(update_binary)));
    ck_assert(!allowed(authenticate, sizeof(authenticate)));
    ck_assert(!allowed(proprietary_select, sizeof(proprietary_select)));
    ck_assert(!allowed(chained_select, sizeof(chained_select)));
    ck_assert(!allowed(reserved_cla, sizeof(reserved_cla)));
    ck_assert(!allowed(manage_channel, sizeof(manage_channel)));
    ck_assert(!allowed(terminate, sizeof(terminate)));
}
END_TEST

START_TEST(secret_data_is_recognised)
{
    nb_apdu a = {0};
    a.ins = NB_INS_VERIFY;
    ck_assert(nb_policy_data_is_secret(&a));
    a.ins = NB_INS_CHANGE_REFERENCE_DATA;
    ck_assert(nb_policy_data_is_secret(&a));
    a.ins = NB_INS_RESET_RETRY_COUNTER;
    ck_assert(nb_policy_data_is_secret(&a));
    a.ins = NB_INS_SELECT;
    ck_assert(!nb_policy_data_is_secret(&a));
    a.cla = 0x0C; /* secure messaging */
    ck_assert(nb_policy_data_is_secret(&a));
    a.cla = 0x80; /* proprietary */
    ck_assert(nb_policy_data_is_secret(&a));
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, read_only_commands_pass);
    tcase_add_test(tc, changing_commands_are_refused);
    tcase_add_test(tc, secret_data_is_recognised);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(policy_suite)
