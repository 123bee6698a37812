/* SPDX-License-Identifier: Apache-2.0 */
/* The raw ECDSA P-256 signature a PKCS#11 token returns (CKM_ECDSA: r||s,
 * two 32-byte big-endian halves) as the DER the host verifies
 * (SEQUENCE { INTEGER r, INTEGER s }, each minimal: leading zero bytes
 * dropped, one zero byte added before a set high bit). A pure function in
 * a header, so that tests/unit/check_ecdsa_der.c checks it with fixed
 * vectors without linking p11-kit. */
#ifndef NB_SIGN_ECDSA_DER_H
#define NB_SIGN_ECDSA_DER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>

#define NB_ECDSA_RAW_LEN 64
#define NB_ECDSA_DER_MAX 72

/* Writes the DER of raw (raw_len must be 64) into sig, whose size is
 * *sig_len, and sets *sig_len to its length. 0 on success, -1 when raw is
 * not 64 bytes, sig is too small or libcrypto fails. */
static inline int nb_ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t *sig, size_t *sig_len)
{
    if (raw_len != NB_ECDSA_RAW_LEN)
        return -1;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    int ok = es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1;
    if (ok)
        r = s = NULL; /* es owns them */
    unsigned char *der = NULL;
    int n = ok ? i2d_ECDSA_SIG(es, &der) : -1;
    ok = n > 0 && (size_t)n <= *sig_len;
    if (ok) {
        memcpy(sig, der, (size_t)n);
        *sig_len = (size_t)n;
    }
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok ? 0 : -1;
}

#endif
