/* SPDX-License-Identifier: Apache-2.0 */
#include "authority.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "base64.h"
#include "hex.h"
#include "sm.h"
#include "trust.h"

int authority_unlock_apdus(const char *serial, const uint8_t rnd_ic[8], char *auth_hex, char *rrc_hex)
{
    uint8_t master[16], admin[16], rnd_ifd[8], k_ifd[16], k_ic[16], request[40];
    nb_hex_decode(DEMO_MASTER_KEY_HEX, 32, master, 16);
    if (nb_derive_admin_key(master, serial, admin) != 0 || RAND_bytes(rnd_ifd, 8) != 1 ||
        RAND_bytes(k_ifd, 16) != 1 || nb_auth_terminal_request(admin, rnd_ic, rnd_ifd, k_ifd, request) != 0 ||
        nb_auth_card_key(admin, rnd_ic, rnd_ifd, k_ic) != 0)
        return -1;
    memcpy(auth_hex, "0082000028", 10);
    nb_hex_encode(request, 40, auth_hex + 10);
    strcat(auth_hex, "28");
    nb_sm_session sm;
    const uint8_t rrc[] = {0x00, 0x2C, 0x03, 0x81};
    uint8_t wrapped[400];
    size_t wrapped_len = 0;
    if (nb_sm_start(&sm, k_ifd, k_ic) != 0 ||
        nb_sm_wrap_command(&sm, rrc, sizeof(rrc), wrapped, sizeof(wrapped), &wrapped_len) != 0)
        return -1;
    nb_hex_encode(wrapped, wrapped_len, rrc_hex);
    return 0;
}

int authority_unlock_script(const char *nonce, const char *atr, const uint8_t rnd_ic[8], long valid_s,
                            char *json, size_t cap)
{
    return authority_unlock_script_for(DEMO_SERIAL, 8, nonce, atr, rnd_ic, valid_s, json, cap);
}

int authority_unlock_script_for(const char *serial, unsigned pad_to, const char *nonce, const char *atr,
                                const uint8_t rnd_ic[8], long valid_s, char *json, size_t cap)
{
    char auth[256], rrc[256], when[21];
    if (authority_unlock_apdus(serial, rnd_ic, auth, rrc) != 0)
        return -1;
    authority_utc((long)time(NULL) + valid_s, when);
    int n = snprintf(json, cap,
                     "{\"version\":1,\"nonce\":\"%s\",\"atr\":\"%s\",\"not_after\":\"%s\",\"steps\":["
                     "{\"apdu\":\"%s\",\"expect\":[\"9000\"],\"secret\":true},"
                     "{\"apdu\":\"%s\",\"expect\":[\"9000\"],\"secret\":true},"
                     "{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"digits\","
                     "\"confirm\":true,\"pad_to\":%u,\"pad_byte\":\"FF\"},\"expect\":[\"9000\"]}]}",
                     nonce, atr, when, auth, rrc, pad_to);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

EVP_PKEY *authority_new_key(int rsa)
{
    return rsa ? EVP_RSA_gen(3072) : EVP_EC_gen("P-256");
}

int authority_write_public(EVP_PKEY *key, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = PEM_write_PUBKEY(f, key) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

/* DER ECDSA signature to 64 bytes r||s. */
static size_t der_to_raw(const unsigned char *der, size_t len, unsigned char *raw)
{
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &der, (long)len);
    if (es == NULL)
        return 0;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(s, raw + 32, 32);
    ECDSA_SIG_free(es);
    return 64;
}

int authority_sign(EVP_PKEY *key, const char *json, int raw_ecdsa, char **script_b64,
                   char **sig_b64, char *key_id)
{
    int is_rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1024], raw[64];
    size_t sig_len = sizeof(sig);
    int rc = -1;
    if (md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
        (!is_rsa || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1)) &&
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)json, strlen(json)) == 1 &&
        nb_key_id(nb_crypto_direct(), key, key_id) == 0) {
        const unsigned char *out = sig;
        if (raw_ecdsa && !is_rsa) {
            sig_len = der_to_raw(sig, sig_len, raw);
            out = raw;
        }
        *script_b64 = nb_base64_encode((const uint8_t *)json, strlen(json));
        *sig_b64 = nb_base64_encode(out, sig_len);
        rc = *script_b64 != NULL && *sig_b64 != NULL ? 0 : -1;
    }
    EVP_MD_CTX_free(md);
    return rc;
}

void authority_utc(long t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
