/* SPDX-License-Identifier: Apache-2.0 */
/* Signing with a key that stays in a PKCS#11 token (an HSM or a smart
 * card), named by an RFC 7512 URI such as
 *   pkcs11:token=nbauth;object=authority;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/nbauth/pin
 * p11-kit parses the URI and loads the module; the key is only ever used
 * through C_Sign. Each function prints what went wrong to stderr (never a
 * PIN) and returns one of the exit codes below, which nesbridge-sign
 * returns as they are (docs/authority.md). */
#ifndef NB_SIGN_TOKEN_H
#define NB_SIGN_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define NB_EXIT_OK 0
#define NB_EXIT_FAILED 1  /* input unreadable, signing failed, anything else */
#define NB_EXIT_USAGE 2   /* bad arguments, a malformed URI or one with pin-value */
#define NB_EXIT_TOKEN 3   /* the module cannot be loaded, or no single token matches */
#define NB_EXIT_PIN 4     /* no PIN given, the PIN file refused, or the token refused the PIN */
#define NB_EXIT_LOCKED 5  /* the token's user PIN is locked or expired */
#define NB_EXIT_NO_KEY 6  /* no single key matches, or the key is not P-256 / RSA >= 3072 */
#define NB_EXIT_TIMEOUT 7 /* the token did not answer in time */

/* The environment variable a PIN may come from (pin-source wins). */
#define NB_PIN_ENV "NESBRIDGE_PKCS11_PIN"
/* Seconds the whole token operation may take (default 60, 1..600). */
#define NB_TIMEOUT_ENV "NESBRIDGE_SIGN_TIMEOUT"

typedef struct nb_token nb_token;

/* Whether the argument names a token rather than a PEM file. */
int nb_is_pkcs11_uri(const char *arg);

/* Opens the token the URI names and finds its key: the private key (after
 * logging in) when for_signing, else only the public key. *out holds the
 * public key either way. */
int nb_token_open(const char *uri, int for_signing, nb_token **out);

/* The key's public half (owned by the token object). */
EVP_PKEY *nb_token_public_key(const nb_token *t);

/* Signs data with the token's key as the host verifies: ECDSA P-256 over
 * SHA-256 (the token's raw r||s returned as DER), or RSA-PSS with SHA-256,
 * MGF1-SHA-256 and a 32-byte salt. The signature is checked against the
 * public key before it is returned. */
int nb_token_sign(nb_token *t, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len);

void nb_token_close(nb_token *t);

#endif
