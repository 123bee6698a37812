/* SPDX-License-Identifier: Apache-2.0 */
/* What the authority's server does, in C for the tests: prepare the unlock
 * APDUs for a card from its challenge, and sign scripts. */
#ifndef NB_AUTHORITY_H
#define NB_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define DEMO_MASTER_KEY_HEX "4E4553425249444745444D4F4B455931"
#define DEMO_SERIAL "NB0000000001"

/* From the card's GET CHALLENGE answer, builds the MUTUAL AUTHENTICATE APDU
 * and the secure-messaging RESET RETRY COUNTER P1=03 (as hex, each buffer
 * at least 200 bytes). Returns 0 or -1. */
int authority_unlock_apdus(const char *serial, const uint8_t rnd_ic[8], char *auth_hex,
                           char *rrc_hex);

/* The whole unlock script (authenticate, protected RESET RETRY COUNTER,
 * new PIN) for a card's challenge, valid for valid_s seconds, into json
 * (at least 2048 bytes). Returns 0 or -1. */
int authority_unlock_script(const char *nonce, const char *atr, const uint8_t rnd_ic[8], long valid_s,
                            char *json, size_t cap);
/* The same for the card of this serial, with the new PIN's field pad_to
 * bytes of FF (the pinpad reader's card is NB0000000002). */
int authority_unlock_script_for(const char *serial, unsigned pad_to, const char *nonce, const char *atr,
                                const uint8_t rnd_ic[8], long valid_s, char *json, size_t cap);

/* Makes a fresh P-256 or RSA-3072 key. */
EVP_PKEY *authority_new_key(int rsa);
/* Writes the public key as PEM (mode 0644). Returns 0 or -1. */
int authority_write_public(EVP_PKEY *key, const char *path);

/* Signs json; fills malloc'd base64 script and signature, and the key id
 * (65 bytes). raw_ecdsa: give an EC signature as r||s instead of DER. */
int authority_sign(EVP_PKEY *key, const char *json, int raw_ecdsa, char **script_b64,
                   char **sig_b64, char *key_id);

/* "YYYY-MM-DDTHH:MM:SSZ" for t. */
void authority_utc(long t, char out[21]);

#endif
