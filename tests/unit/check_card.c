/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual card's command processing, without pcscd. */
#include <string.h>

#include "authority.h"
#include "card.h"
#include "hex.h"
#include "testutil.h"

static nb_vcard card;
static int saves, fail_saves;

static int save(void *arg, const nb_card_state *st)
{
    (void)arg;
    (void)st;
    saves++;
    return fail_saves ? -1 : 0;
}

static void setup_with(const char *how)
{
    memset(&card, 0, sizeof(card));
    uint8_t master[16];
    nb_hex_decode("4E4553425249444745444D4F4B455931", 32, master, 16);
    ck_assert_int_eq(nb_card_state_init(&card.state, "NB0000000001", master, how), 0);
    card.save = save;
    saves = fail_saves = 0;
    nb_vcard_power(&card);
}

static void setup(void)
{
    setup_with("fresh");
}

/* Sends hex, returns the SW; response data (if wanted) into data. */
static unsigned send_apdu(const char *hex, uint8_t *data, size_t *data_len)
{
    uint8_t cmd[300], resp[600];
    long n = nb_hex_decode(hex, strlen(hex), cmd, sizeof(cmd));
    ck_assert_int_ge(n, 0);
    size_t len = nb_vcard_process(&card, cmd, (size_t)n, resp, sizeof(resp));
    ck_assert_uint_ge(len, 2);
    if (data != NULL) {
        memcpy(data, resp, len - 2);
        *data_len = len - 2;
    }
    return (unsigned)((resp[len - 2] << 8) | resp[len - 1]);
}

static unsigned sw(const char *hex)
{
    return send_apdu(hex, NULL, NULL);
}

/* PIN fields: ASCII digits padded with FF to 8 bytes. */
#define PIN_123456 "313233343536FFFF"
#define PIN_111111 "313131313131FFFF"
#define PIN_654321 "363534333231FFFF"
#define PIN_2468024 "32343638303234FF"
#define PUK_12345678 "3132333435363738"
#define PUK_00000000 "3030303030303030"

/* The authority's unlock: authenticate with the admin key, then RESET
 * RETRY COUNTER P1=03 under secure messaging. Returns its status word. */
static unsigned authority_unlock(void)
{
    uint8_t challenge[8];
    size_t n;
    ck_assert_uint_eq(send_apdu("0084000008", challenge, &n), 0x9000);
    char auth[256], rrc[256];
    ck_assert_int_eq(authority_unlock_apdus(DEMO_SERIAL, challenge, auth, rrc), 0);
    ck_assert_uint_eq(sw(auth), 0x9000);
    return sw(rrc);
}

START_TEST(files_and_data)
{
    uint8_t data[300];
    size_t n;
    ck_assert_uint_eq(sw("00A4040C07504B43532D3135"), 0x9000);
    ck_assert_uint_eq(sw("00A4000C02C000"), 0x9000);
    ck_assert_uint_eq(sw("00A4000C022F02"), 0x6A82); /* EF.SN lives in the MF */
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    ck_assert_uint_eq(send_apdu("00A4000002" "2F02" "00", data, &n), 0x9000);
    ck_assert_uint_eq(data[0], 0x62);
    ck_assert_uint_eq(send_apdu("00B0000000", data, &n), 0x6282);
    ck_assert_uint_eq(n, 12);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
    ck_assert_uint_eq(send_apdu("00B0000404", data, &n), 0x9000);
    ck_assert_int_eq(memcmp(data, "0000", 4), 0);
    ck_assert_uint_eq(sw("00B0001001"), 0x6B00);
    ck_assert_uint_eq(send_apdu("00CA005A00", data, &n), 0x9000);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
    ck_assert_uint_eq(sw("00CA00FF00"), 0x6A88);
    ck_assert_uint_eq(sw("00A4040C03AABBCC"), 0x6A82);
    ck_assert_uint_eq(sw("00A4080C023F00"), 0x6A86);
    ck_assert_uint_eq(sw("00EE0000"), 0x6D00);
    ck_assert_uint_eq(sw("B0A4000C023F00"), 0x6E00);
    ck_assert_uint_eq(sw("00A4"), 0x6700);
    ck_assert_uint_eq(sw("0084000010"), 0x6700);
}
END_TEST

START_TEST(verify_and_counters)
{
    ck_assert_uint_eq(sw("00200081"), 0x63C3);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x63C2);
    ck_assert_uint_eq(sw("00200081"), 0x63C2); /* a query spends nothing */
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x9000);
    ck_assert_uint_eq(sw("00200081"), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 3);
    ck_assert_uint_eq(sw("0020008106313233343536"), 0x6700);     /* not 8 bytes */
    ck_assert_uint_eq(sw("0020008108313233FFFFFFFFFF"), 0x6A80); /* too short */
    ck_assert_uint_eq(sw("002000810831323334353AFFFF"), 0x6A80); /* not a digit */
    ck_assert_uint_eq(sw("002000810831323334FF3536FF"), 0x6A80); /* gap */
    ck_assert_uint_eq(card.state.pin_tries, 3);                 /* formats spend nothing */
    ck_assert_uint_eq(sw("0020008308" PIN_123456), 0x6A88);
    ck_assert_uint_eq(sw("00200082"), 0x63CA);
}
END_TEST

