/* SPDX-License-Identifier: Apache-2.0 */
/* Nonces for signed scripts: 32 random bytes, single use, valid for
 * 5 minutes, bound to the card handle they were issued for. */
#ifndef NB_NONCE_H
#define NB_NONCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "errors.h"

#define NB_NONCE_BYTES 32
#define NB_NONCE_LIFETIME 300 /* seconds */
#define NB_NONCE_SLOTS 16

typedef struct {
    int in_use;
    uint8_t value[NB_NONCE_BYTES];
    uint32_t handle;
    time_t issued;
} nb_nonce;

typedef struct {
    nb_nonce slots[NB_NONCE_SLOTS];
} nb_nonce_table;

/* Issues a nonce for handle at time now (the oldest slot is reused when
 * all are taken). Returns 0 or -1 when the random generator fails. */
int nb_nonce_issue(nb_nonce_table *t, uint32_t handle, time_t now, uint8_t out[NB_NONCE_BYTES]);

/* Checks a presented nonce: NB_OK, NB_ERR_NONCE_REPLAYED (used or never
 * issued), NB_ERR_NONCE_WRONG_HANDLE or NB_ERR_NONCE_EXPIRED. Does not
 * consume it. */
nb_error nb_nonce_check(const nb_nonce_table *t, const uint8_t value[NB_NONCE_BYTES],
                        uint32_t handle, time_t now);
/* Consumes a nonce (it can never be presented again). */
void nb_nonce_consume(nb_nonce_table *t, const uint8_t value[NB_NONCE_BYTES]);
/* Drops every nonce of a handle (disconnect). */
void nb_nonce_forget_handle(nb_nonce_table *t, uint32_t handle);

#endif
