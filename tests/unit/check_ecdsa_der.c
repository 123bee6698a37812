/* SPDX-License-Identifier: Apache-2.0 */
/* A token's raw ECDSA r||s as DER (sign/ecdsa_der.h), with fixed vectors:
 * r or s with leading zero bytes (dropped) and with the high bit set (a
 * zero byte added), each DER written out by hand and read back by
 * OpenSSL's strict parser to the same r and s. */
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>

#include "ecdsa_der.h"
#include "testutil.h"

/* Bytes from a spec such as "30 46 02 21 00 80 01*31": hex bytes, each
 * optionally repeated (*count). Returns the length. */
static size_t bytes(const char *spec, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (*spec != '\0') {
        char *end = NULL;
        unsigned long b = strtoul(spec, &end, 16), count = 1;
        ck_assert_ptr_ne(end, spec);
        if (*end == '*')
            count = strtoul(end + 1, &end, 10);
        for (unsigned long i = 0; i < count; i++) {
            ck_assert_uint_lt(n, max);
            out[n++] = (uint8_t)b;
        }
        while (*end == ' ')
            end++;
        spec = end;
    }
    return n;
}

/* raw_spec (64 bytes of r||s) must become exactly der_spec. */
static void check_vector(const char *raw_spec, const char *der_spec)
{
    uint8_t raw[NB_ECDSA_RAW_LEN], want[NB_ECDSA_DER_MAX], sig[NB_ECDSA_DER_MAX];
    ck_assert_uint_eq(bytes(raw_spec, raw, sizeof(raw)), NB_ECDSA_RAW_LEN);
    size_t want_len = bytes(der_spec, want, sizeof(want)), sig_len = sizeof(sig);
    ck_assert_int_eq(nb_ecdsa_raw_to_der(raw, sizeof(raw), sig, &sig_len), 0);
    ck_assert_uint_eq(sig_len, want_len);
    ck_assert_int_eq(memcmp(sig, want, want_len), 0);
    /* OpenSSL reads it back to the same r and s, and writes it the same. */
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
    ck_assert_ptr_nonnull(es);
    ck_assert_ptr_eq(p, sig + sig_len);
    uint8_t back[NB_ECDSA_RAW_LEN];
    ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), back, 32), 32);
    ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), back + 32, 32), 32);
    ck_assert_int_eq(memcmp(back, raw, sizeof(raw)), 0);
    unsigned char *again = NULL;
    int n = i2d_ECDSA_SIG(es, &again);
    ck_assert_int_eq(n, (int)sig_len);
    ck_assert_int_eq(memcmp(again, sig, sig_len), 0);
    OPENSSL_free(again);
    ECDSA_SIG_free(es);
}

START_TEST(leading_zero_bytes_are_dropped)
{
    /* r starts with one zero byte: 31 bytes; s plain: 32. */
    check_vector("00 11*31 22*32", "30 43 02 1F 11*31 02 20 22*32");
    /* Two zero bytes each; s's first byte left has its high bit set. */
    check_vector("00 00 01 44*29 00 00 FF 55*29", "30 41 02 1E 01 44*29 02 1F 00 FF 55*29");
}
END_TEST

START_TEST(a_set_high_bit_gets_a_zero_byte)
{
    /* Both halves with the high bit: 33 bytes each, the longest DER. */
    check_vector("80 01*31 FF*32", "30 46 02 21 00 80 01*31 02 21 00 FF*32");
    /* s: a zero byte, then the high bit: stays 32 bytes, 00 80 ... */
    check_vector("7F*32 00 80 33*30", "30 44 02 20 7F*32 02 20 00 80 33*30");
}
END_TEST

START_TEST(wrong_lengths_are_refused)
{
    uint8_t raw[NB_ECDSA_RAW_LEN + 1], sig[NB_ECDSA_DER_MAX];
    memset(raw, 0x80, sizeof(raw));
    size_t sig_len = sizeof(sig);
    ck_assert_int_eq(nb_ecdsa_raw_to_der(raw, NB_ECDSA_RAW_LEN - 1, sig, &sig_len), -1);
    ck_assert_int_eq(nb_ecdsa_raw_to_der(raw, NB_ECDSA_RAW_LEN + 1, sig, &sig_len), -1);
    sig_len = 71; /* this one needs 72 */
    ck_assert_int_eq(nb_ecdsa_raw_to_der(raw, NB_ECDSA_RAW_LEN, sig, &sig_len), -1);
    ck_assert_uint_eq(sig_len, 71);
}
END_TEST

static Suite *ecdsa_der_suite(void)
{
    Suite *s = suite_create("ecdsa_der");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, leading_zero_bytes_are_dropped);
    tcase_add_test(tc, a_set_high_bit_gets_a_zero_byte);
    tcase_add_test(tc, wrong_lengths_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(ecdsa_der_suite)
