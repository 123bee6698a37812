/* SPDX-License-Identifier: Apache-2.0 */
/* Integration: the virtual NES card through a real pcscd (PC/SC directly,
 * no host policy in between): every command class, the three user cases,
 * PUK blocking and removal in the middle of a sequence. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "authority.h"
#include "backend.h"
#include "errors.h"
#include "hex.h"
#include "hostproc.h"
#include "sm.h"
#include "testutil.h"

static const nb_backend *pcsc;
static nb_context ctx;
static nb_card card;
static uint32_t protocol;

static void connect_card(void)
{
    ck_assert_uint_eq(pcsc->connect(pcsc->self, ctx, IT_READER, NB_SHARE_SHARED, NB_PROTOCOL_T1,
                                    &card, &protocol), NB_SCARD_S_SUCCESS);
}

static void setup(void)
{
    vcard_control("insert");
    vcard_control("reset-state fresh");
    vcard_wait_present(1);
    pcsc = nb_pcsc_backend();
    ck_assert_uint_eq(pcsc->establish(pcsc->self, &ctx), NB_SCARD_S_SUCCESS);
    connect_card();
}

static void teardown(void)
{
    pcsc->disconnect(pcsc->self, card, NB_RESET_CARD);
    pcsc->release(pcsc->self, ctx);
}

/* Sends hex; returns the SW, or 0 when PC/SC failed (rv in *rv_out). */
static unsigned apdu(const char *hex, uint8_t *data, size_t *data_len, uint32_t *rv_out)
{
    uint8_t cmd[300], resp[600];
    long n = nb_hex_decode(hex, strlen(hex), cmd, sizeof(cmd));
    ck_assert_int_ge(n, 4);
    size_t len = sizeof(resp);
    uint32_t rv = pcsc->transmit(pcsc->self, card, protocol, cmd, (size_t)n, resp, &len);
    if (rv_out != NULL)
        *rv_out = rv;
    if (rv != NB_SCARD_S_SUCCESS || len < 2) {
        if (rv_out == NULL)
            ck_abort_msg("transmit %s: rv 0x%08X, %zu bytes", hex, rv, len);
        return 0;
    }
    if (data != NULL) {
        memcpy(data, resp, len - 2);
        *data_len = len - 2;
    }
    return (unsigned)((resp[len - 2] << 8) | resp[len - 1]);
}

static unsigned sw(const char *hex)
{
    return apdu(hex, NULL, NULL, NULL);
}

#define PIN_123456 "313233343536FFFF"
#define PIN_111111 "313131313131FFFF"
#define PIN_654321 "363534333231FFFF"
#define PUK_12345678 "3132333435363738"
#define PUK_00000000 "3030303030303030"

/* What the authority's server prepares (tests/support/authority.c), sent
 * directly. Returns the status word of the protected RESET RETRY COUNTER. */
static unsigned authority_unlock(void)
{
    uint8_t challenge[8];
    size_t n;
    ck_assert_uint_eq(apdu("0084000008", challenge, &n, NULL), 0x9000);
    char auth[256], rrc[256];
    ck_assert_int_eq(authority_unlock_apdus(DEMO_SERIAL, challenge, auth, rrc), 0);
    ck_assert_uint_eq(sw(auth), 0x9000);
    return sw(rrc);
}

START_TEST(file_system_and_data)
{
    uint8_t data[512];
    size_t n;
    ck_assert_uint_eq(sw("00A4040C07504B43532D3135"), 0x9000);
    ck_assert_uint_eq(sw("00A4000C02C000"), 0x9000);
    ck_assert_uint_eq(apdu("00B0000000", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(n, 256);
    ck_assert_uint_eq(data[0], 0x30);
    ck_assert_uint_eq(apdu("00B0010000", data, &n, NULL), 0x6282); /* the tail */
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    ck_assert_uint_eq(sw("00A4000C022F02"), 0x9000);
    ck_assert_uint_eq(apdu("00B000000C", data, &n, NULL), 0x9000);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
    ck_assert_uint_eq(apdu("00CA005A00", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(sw("00A4000C024242"), 0x6A82);
    ck_assert_uint_eq(sw("00FF0000"), 0x6D00);
    ck_assert_uint_eq(sw("90A40000"), 0x6E00);
    ck_assert_uint_eq(sw("0C2C03810A8E080102030405060708" "00"), 0x6982);
}
END_TEST

START_TEST(change_pin_knowing_the_old_one)
{
    ck_assert_uint_eq(sw("0024008110" PIN_123456 PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x63C2);
}
END_TEST

START_TEST(forgotten_pin)
{
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x6985);
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
    /* A command between the authority's step and the new PIN ends the
     * permission: the card stays as it was. */
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_123456), 0x6985);
}
END_TEST

START_TEST(locked_after_three_wrong_tries)
{
    for (unsigned left = 2;; left--) {
        ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C0 | left);
        if (left == 0)
            break;
    }
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=3"));
}
END_TEST

START_TEST(puk_blocks_after_ten)
{
    for (unsigned left = 9;; left--) {
        ck_assert_uint_eq(sw("002C018108" PUK_00000000), 0x63C0 | left);
        if (left == 0)
            break;
    }
    ck_assert_uint_eq(sw("002C018108" PUK_12345678), 0x6983);
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "puk_tries=0"));
}
END_TEST

START_TEST(removal_mid_sequence_keeps_the_state_consistent)
{
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C2);
    /* The card goes away right after processing the next wrong PIN. */
    vcard_control("remove-after 1");
    uint32_t rv = 0;
    ck_assert_uint_eq(apdu("0020008108" PIN_111111, NULL, NULL, &rv), 0);
    vcard_wait_present(0);
    vcard_control("insert");
    vcard_wait_present(1);
    pcsc->disconnect(pcsc->self, card, NB_LEAVE_CARD);
    connect_card();
    /* The try was spent before the card answered: no free tries. */
    ck_assert_uint_eq(sw("00200081"), 0x63C1);
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x9000);
    ck_assert_uint_eq(sw("00200081"), 0x9000);
}
END_TEST

START_TEST(apdu_round_trip_is_fast)
{
    const int rounds = 500;
    double t0 = now_seconds();
    for (int i = 0; i < rounds; i++)
        ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    double per_apdu_ms = (now_seconds() - t0) * 1000.0 / rounds;
    printf("virtual card: %.3f ms per APDU round trip through pcscd (%d rounds)\n", per_apdu_ms, rounds);
    ck_assert_double_lt(per_apdu_ms, 1.0);
}
END_TEST

static Suite *card_suite(void)
{
    Suite *s = suite_create("card-integration");
    TCase *tc = tcase_create("pcscd+vcard");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, file_system_and_data);
    tcase_add_test(tc, change_pin_knowing_the_old_one);
    tcase_add_test(tc, forgotten_pin);
    tcase_add_test(tc, locked_after_three_wrong_tries);
    tcase_add_test(tc, puk_blocks_after_ten);
    tcase_add_test(tc, removal_mid_sequence_keeps_the_state_consistent);
    tcase_add_test(tc, apdu_round_trip_is_fast);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(card_suite)
