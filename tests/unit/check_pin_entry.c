/* SPDX-License-Identifier: Apache-2.0 */
/* The pinpad reader's PIN structures (ifd/pin_entry.c) on a mock keypad
 * and card: every field of PIN_VERIFY_STRUCTURE and PIN_MODIFY_STRUCTURE
 * in several shapes, the reader's own status words, and the exact APDU
 * that reaches the card. */
#include <string.h>

#include "hex.h"
#include "pin_entry.h"
#include "testutil.h"

/* The mock: what the holder does, what the card got and answers. */
static nb_entry_outcome outcome;
static nb_keypad_input holder;
static unsigned asked_timeout;
static nb_pin_prompts shown;
static uint8_t sent[NB_PIN_APDU_MAX];
static size_t sent_len;
static int card_mute;

static nb_entry_outcome mock_keypad(void *self, unsigned timeout_s, const nb_pin_prompts *prompts,
                                    nb_keypad_input *typed)
{
    (void)self;
    asked_timeout = timeout_s;
    shown = *prompts;
    if (outcome == NB_ENTRY_TYPED)
        *typed = holder;
    return outcome;
}

static int mock_transmit(void *self, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
                         size_t *resp_len)
{
    (void)self;
    (void)cap;
    memcpy(sent, apdu, len);
    sent_len = len;
    if (card_mute)
        return -1;
    resp[0] = 0x90;
    resp[1] = 0x00;
    *resp_len = 2;
    return 0;
}

static const nb_pin_io io = {mock_keypad, mock_transmit, NULL};

static void types(const char *a, const char *b, const char *c)
{
    memset(&holder, 0, sizeof(holder));
    outcome = NB_ENTRY_TYPED;
    const char *all[] = {a, b, c};
    for (int i = 0; i < 3 && all[i] != NULL; i++)
        strcpy(holder.entry[holder.count++], all[i]);
}

static void setup(void)
{
    types("1234", NULL, NULL);
    sent_len = 0;
    card_mute = 0;
    asked_timeout = 0;
    memset(&shown, 0, sizeof(shown));
}

/* Runs a structure given in hex; returns the status word the reader
 * answered (the card's or its own). */
static unsigned run(nb_pin_operation op, const char *hex)
{
    uint8_t in[300], out[300];
    long n = nb_hex_decode(hex, strlen(hex), in, sizeof(in));
    ck_assert_int_gt(n, 0);
    size_t out_len = 0;
    ck_assert_int_eq(nb_pin_entry(&io, op, in, (size_t)n, out, sizeof(out), &out_len), NB_PIN_OK);
    ck_assert_uint_eq(out_len, 2);
    return (unsigned)(out[0] << 8 | out[1]);
}

static void sent_is(const char *hex)
{
    char got[2 * NB_PIN_APDU_MAX + 1];
    nb_hex_encode(sent, sent_len, got);
    ck_assert_str_eq(got, hex);
}

/* VERIFY: bTimerOut bTimerOut2 fmt block lenfmt max min valid nmsg lang idx teo[3] len[4] */
#define VERIFY(fmt, block, lenfmt, max, min, valid, apdu_len, apdu) \
    "1E00" fmt block lenfmt max min valid "01" "0904" "00" "000000" apdu_len "000000" apdu

START_TEST(verify_ascii_left_in_ff_padding)
{
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "02", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x9000);
    sent_is("002000810831323334FFFFFFFF");
    ck_assert_uint_eq(asked_timeout, 30);
    ck_assert_uint_eq(shown.count, 1);
    ck_assert_uint_eq(shown.index[0], 0);
    ck_assert_uint_eq(shown.lang, 0x0409);
}
END_TEST

START_TEST(verify_ascii_right_justified)
{
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("86", "08", "00", "08", "04", "02", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x9000);
    sent_is("0020008108FFFFFFFF31323334");
}
END_TEST

START_TEST(verify_bcd_with_a_length_nibble)
{
    /* ISO 9564 format 2 style: 2L then BCD digits, F filler: length in
     * the low nibble of byte 0 (offset 4 bits, 4 bits), PIN from byte 1. */
    types("123456", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("89", "48", "04", "0C", "04", "02", "0D",
                                                 "002000810820FFFFFFFFFFFFFF")), 0x9000);
    sent_is("002000810826123456FFFFFFFF");
}
END_TEST

START_TEST(verify_binary_with_a_length_byte_and_bit_offsets)
{
    /* Binary coding (a byte a digit); units in bits: frame at bit 8,
     * length field 8 bits at bit 0; bytes not covered stay as sent. */
    types("9051", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("40", "86", "00", "05", "04", "02", "0C",
                                                 "002000010700000000000000")), 0x9000);
    sent_is("002000010704090005010000");
}
END_TEST

