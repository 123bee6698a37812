/* SPDX-License-Identifier: Apache-2.0 */
/* The one signature scheme of signed scripts, shared by the host (which
 * verifies) and nesbridge-sign (which signs): ECDSA P-256 with SHA-256
 * (DER, or 64-byte r||s as WebCrypto gives it), or RSA-PSS with SHA-256,
 * MGF1-SHA-256 and a 32-byte salt on keys of 3072 bits or more. A key is
 * named by its key id: SHA-256 of its DER SubjectPublicKeyInfo, upper-case
 * hex. Each function works through the libcrypto table it is given
 * (crypto_api.h). */
#ifndef NB_SIGNATURE_H
#define NB_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto_api.h"

#define NB_KEY_ID_HEX 64
#define NB_RSA_MIN_BITS 3072
#define NB_PSS_SALT_LEN 32

/* Whether the key is of an accepted type and size; *is_rsa tells which. */
int nb_signature_key_acceptable(const nb_crypto_api *c, EVP_PKEY *key, int *is_rsa);

/* Sets the padding a signing or verifying context needs for the key
 * (RSA-PSS parameters; nothing for ECDSA). Returns 0 or -1. */
int nb_signature_setup(const nb_crypto_api *c, EVP_PKEY_CTX *pctx, EVP_PKEY *key);

/* Whether sig is the key's signature over data (an EC signature may be DER
 * or raw r||s). */
int nb_signature_verify(const nb_crypto_api *c, EVP_PKEY *key, const uint8_t *data, size_t len,
                        const uint8_t *sig, size_t sig_len);

/* Writes the key id (NB_KEY_ID_HEX + 1 bytes). Returns 0 or -1. */
int nb_key_id(const nb_crypto_api *c, EVP_PKEY *key, char *out);

#endif
