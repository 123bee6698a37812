/* SPDX-License-Identifier: Apache-2.0 */
#include "signature.h"

#include <string.h>

#include <openssl/core_names.h>

#include "hex.h"

int nb_key_id(const nb_crypto_api *c, EVP_PKEY *key, char *out)
{
    unsigned char *der = NULL;
    int der_len = c->i2d_PUBKEY(key, &der);
    if (der_len <= 0)
        return -1;
    unsigned char digest[32];
    unsigned int digest_len = 0;
    int ok = c->EVP_Digest(der, (size_t)der_len, digest, &digest_len, c->EVP_sha256(), NULL) == 1;
    c->CRYPTO_free(der, OPENSSL_FILE, OPENSSL_LINE);
    if (!ok)
        return -1;
    nb_hex_encode(digest, sizeof(digest), out);
    return 0;
}

int nb_signature_key_acceptable(const nb_crypto_api *c, EVP_PKEY *key, int *is_rsa)
{
    int type = c->EVP_PKEY_get_base_id(key);
    if (type == EVP_PKEY_EC) {
        char curve[64];
        size_t len = 0;
        *is_rsa = 0;
        return c->EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                              &len) == 1 &&
               strcmp(curve, "prime256v1") == 0;
    }
    if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS) {
        *is_rsa = 1;
        return c->EVP_PKEY_get_bits(key) >= NB_RSA_MIN_BITS;
    }
    return 0;
}

int nb_signature_setup(const nb_crypto_api *c, EVP_PKEY_CTX *pctx, EVP_PKEY *key)
{
    int type = c->EVP_PKEY_get_base_id(key);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_RSA_PSS)
        return 0; /* ECDSA needs nothing more */
    return c->EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                   c->EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, NB_PSS_SALT_LEN) == 1 &&
                   c->EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, c->EVP_sha256()) == 1
               ? 0
               : -1;
}

/* Raw r||s (as WebCrypto makes) to DER; returns an OPENSSL_malloc'd buffer. */
static unsigned char *raw_ecdsa_to_der(const nb_crypto_api *c, const uint8_t *sig, size_t *der_len)
{
    ECDSA_SIG *es = c->ECDSA_SIG_new();
    BIGNUM *r = c->BN_bin2bn(sig, 32, NULL), *s = c->BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    if (es != NULL && r != NULL && s != NULL && c->ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        int n = c->i2d_ECDSA_SIG(es, &der);
        *der_len = n > 0 ? (size_t)n : 0;
    }
    c->BN_free(r);
    c->BN_free(s);
    c->ECDSA_SIG_free(es);
    return der;
}

int nb_signature_verify(const nb_crypto_api *c, EVP_PKEY *key, const uint8_t *data, size_t len,
                        const uint8_t *sig, size_t sig_len)
{
    int is_rsa = 0;
    if (sig_len == 0 || !nb_signature_key_acceptable(c, key, &is_rsa))
        return 0;
    unsigned char *converted = NULL;
    if (!is_rsa && sig_len == 64) {
        size_t der_len = 0;
        converted = raw_ecdsa_to_der(c, sig, &der_len);
        if (converted == NULL)
            return 0;
        sig = converted;
        sig_len = der_len;
    }
    int verified = 0;
    EVP_MD_CTX *md = c->EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (md != NULL && c->EVP_DigestVerifyInit(md, &pctx, c->EVP_sha256(), NULL, key) == 1)
        verified = nb_signature_setup(c, pctx, key) == 0 && c->EVP_DigestVerify(md, sig, sig_len, data, len) == 1;
    c->EVP_MD_CTX_free(md);
    c->CRYPTO_free(converted, OPENSSL_FILE, OPENSSL_LINE);
    return verified;
}
