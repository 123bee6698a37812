/* SPDX-License-Identifier: Apache-2.0 */
/* The few libcrypto functions that signed scripts need, as one table.
 * nesbridge-sign and the tests fill it straight from the library they link
 * (nb_crypto_direct). The host fills it only when a signed script first
 * needs it (host/crypto_load.c), so that a host that says hello, lists
 * readers and relays APDUs never loads libcrypto: loading it costs more
 * than half of a cold start. */
#ifndef NB_CRYPTO_API_H
#define NB_CRYPTO_API_H

#include <stdio.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Every function of the table, once; each member has the function's name
 * and exact type. */
#define NB_CRYPTO_FUNCTIONS(X)                                                                 \
    X(PEM_read_PUBKEY) X(EVP_PKEY_free) X(EVP_PKEY_get_base_id) X(EVP_PKEY_get_bits)           \
    X(EVP_PKEY_get_utf8_string_param) X(i2d_PUBKEY) X(EVP_Digest) X(EVP_sha256) X(CRYPTO_free) \
    X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestVerifyInit) X(EVP_DigestVerify)           \
    X(EVP_PKEY_CTX_set_rsa_padding) X(EVP_PKEY_CTX_set_rsa_pss_saltlen)                        \
    X(EVP_PKEY_CTX_set_rsa_mgf1_md) X(ECDSA_SIG_new) X(ECDSA_SIG_free) X(ECDSA_SIG_set0)        \
    X(i2d_ECDSA_SIG) X(BN_bin2bn) X(BN_free)

#define NB_CRYPTO_MEMBER(name) __typeof__(&name) name;
typedef struct {
    NB_CRYPTO_FUNCTIONS(NB_CRYPTO_MEMBER)
} nb_crypto_api;
#undef NB_CRYPTO_MEMBER

/* The table filled from the libcrypto this program links. */
const nb_crypto_api *nb_crypto_direct(void);

#endif
