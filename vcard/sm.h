/* SPDX-License-Identifier: Apache-2.0 */
/* Cryptography of the virtual NES card (docs/card-profile.md): admin key
 * diversification, mutual authentication, and ISO 7816-4 secure messaging
 * with AES-128 and CMAC in the style of ICAO 9303 / BSI TR-03110. Both
 * sides are here: the card uses the card side, tests and tools the
 * terminal side. All functions return 0 on success, -1 on failure. */
#ifndef NB_SM_H
#define NB_SM_H

#include <stddef.h>
#include <stdint.h>

#define NB_AES_BLOCK 16
#define NB_KEY_LEN 16
#define NB_RND_LEN 8
#define NB_AUTH_LEN 40 /* 32 bytes cryptogram + 8 bytes MAC */
#define NB_MAC_LEN 8

/* K_admin = AES-CMAC(K_master, 01 || "nesbridge-admin" || 00 || serial). */
int nb_derive_admin_key(const uint8_t master[NB_KEY_LEN], const char *serial,
                        uint8_t admin[NB_KEY_LEN]);
/* KDF(seed, c) = first 16 bytes of SHA-256(seed || c as 4 bytes big-endian);
 * c = 1 gives the encryption key, c = 2 the MAC key. */
int nb_kdf(const uint8_t seed[NB_KEY_LEN], uint32_t counter, uint8_t out[NB_KEY_LEN]);
int nb_aes_cmac(const uint8_t key[NB_KEY_LEN], const uint8_t *msg, size_t len,
                uint8_t mac[NB_AES_BLOCK]);
/* AES-128-CBC without padding; len must be a multiple of 16. */
int nb_aes_cbc(int encrypt, const uint8_t key[NB_KEY_LEN], const uint8_t iv[NB_AES_BLOCK],
               const uint8_t *in, size_t len, uint8_t *out);
/* ISO/IEC 9797-1 padding method 2 to a multiple of 16: returns the new
 * length, or 0 when cap is too small. */
size_t nb_pad(uint8_t *buf, size_t len, size_t cap);
/* Removes method 2 padding; returns the unpadded length or -1. */
long nb_unpad(const uint8_t *buf, size_t len);

/* Mutual authentication (MUTUAL AUTHENTICATE, INS 82).
 * Terminal: S = RND.IFD || RND.IC || K.IFD; E = AES-CBC(K_enc, 0, S);
 * M = CMAC(K_mac, E)[0..8]; sends E || M.
 * Card: checks M, decrypts, checks RND.IC, answers E' || M' over
 * R = RND.IC || RND.IFD || K.IC. K_enc, K_mac = KDF(K_admin, 1 / 2).
 * K.IC = CMAC(K_admin, 02 || RND.IC || RND.IFD): fresh through RND.IC, yet
 * computable by the authority in advance, so that it can sign the whole
 * unlock script (authentication and protected commands) in one round. */
int nb_auth_terminal_request(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                             const uint8_t rnd_ifd[NB_RND_LEN], const uint8_t k_ifd[NB_KEY_LEN],
                             uint8_t out[NB_AUTH_LEN]);
int nb_auth_card_key(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                     const uint8_t rnd_ifd[NB_RND_LEN], uint8_t k_ic[NB_KEY_LEN]);
/* Returns 0 and fills out, k_ifd and k_ic when the request is genuine. */
int nb_auth_card_answer(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                        const uint8_t request[NB_AUTH_LEN], uint8_t out[NB_AUTH_LEN],
                        uint8_t k_ifd[NB_KEY_LEN], uint8_t k_ic[NB_KEY_LEN]);
/* Terminal checks the card's answer and learns K.IC. */
int nb_auth_terminal_check(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                           const uint8_t rnd_ifd[NB_RND_LEN], const uint8_t answer[NB_AUTH_LEN],
                           uint8_t k_ic[NB_KEY_LEN]);

/* A secure messaging session. Seed = K.IFD xor K.IC; KS_enc, KS_mac =
 * KDF(seed, 1 / 2); SSC: 16 bytes, zero at start, incremented before
 * every command and every response. */
typedef struct {
    int active;
    uint8_t k_enc[NB_KEY_LEN];
    uint8_t k_mac[NB_KEY_LEN];
    uint8_t ssc[NB_AES_BLOCK];
} nb_sm_session;

int nb_sm_start(nb_sm_session *sm, const uint8_t k_ifd[NB_KEY_LEN], const uint8_t k_ic[NB_KEY_LEN]);
void nb_sm_end(nb_sm_session *sm);

/* Terminal side: protects a plain command APDU (short lengths). */
int nb_sm_wrap_command(nb_sm_session *sm, const uint8_t *apdu, size_t len, uint8_t *out,
                       size_t cap, size_t *out_len);
/* Terminal side: checks and opens a protected response (with its SW). */
int nb_sm_unwrap_response(nb_sm_session *sm, const uint8_t *resp, size_t len, uint8_t *data,
                          size_t cap, size_t *data_len, uint16_t *sw);

/* Card side: opens a protected command into a plain one. On failure *sw
 * says why: 6987 (objects missing), 6988 (objects incorrect). */
int nb_sm_unwrap_command(nb_sm_session *sm, const uint8_t *apdu, size_t len, uint8_t *plain,
                         size_t cap, size_t *plain_len, uint16_t *sw);
/* Card side: protects a response: DO87 (data), DO99 (SW), DO8E (MAC),
 * then the same SW in clear. */
int nb_sm_wrap_response(nb_sm_session *sm, const uint8_t *data, size_t len, uint16_t sw,
                        uint8_t *out, size_t cap, size_t *out_len);

#endif