START_TEST(verify_whole_data_block)
{
    /* Block size 0: the PIN block runs to the end of the data. */
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "00", "00", "05", "04", "02", "0A",
                                                 "00200081052020202020")), 0x9000);
    sent_is("00200081053132333420");
}
END_TEST

START_TEST(digit_counts_out_of_range)
{
    types("123", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "02", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x6403);
    ck_assert_uint_eq(sent_len, 0); /* nothing reached the card */
    types("123456789", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "02", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x6403);
    /* Max size reached is the only validation: a shorter PIN never ends. */
    types("12345", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "01", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x6400);
    types("12345678", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "01", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x9000);
    sent_is("00200081083132333435363738");
    ck_assert_uint_eq(sent_len, 13);
}
END_TEST

START_TEST(cancel_timeout_and_a_mute_card)
{
    outcome = NB_ENTRY_CANCELLED;
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "02", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x6401);
    outcome = NB_ENTRY_TIMED_OUT;
    ck_assert_uint_eq(run(NB_PIN_VERIFY, VERIFY("82", "08", "00", "08", "04", "02", "0D",
                                                 "0020008108FFFFFFFFFFFFFFFF")), 0x6400);
    ck_assert_uint_eq(sent_len, 0);
    types("1234", NULL, NULL);
    card_mute = 1;
    uint8_t in[64], out[8];
    const char *hex = VERIFY("82", "08", "00", "08", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF");
    size_t n = (size_t)nb_hex_decode(hex, strlen(hex), in, sizeof(in)), out_len = 0;
    ck_assert_int_eq(nb_pin_entry(&io, NB_PIN_VERIFY, in, n, out, sizeof(out), &out_len), NB_PIN_NO_CARD);
    card_mute = 0;
    ck_assert_int_eq(nb_pin_entry(&io, NB_PIN_VERIFY, in, n, out, 1, &out_len), NB_PIN_SHORT_BUFFER);
}
END_TEST

START_TEST(structures_the_reader_refuses)
{
    /* Each gets 6B80 and nothing is sent. */
    const char *bad[] = {
        VERIFY("83", "08", "00", "08", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* coding RFU */
        VERIFY("82", "08", "00", "04", "08", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* min > max */
        VERIFY("82", "08", "00", "08", "00", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* min 0 */
        VERIFY("82", "08", "00", "08", "04", "00", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* no validation */
        VERIFY("82", "08", "00", "08", "04", "02", "0E", "0020008108FFFFFFFFFFFFFFFF"), /* ulDataLength */
        VERIFY("82", "08", "00", "08", "04", "02", "0D", "0020008109FFFFFFFFFFFFFFFF"), /* Lc */
        VERIFY("82", "09", "00", "08", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* block > data */
        VERIFY("82", "06", "00", "08", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* 8 digits in 6 */
        VERIFY("8A", "08", "00", "08", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* frame at 1 + 8 */
        VERIFY("89", "38", "04", "0C", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* 12 in 3 bits */
        VERIFY("89", "48", "3E", "08", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* length past the block */
        VERIFY("82", "08", "00", "21", "04", "02", "0D", "0020008108FFFFFFFFFFFFFFFF"), /* 33 digits */
        "1E008208000804020109040000000005000000" "0020008108",                          /* APDU cut */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sent_len = 0;
        ck_assert_msg(run(NB_PIN_VERIFY, bad[i]) == 0x6B80, "structure %zu", i);
        ck_assert_uint_eq(sent_len, 0);
    }
}
END_TEST

/* MODIFY: bTimerOut bTimerOut2 fmt block lenfmt offOld offNew max min confirm valid nmsg lang idx1-3 teo len apdu */
#define MODIFY(fmt, block, lenfmt, off_old, off_new, max, min, confirm, nmsg, idx, apdu_len, apdu)         \
    "0505" fmt block lenfmt off_old off_new max min confirm "02" nmsg "1F04" idx "000000" apdu_len "000000" \
    apdu

START_TEST(modify_as_the_host_sends_it)
{
    /* host/pinpad.c: new PIN only, confirmed, ASCII left in pad_to bytes of
     * pad_byte, no length field; here pad_to 15 and pad_to 8. */
    types("24681357", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "0F", "00", "00", "00", "08", "06", "01", "02", "000102",
                                                 "14", "002401810F" "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")),
                      0x9000);
    sent_is("002401810F3234363831333537FFFFFFFFFFFFFF");
    ck_assert_uint_eq(asked_timeout, 5);
    ck_assert_uint_eq(shown.count, 2);
    ck_assert_uint_eq(shown.lang, 0x041F);
    ck_assert_uint_eq(shown.index[0], 0);
    ck_assert_uint_eq(shown.index[1], 1);
    types("654321", NULL, NULL);
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "08", "00", "00", "00", "08", "06", "01", "02", "000102",
                                                 "0D", "0024018108FFFFFFFFFFFFFFFF")),
                      0x9000);
    sent_is("0024018108363534333231FFFF");
}
END_TEST

START_TEST(modify_confirmation)
{
    types("111111", "222222", NULL);
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "08", "00", "00", "00", "08", "06", "01", "02", "000102",
                                                 "0D", "0024018108FFFFFFFFFFFFFFFF")),
                      0x6402);
    ck_assert_uint_eq(sent_len, 0);
    /* Without confirmation the second entry is never asked for. */
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "08", "00", "00", "00", "08", "06", "00", "01", "000102",
                                                 "0D", "0024018108FFFFFFFFFFFFFFFF")),
                      0x9000);
    sent_is("0024018108313131313131FFFF");
    ck_assert_uint_eq(shown.count, 1);
}
END_TEST

