/* SPDX-License-Identifier: Apache-2.0 */
/* Known-answer tests for the virtual card's cryptography. The vectors are
 * the ones in docs/card-profile.md; they were checked against the openssl
 * command line (mac CMAC, enc -aes-128-cbc -nopad, sha256). */
#define _GNU_SOURCE
#include <string.h>

#include "hex.h"
#include "sm.h"
#include "testutil.h"

#define MASTER "4E4553425249444745444D4F4B455931"
#define ADMIN "A94911A6E90E8E645D097F3135C0356A"

static void from_hex(const char *hex, uint8_t *out, size_t len)
{
    ck_assert_int_eq(nb_hex_decode(hex, strlen(hex), out, len), (long)len);
}

static void assert_hex(const uint8_t *bytes, size_t len, const char *want)
{
    char got[1024];
    nb_hex_encode(bytes, len, got);
    ck_assert_str_eq(got, want);
}

static const uint8_t rnd_ic[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
static const uint8_t rnd_ifd[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
static uint8_t k_ifd[16], k_ic[16];

static void fixed_keys(void)
{
    for (int i = 0; i < 16; i++)
        k_ifd[i] = (uint8_t)(0xA0 + i);
    /* K.IC = CMAC(K_admin, 02 || RND.IC || RND.IFD) */
    ck_assert_int_eq(nb_hex_decode("CC12D9AB9BA77A211F4C8855D7C6ADF9", 32, k_ic, 16), 16);
}

START_TEST(key_derivation)
{
    uint8_t master[16], admin[16], k[16];
    from_hex(MASTER, master, 16);
    ck_assert_int_eq(nb_derive_admin_key(master, "NB0000000001", admin), 0);
    assert_hex(admin, 16, ADMIN);
    ck_assert_int_eq(nb_kdf(admin, 1, k), 0);
    assert_hex(k, 16, "AD33361FE83E07171DAF64C0C468B3BD");
    ck_assert_int_eq(nb_kdf(admin, 2, k), 0);
    assert_hex(k, 16, "F1286B8B434042A9AD3CCA1ECB8E9379");
    ck_assert_int_eq(nb_derive_admin_key(master, "", admin), -1);
}
END_TEST

START_TEST(mutual_authentication)
{
    fixed_keys();
    uint8_t admin[16], request[40], answer[40], learned_ifd[16], learned_ic[16];
    from_hex(ADMIN, admin, 16);
    ck_assert_int_eq(nb_auth_terminal_request(admin, rnd_ic, rnd_ifd, k_ifd, request), 0);
    assert_hex(request, 40, "9546996DC6E508B848DA09FFF00BA2FC4323E0EB6D937B35DD7216A07AE7E528"
                            "BF85E816C97EEEC0");
    uint8_t card_k_ic[16], expected_k_ic[16];
    ck_assert_int_eq(nb_auth_card_key(admin, rnd_ic, rnd_ifd, expected_k_ic), 0);
    ck_assert_int_eq(memcmp(expected_k_ic, k_ic, 16), 0);
    ck_assert_int_eq(nb_auth_card_answer(admin, rnd_ic, request, answer, learned_ifd, card_k_ic), 0);
    assert_hex(answer, 40, "131052A403E8F2E9CA2BCEE08F10D73AB295D98608D694BDF2F11D17E3A5287B"
                           "215C0D552E85733C");
    ck_assert_int_eq(memcmp(learned_ifd, k_ifd, 16), 0);
    ck_assert_int_eq(memcmp(card_k_ic, k_ic, 16), 0);
    ck_assert_int_eq(nb_auth_terminal_check(admin, rnd_ic, rnd_ifd, answer, learned_ic), 0);
    ck_assert_int_eq(memcmp(learned_ic, k_ic, 16), 0);
    /* A flipped bit, a stale challenge or another card's key fail. */
    request[3] ^= 1;
    ck_assert_int_eq(nb_auth_card_answer(admin, rnd_ic, request, answer, learned_ifd, card_k_ic), -1);
    request[3] ^= 1;
    uint8_t other_challenge[8] = {0};
    ck_assert_int_eq(nb_auth_card_answer(admin, other_challenge, request, answer, learned_ifd, card_k_ic), -1);
    admin[0] ^= 1;
    ck_assert_int_eq(nb_auth_card_answer(admin, rnd_ic, request, answer, learned_ifd, card_k_ic), -1);
}
END_TEST

START_TEST(secure_messaging_vectors)
{
    fixed_keys();
    nb_sm_session terminal, card;
    ck_assert_int_eq(nb_sm_start(&terminal, k_ifd, k_ic), 0);
    ck_assert_int_eq(nb_sm_start(&card, k_ifd, k_ic), 0);
    assert_hex(terminal.k_enc, 16, "C5CC5B7F723A17E269FE6CE836DC4F7B");
    assert_hex(terminal.k_mac, 16, "205F0E5561EA684A6473C75822C4AFAB");

    const uint8_t rrc[] = {0x00, 0x2C, 0x03, 0x81};
    uint8_t wrapped[400], plain[300], resp[400], data[300];
    size_t wrapped_len, plain_len, resp_len, data_len;
    uint16_t sw;
    ck_assert_int_eq(nb_sm_wrap_command(&terminal, rrc, 4, wrapped, sizeof(wrapped), &wrapped_len), 0);
    assert_hex(wrapped, wrapped_len, "0C2C03810A8E080F6F3028E06656E800");
    ck_assert_int_eq(nb_sm_unwrap_command(&card, wrapped, wrapped_len, plain, sizeof(plain), &plain_len, &sw), 0);
    assert_hex(plain, plain_len, "002C0381");
    ck_assert_int_eq(nb_sm_wrap_response(&card, NULL, 0, 0x9000, resp, sizeof(resp), &resp_len), 0);
    assert_hex(resp, resp_len, "990290008E08152F05DF8CD377039000");
    ck_assert_int_eq(nb_sm_unwrap_response(&terminal, resp, resp_len, data, sizeof(data), &data_len, &sw), 0);
    ck_assert_uint_eq(sw, 0x9000);

    const uint8_t get_data[] = {0x00, 0xCA, 0x00, 0x5A, 0x00};
    ck_assert_int_eq(nb_sm_wrap_command(&terminal, get_data, 5, wrapped, sizeof(wrapped), &wrapped_len), 0);
    assert_hex(wrapped, wrapped_len, "0CCA005A0D9701008E08198DDEF3734BE6AC00");
    ck_assert_int_eq(nb_sm_unwrap_command(&card, wrapped, wrapped_len, plain, sizeof(plain), &plain_len, &sw), 0);
    assert_hex(plain, plain_len, "00CA005A00");
    ck_assert_int_eq(nb_sm_wrap_response(&card, (const uint8_t *)"NB0000000001", 12, 0x9000, resp,
                                         sizeof(resp), &resp_len), 0);
    assert_hex(resp, resp_len, "871101FF7890DF866BF5AC8036F3063F05B8CB990290008E088FA0CC7B478E7A079000");
    ck_assert_int_eq(nb_sm_unwrap_response(&terminal, resp, resp_len, data, sizeof(data), &data_len, &sw), 0);
    ck_assert_uint_eq(data_len, 12);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
}
END_TEST

START_TEST(secure_messaging_errors)
{
    fixed_keys();
    nb_sm_session terminal, card;
    nb_sm_start(&terminal, k_ifd, k_ic);
    nb_sm_start(&card, k_ifd, k_ic);
    const uint8_t verify[] = {0x00, 0x20, 0x00, 0x81, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF};
    uint8_t wrapped[400], plain[300];
    size_t wrapped_len, plain_len;
    uint16_t sw;
    ck_assert_int_eq(nb_sm_wrap_command(&terminal, verify, sizeof(verify), wrapped, sizeof(wrapped), &wrapped_len), 0);
    /* Encrypted: the PIN digits do not appear in the protected APDU. */
    ck_assert_ptr_null(memmem(wrapped, wrapped_len, "123456", 6));
    uint8_t tampered[400];
    memcpy(tampered, wrapped, wrapped_len);
    tampered[8] ^= 0x01;
    ck_assert_int_eq(nb_sm_unwrap_command(&card, tampered, wrapped_len, plain, sizeof(plain), &plain_len, &sw), -1);
    ck_assert_uint_eq(sw, 0x6988);
    /* Without DO8E: objects missing. */
    const uint8_t no_mac[] = {0x0C, 0x20, 0x00, 0x81, 0x03, 0x97, 0x01, 0x00, 0x00};
    ck_assert_int_eq(nb_sm_unwrap_command(&card, no_mac, sizeof(no_mac), plain, sizeof(plain), &plain_len, &sw), -1);
    ck_assert_uint_eq(sw, 0x6987);
    /* Replaying a command after the counter moved fails the MAC. */
    nb_sm_session card2;
    nb_sm_start(&card2, k_ifd, k_ic);
    ck_assert_int_eq(nb_sm_unwrap_command(&card2, wrapped, wrapped_len, plain, sizeof(plain), &plain_len, &sw), 0);
    ck_assert_int_eq(nb_sm_unwrap_command(&card2, wrapped, wrapped_len, plain, sizeof(plain), &plain_len, &sw), -1);
}
END_TEST

START_TEST(padding)
{
    uint8_t buf[32] = {1, 2, 3};
    ck_assert_uint_eq(nb_pad(buf, 3, sizeof(buf)), 16);
    ck_assert_uint_eq(buf[3], 0x80);
    ck_assert_int_eq(nb_unpad(buf, 16), 3);
    memset(buf, 0xAA, 16);
    ck_assert_uint_eq(nb_pad(buf, 16, sizeof(buf)), 32);
    ck_assert_int_eq(nb_unpad(buf, 32), 16);
    uint8_t zeros[16] = {0};
    ck_assert_int_eq(nb_unpad(zeros, 16), -1);
    ck_assert_uint_eq(nb_pad(buf, 16, 20), 0);
}
END_TEST

static Suite *sm_suite(void)
{
    Suite *s = suite_create("sm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, key_derivation);
    tcase_add_test(tc, mutual_authentication);
    tcase_add_test(tc, secure_messaging_vectors);
    tcase_add_test(tc, secure_messaging_errors);
    tcase_add_test(tc, padding);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(sm_suite)
