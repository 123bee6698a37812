/* SPDX-License-Identifier: Apache-2.0 */
/* The error table, and the PC/SC constants checked against pcsc-lite's own
 * header (tests may include it; the host's modules may not). */
#include <string.h>

#include <PCSC/pcsclite.h>

#include "errors.h"
#include "protocol.h"
#include "testutil.h"

START_TEST(table_is_complete_and_ordered)
{
    for (int i = 0; i < NB_ERROR_COUNT; i++) {
        const char *name = nb_error_name((nb_error)i);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(nb_error_from_name(name), i);
        ck_assert_uint_gt(strlen(nb_error_message((nb_error)i)), 5);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(name, nb_error_name((nb_error)j));
    }
    ck_assert_int_eq(nb_error_from_name("no-such-code"), NB_ERROR_COUNT);
}
END_TEST

START_TEST(pcsc_codes_map)
{
    ck_assert_uint_eq(NB_SCARD_E_NO_SERVICE, (uint32_t)SCARD_E_NO_SERVICE);
    ck_assert_uint_eq(NB_SCARD_W_REMOVED_CARD, (uint32_t)SCARD_W_REMOVED_CARD);
    ck_assert_uint_eq(NB_SCARD_E_UNSUPPORTED_FEATURE, (uint32_t)SCARD_E_UNSUPPORTED_FEATURE);
    ck_assert_uint_eq(NB_SCARD_E_NO_READERS_AVAILABLE, (uint32_t)SCARD_E_NO_READERS_AVAILABLE);
    ck_assert_int_eq(nb_error_from_pcsc((uint32_t)SCARD_S_SUCCESS), NB_OK);
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_NO_SERVICE)), "no-service");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_SERVICE_STOPPED)), "no-service");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_NO_SMARTCARD)), "no-smartcard");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_W_REMOVED_CARD)), "removed-card");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_W_RESET_CARD)), "reset-card");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_SHARING_VIOLATION)), "sharing-violation");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_UNKNOWN_READER)), "unknown-reader");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_W_UNRESPONSIVE_CARD)), "unresponsive-card");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_W_UNPOWERED_CARD)), "unpowered-card");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_CANCELLED)), "system-cancelled");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_TIMEOUT)), "timeout");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc((uint32_t)SCARD_E_NOT_TRANSACTED)), "not-transacted");
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc(0x80100099u)), "unknown-error");
    ck_assert(nb_pcsc_context_lost((uint32_t)SCARD_E_NO_SERVICE));
    ck_assert(!nb_pcsc_context_lost((uint32_t)SCARD_W_REMOVED_CARD));
}
END_TEST

/* A code the host made (no status word came back) maps like the PC/SC
 * code it stands for, and a reply never presents it as PC/SC's. */
START_TEST(host_made_codes_are_never_reported_as_pcsc)
{
    uint32_t made = NB_HOST_MADE_CODE(NB_SCARD_W_REMOVED_CARD);
    ck_assert_str_eq(nb_error_name(nb_error_from_pcsc(made)), "removed-card");
    ck_assert(nb_pcsc_context_lost(NB_HOST_MADE_CODE(NB_SCARD_E_NO_SERVICE)));
    nb_outcome out = {0};
    nb_fail_pcsc(&out, made);
    ck_assert(!out.has_pcsc);
    char *text = nb_reply_serialise(NULL, &out);
    ck_assert_ptr_null(strstr(text, "pcsc"));
    free(text);
    nb_outcome real = {0};
    nb_fail_pcsc(&real, NB_SCARD_W_REMOVED_CARD);
    text = nb_reply_serialise(NULL, &real);
    ck_assert_ptr_nonnull(strstr(text, "\"pcsc\":\"0x80100069\""));
    free(text);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, table_is_complete_and_ordered);
    tcase_add_test(tc, pcsc_codes_map);
    tcase_add_test(tc, host_made_codes_are_never_reported_as_pcsc);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(errors_suite)
