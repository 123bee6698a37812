/* SPDX-License-Identifier: Apache-2.0 */
/* The signature scheme (common/signature.c): which keys, which signatures,
 * the key id. */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "authority.h"
#include "base64.h"
#include "signature.h"
#include "testutil.h"

START_TEST(only_p256_and_rsa_3072_or_more)
{
    const nb_crypto_api *c = nb_crypto_direct();
    EVP_PKEY *p256 = authority_new_key(0), *rsa3072 = authority_new_key(1);
    EVP_PKEY *rsa2048 = EVP_RSA_gen(2048), *p384 = EVP_EC_gen("P-384");
    int is_rsa = -1;
    ck_assert(nb_signature_key_acceptable(c, p256, &is_rsa) && !is_rsa);
    ck_assert(nb_signature_key_acceptable(c, rsa3072, &is_rsa) && is_rsa);
    ck_assert(!nb_signature_key_acceptable(c, rsa2048, &is_rsa));
    ck_assert(!nb_signature_key_acceptable(c, p384, &is_rsa));
    EVP_PKEY_free(p256);
    EVP_PKEY_free(rsa3072);
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(p384);
}
END_TEST

/* Both signature forms of ECDSA and RSA-PSS verify over the exact bytes,
 * nothing else does; the key id is upper-case hex of 64 digits. */
START_TEST(verifies_exact_bytes_in_both_forms)
{
    const nb_crypto_api *c = nb_crypto_direct();
    const char *text = "{\"version\":1}";
    for (int rsa = 0; rsa < 2; rsa++) {
        EVP_PKEY *key = authority_new_key(rsa);
        for (int raw = 0; raw < (rsa ? 1 : 2); raw++) {
            char *script_b64, *sig_b64, key_id[NB_KEY_ID_HEX + 1], id[NB_KEY_ID_HEX + 1];
            ck_assert_int_eq(authority_sign(key, text, raw, &script_b64, &sig_b64, key_id), 0);
            size_t sig_len = 0;
            uint8_t *sig = nb_base64_decode(sig_b64, strlen(sig_b64), &sig_len);
            ck_assert(nb_signature_verify(c, key, (const uint8_t *)text, strlen(text), sig, sig_len));
            ck_assert(!nb_signature_verify(c, key, (const uint8_t *)"{\"version\":2}", strlen(text), sig, sig_len));
            sig[sig_len / 2] ^= 1;
            ck_assert(!nb_signature_verify(c, key, (const uint8_t *)text, strlen(text), sig, sig_len));
            ck_assert(!nb_signature_verify(c, key, (const uint8_t *)text, strlen(text), sig, 0));
            ck_assert_int_eq(nb_key_id(c, key, id), 0);
            ck_assert_str_eq(id, key_id);
            ck_assert_uint_eq(strlen(id), NB_KEY_ID_HEX);
            for (size_t i = 0; i < NB_KEY_ID_HEX; i++)
                ck_assert(!(id[i] >= 'a' && id[i] <= 'f'));
            free(sig);
            free(script_b64);
            free(sig_b64);
        }
        EVP_PKEY_free(key);
    }
}
END_TEST

static Suite *signature_suite(void)
{
    Suite *s = suite_create("signature");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, only_p256_and_rsa_3072_or_more);
    tcase_add_test(tc, verifies_exact_bytes_in_both_forms);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(signature_suite)