START_TEST(modify_current_and_new_at_their_offsets)
{
    /* The current PIN at byte 0, the new one at byte 8, ASCII left in
     * 8-byte blocks; then the same with the reader's default messages. */
    types("123456", "87654321", NULL);
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "08", "00", "00", "08", "08", "06", "03", "03", "000102",
                                                 "15", "0024008110FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")),
                      0x9000);
    sent_is("0024008110313233343536FFFF3837363534333231");
    ck_assert_uint_eq(shown.count, 3);
    types("123456", "87654321", NULL);
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "08", "00", "00", "08", "08", "06", "03", "FF", "000000",
                                                 "15", "0024008110FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")),
                      0x9000); /* the confirmation repeats the holder's last entry */
    ck_assert_uint_eq(shown.index[0], 0);
    ck_assert_uint_eq(shown.index[1], 1);
    ck_assert_uint_eq(shown.index[2], 2);
}
END_TEST

START_TEST(modify_bcd_right_with_length_fields)
{
    /* Each 8-byte block: a length byte (bytes units, position 0), then the
     * BCD frame right-justified; current PIN block at 0, new at 8. */
    types("1234", "567890", "567890");
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("8D", "88", "10", "00", "08", "0A", "04", "03", "00", "000000",
                                                 "15", "0024000010" "00000000000000000000000000000000")),
                      0x9000);
    sent_is("0024000010" "0400000000001234" "0600000000567890");
    ck_assert(!shown.shown);
}
END_TEST

START_TEST(modify_new_block_outside_the_data)
{
    ck_assert_uint_eq(run(NB_PIN_MODIFY, MODIFY("82", "08", "00", "00", "09", "08", "04", "01", "02", "000102",
                                                 "0D", "0024018108FFFFFFFFFFFFFFFF")),
                      0x6B80);
    ck_assert_uint_eq(sent_len, 0);
}
END_TEST

START_TEST(messages)
{
    ck_assert_str_eq(nb_pin_message(0x041F, 1), "Yeni PIN girin");
    ck_assert_str_eq(nb_pin_message(0x0409, 2), "Confirm new PIN");
    ck_assert_ptr_null(nb_pin_message(0x0409, 3));
}
END_TEST

static Suite *pin_entry_suite(void)
{
    Suite *s = suite_create("pin_entry");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, verify_ascii_left_in_ff_padding);
    tcase_add_test(tc, verify_ascii_right_justified);
    tcase_add_test(tc, verify_bcd_with_a_length_nibble);
    tcase_add_test(tc, verify_binary_with_a_length_byte_and_bit_offsets);
    tcase_add_test(tc, verify_whole_data_block);
    tcase_add_test(tc, digit_counts_out_of_range);
    tcase_add_test(tc, cancel_timeout_and_a_mute_card);
    tcase_add_test(tc, structures_the_reader_refuses);
    tcase_add_test(tc, modify_as_the_host_sends_it);
    tcase_add_test(tc, modify_confirmation);
    tcase_add_test(tc, modify_current_and_new_at_their_offsets);
    tcase_add_test(tc, modify_bcd_right_with_length_fields);
    tcase_add_test(tc, modify_new_block_outside_the_data);
    tcase_add_test(tc, messages);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(pin_entry_suite)