START_TEST(case_change_pin_knowing_the_old_one)
{
    ck_assert_uint_eq(sw("0024008110" PIN_123456 PIN_2468024), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x63C2);
    ck_assert_uint_eq(sw("0020008108" PIN_2468024), 0x9000);
    ck_assert_uint_eq(sw("0024008110" PIN_111111 PIN_654321), 0x63C2);
    ck_assert_uint_eq(sw("0024008110" PIN_2468024 "31FFFFFFFFFFFFFF"), 0x6A80);
    ck_assert_uint_eq(sw("0024008108" PIN_2468024), 0x6700);
    ck_assert_str_eq(card.state.pin, "2468024");
}
END_TEST

START_TEST(case_forgotten_pin_authority_unlock)
{
    /* The new-PIN-only change is refused until the authority unlocks. */
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x6985);
    ck_assert_uint_eq(sw("0C2C03810A8E080102030405060708" "00"), 0x6982); /* no session */
    ck_assert_uint_eq(sw("002C0381"), 0x6982);                           /* not under SM */
    saves = 0;
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert(card.new_pin_armed);
    ck_assert_int_eq(saves, 0); /* nothing of the permission is saved */
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_111111), 0x6985); /* exactly once */
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
}
END_TEST

/* The card's half of "an interrupted unlock leaves the card as it was":
 * the permission to set a PIN without the old one lasts for exactly the
 * command after the authority's protected RESET RETRY COUNTER. A reset
 * (what pcscd does when the host dies inside its transaction, or a pulled
 * card) or any other command in between ends it, and the card is blocked
 * as before. */
static void lock_and_unlock(void)
{
    setup_with("pin-locked");
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 0); /* still blocked on record */
}

static void still_blocked(void)
{
    ck_assert(!card.new_pin_armed);
    ck_assert_uint_eq(sw("0024018108" PIN_111111), 0x6985);
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x6983);
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    ck_assert_uint_eq(card.state.pin_tries, 0);
    ck_assert_str_eq(card.state.pin, "123456");
}

START_TEST(an_interrupted_unlock_leaves_the_card_blocked)
{
    /* Reset or power loss between the protected step and the new PIN. */
    lock_and_unlock();
    nb_vcard_power(&card);
    still_blocked();
    /* Another program's command slips in (a VERIFY query, a SELECT). */
    lock_and_unlock();
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    still_blocked();
    lock_and_unlock();
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    still_blocked();
    /* A malformed command in between ends it too. */
    lock_and_unlock();
    ck_assert_uint_eq(sw("00A4"), 0x6700);
    still_blocked();
    /* A fresh unlock still works afterwards. */
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 3);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
}
END_TEST

START_TEST(case_locked_after_three_wrong_tries)
{
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C2);
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C1);
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C0);
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x6983);
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_2468024), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_2468024), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 3);
}
END_TEST

START_TEST(puk_unblocks_and_blocks_after_ten)
{
    setup_with("pin-locked");
    ck_assert_uint_eq(sw("002C000110" PUK_12345678 PIN_654321), 0x6A88); /* P2 00 */
    ck_assert_uint_eq(sw("002C048110" PUK_12345678 PIN_654321), 0x6A86);
    ck_assert_uint_eq(sw("002C008110" PUK_12345678 PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("002C018108" PUK_12345678), 0x9000);
    for (unsigned left = 9; left > 0; left--)
        ck_assert_uint_eq(sw("002C018108" PUK_00000000), 0x63C0 | left);
    ck_assert_uint_eq(sw("002C018108" PUK_00000000), 0x63C0);
    ck_assert_uint_eq(sw("002C018108" PUK_12345678), 0x6983);
    ck_assert_uint_eq(sw("00200082"), 0x6983);
    ck_assert_uint_eq(card.state.puk_tries, 0);
}
END_TEST

START_TEST(a_failed_save_changes_nothing)
{
    fail_saves = 1;
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x6581);
    ck_assert_uint_eq(card.state.pin_tries, 3);
    ck_assert_uint_eq(sw("0024008110" PIN_123456 PIN_654321), 0x6581);
    ck_assert_str_eq(card.state.pin, "123456");
    fail_saves = 0;
    saves = 0;
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C2);
    ck_assert_int_eq(saves, 1); /* the try was saved before the answer */
}
END_TEST

START_TEST(sm_session_rules)
{
    ck_assert_uint_eq(sw("00820000280000000000000000000000000000000000000000000000000000000000000000000000000000000028"), 0x6985);
    uint8_t challenge[8];
    size_t n;
    ck_assert_uint_eq(send_apdu("0084000008", challenge, &n), 0x9000);
    ck_assert_uint_eq(sw("00820000280000000000000000000000000000000000000000000000000000000000000000000000000000000028"), 0x6300);
    ck_assert(!card.sm.active);
    /* Reset (power) ends an established session. */
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    nb_vcard_power(&card);
    ck_assert(!card.sm.active);
    ck_assert_uint_eq(sw("0C2C03810A8E080102030405060708" "00"), 0x6982);
}
END_TEST

static Suite *card_suite(void)
{
    Suite *s = suite_create("card");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, files_and_data);
    tcase_add_test(tc, verify_and_counters);
    tcase_add_test(tc, case_change_pin_knowing_the_old_one);
    tcase_add_test(tc, case_forgotten_pin_authority_unlock);
    tcase_add_test(tc, case_locked_after_three_wrong_tries);
    tcase_add_test(tc, an_interrupted_unlock_leaves_the_card_blocked);
    tcase_add_test(tc, puk_unblocks_and_blocks_after_ten);
    tcase_add_test(tc, a_failed_save_changes_nothing);
    tcase_add_test(tc, sm_session_rules);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(card_suite)
