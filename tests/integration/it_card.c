/* SPDX-License-Identifier: Apache-2.0 */
/* Integration: the virtual NES card through a real pcscd (PC/SC directly,
 * no host policy in between): its AKİS ATR and the AKİS commands, every
 * command class, the three user cases, PUK blocking and removal in the
 * middle of a sequence; and the host's policy on AKİS's DIRECTORY. */
#include <stdio.h>
#include <stdlib.h>
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

START_TEST(an_akis_atr)
{
    uint32_t state = 0, proto = 0;
    uint8_t atr[40];
    size_t atr_len = sizeof(atr);
    ck_assert_uint_eq(pcsc->status(pcsc->self, card, &state, &proto, atr, &atr_len), NB_SCARD_S_SUCCESS);
    char hex[81];
    nb_hex_encode(atr, atr_len, hex);
    /* AKİS v1.3 on an Infineon chip, T=1, "UEKAE" in the historical bytes. */
    ck_assert_str_eq(hex, "3B9F968131FE45806755454B41451293318073B3A1806B");
    ck_assert_ptr_nonnull(strstr(hex, "55454B4145"));
    ck_assert_uint_eq(proto, NB_PROTOCOL_T1);
}
END_TEST

START_TEST(akis_commands)
{
    uint8_t data[512];
    size_t n;
    /* SELECT: 02 an EF by id, 00 a DF by id, 08 a path; FCI with tag 90. */
    ck_assert_uint_eq(sw("00A4020C02C000"), 0x6A82); /* EF.CERT is in DF 5015, not the MF */
    ck_assert_uint_eq(sw("00A4000C025015"), 0x9000);
    ck_assert_uint_eq(sw("00A4000C02C000"), 0x6A82); /* an EF asked for as a DF */
    ck_assert_uint_eq(sw("00A4020C02C000"), 0x9000);
    ck_assert_uint_eq(apdu("00A40800043F002F0200", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(data[0], 0x6F);
    ck_assert_uint_eq(data[n - 3], 0x90);
    ck_assert_uint_eq(data[n - 1], 0x12); /* valid, read; the PIN untouched */
    ck_assert_uint_eq(sw("0020008108" "313131313131FFFF"), 0x63C2);
    ck_assert_uint_eq(apdu("00A40800043F002F0200", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(data[n - 1], 0x52); /* 0x40: a wrong PIN once */
    /* DIRECTORY of the MF: EF.DIR, EF.SN, DF.PKCS15. */
    ck_assert_uint_eq(apdu("8018000000", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(n, 60);
    ck_assert_uint_eq(data[40], 0x3D);
    ck_assert_uint_eq(data[41] << 8 | data[42], 0x5015);
    /* GET DATA: system data (serial at 55), life cycle (user, A5). */
    ck_assert_uint_eq(apdu("00CA01064D", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(n, 0x4D);
    ck_assert_int_eq(memcmp(data + 55, "NB0000000001", 12), 0);
    ck_assert_uint_eq(apdu("00CA01040A", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(data[6], 0xA5);
    /* VERIFY, LOGOUT, MSE. */
    ck_assert_uint_eq(sw("0020008106" "313233343536"), 0x9000);
    ck_assert_uint_eq(sw("00200081"), 0x9000);
    ck_assert_uint_eq(sw("801A0000"), 0x9000);
    ck_assert_uint_eq(sw("00200081"), 0x63C3);
    ck_assert_uint_eq(sw("0022C301"), 0x9000);
    /* Personalisation refused on a holder's card. */
    ck_assert_uint_eq(sw("801580B0024401"), 0x6985);
    ck_assert_uint_eq(sw("80100000024402"), 0x6985);
    ck_assert_uint_eq(sw("8016020002C000"), 0x6985);
    ck_assert_uint_eq(sw("80090002"), 0x6985);
}
END_TEST

START_TEST(directory_is_refused_outside_a_script)
{
    /* The host's policy: a page's transmit never carries a proprietary
     * class, AKİS's read-only DIRECTORY included. */
    hostproc host;
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
    cJSON *r = host_call(&host, "connect", "{\"reader\":\"" IT_READER "\"}");
    ck_assert_str_eq(reply_code(r), "ok");
    int h = reply_result(r, "handle")->valueint;
    cJSON_Delete(r);
    const char *before = strstr(vcard_control("status"), "apdus=");
    ck_assert_ptr_nonnull(before);
    long apdus = atol(before + 6);
    const char *refused[] = {"8018000000", "801A0000", "80090002"};
    for (int i = 0; i < 3; i++) {
        char args[128];
        snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"%s\"}", h, refused[i]);
        r = host_call(&host, "transmit", args);
        ck_assert_str_eq(reply_code(r), "not-allowed");
        cJSON_Delete(r);
    }
    ck_assert_int_eq(atol(strstr(vcard_control("status"), "apdus=") + 6), apdus); /* none reached the card */
    ck_assert_int_eq(host_close(&host, 1000), 0);
}
END_TEST

START_TEST(file_system_and_data)
{
    uint8_t data[512];
    size_t n;
    ck_assert_uint_eq(sw("00A4040C07504B43532D3135"), 0x9000);
    ck_assert_uint_eq(sw("00A4020C02C000"), 0x9000);
    ck_assert_uint_eq(apdu("00B0000000", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(n, 256);
    ck_assert_uint_eq(data[0], 0x30);
    ck_assert_uint_eq(apdu("00B0010000", data, &n, NULL), 0x6282); /* the tail */
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    ck_assert_uint_eq(sw("00A4020C022F02"), 0x9000);
    ck_assert_uint_eq(apdu("00B000000C", data, &n, NULL), 0x9000);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
    ck_assert_uint_eq(apdu("00CA005A00", data, &n, NULL), 0x9000);
    ck_assert_uint_eq(sw("00A4020C024242"), 0x6A82);
    ck_assert_uint_eq(sw("00FF0000"), 0x6D00);
    ck_assert_uint_eq(sw("90A40000"), 0x6E00);
    ck_assert_uint_eq(sw("0C2C03810A8E080102030405060708" "00"), 0x6982);
}
END_TEST

START_TEST(change_pin_knowing_the_old_one)
{
    /* AKİS's form: P1=02 P2=01 (reference 81), L(old) old L(new) new. */
    ck_assert_uint_eq(sw("002402010E" "06313233343536" "06363534333231"), 0x9000);
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
    tcase_add_test(tc, an_akis_atr);
    tcase_add_test(tc, akis_commands);
    tcase_add_test(tc, directory_is_refused_outside_a_script);
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
