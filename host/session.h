/* SPDX-License-Identifier: Apache-2.0 */
/* The host's state across requests: the PC/SC context, the card handles
 * it has handed out, and whether hello happened. */
#ifndef NB_SESSION_H
#define NB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include "apdu.h"
#include "backend.h"
#include "config.h"
#include "nonce.h"
#include "protocol.h"
#include "trust.h"

#define NB_MAX_HANDLES 8
#define NB_MAX_READER_NAME 128
#define NB_MAX_RESPONSE_DATA 65536u /* an answer collected over GET RESPONSE */

/* The large buffers of card exchanges. One rule for them: they live here,
 * allocated once on first use and reused, never on the stack and never one
 * allocation per request; whatever part held data is wiped after use. */
typedef struct {
    uint8_t apdu[NB_APDU_MAX_BYTES];     /* a page's APDU (transmit) */
    uint8_t resp[NB_RESPONSE_MAX_BYTES]; /* one answer from the card */
    uint8_t data[NB_MAX_RESPONSE_DATA];  /* an answer collected over GET RESPONSE */
} nb_io_buffers;

typedef struct {
    int in_use;
    uint32_t id; /* what the page sees; random, never the PC/SC handle */
    nb_card card;
    uint32_t protocol;
    int in_transaction;
    char reader[NB_MAX_READER_NAME + 1];
    uint8_t atr[NB_MAX_ATR];
    size_t atr_len;
} nb_handle;

/* How a long wait learns that the page sent something meanwhile. The
 * relay (relay.c) provides these; unit tests may leave them NULL. */
typedef struct {
    void *arg;
    /* Called before blocking in the backend: returns 0 when input is
     * already pending (then do not wait), else registers ctx for
     * cancellation and returns 1. */
    int (*begin)(void *arg, nb_context ctx);
    /* Unregisters; returns 1 when input arrived during the wait. */
    int (*end)(void *arg);
    /* Whether the page sent something (or closed the port) that waits to
     * be read; never blocks. */
    int (*input_pending)(void *arg);
} nb_wait_hooks;

typedef struct nb_session {
    const nb_backend *backend;
    const nb_config *config;
    int caller_allowed;
    int hello_done;
    nb_context ctx;
    int have_ctx;
    nb_handle handles[NB_MAX_HANDLES];
    nb_wait_hooks wait_hooks;
    int last_wait_cancelled; /* the previous wait ended because of input */
    const nb_trust_store *trust; /* authority keys for signed scripts: see nb_session_trust */
    /* Where nb_session_trust loads them from on first use (main.c sets
     * these; unit tests set trust instead). */
    const char *const *trust_dirs;
    size_t trust_dir_count;
    nb_trust_store *trust_loaded; /* what nb_session_trust loaded; main frees it */
    nb_nonce_table nonces;
    time_t (*clock)(void);       /* injectable for tests; time() otherwise */
    /* Where a new-PIN APDU is built; wiped right after it is sent (tests
     * check that). */
    uint8_t pin_apdu[5 + 16];
    char current_id[NB_ID_TEXT_MAX]; /* the request being handled, as JSON ("null") */
    nb_io_buffers *io;    /* see nb_session_io */
} nb_session;

void nb_session_init(nb_session *s, const nb_backend *backend, const nb_config *config,
                     int caller_allowed);

/* Gives a usable context, establishing it if there is none (first use, or
 * after pcscd went away). Returns a PC/SC return code. */
uint32_t nb_session_context(nb_session *s, nb_context *ctx);

/* Looks at a return code from any backend call: when it says the context
 * is gone, forgets the context and every handle so that the next request
 * starts afresh. */
void nb_session_note_rv(nb_session *s, uint32_t rv);

/* The authority's keys, loaded (and libcrypto with them) the first time a
 * signed script needs them: a host that never runs one never pays for
 * either. NULL when they cannot be loaded. */
const nb_trust_store *nb_session_trust(nb_session *s);

/* Seconds since the epoch, from the injectable clock. */
time_t nb_session_now(const nb_session *s);

nb_handle *nb_session_find(nb_session *s, uint32_t id);
/* Returns a free slot with a fresh id, or NULL when all are used. */
nb_handle *nb_session_new_handle(nb_session *s);
void nb_session_forget_handle(nb_session *s, nb_handle *h);

/* The session's exchange buffers, allocated on first use; NULL when out of
 * memory. */
nb_io_buffers *nb_session_io(nb_session *s);

/* Ends open transactions, disconnects every card, releases the context
 * and the exchange buffers. Used at EOF and on exit. */
void nb_session_close(nb_session *s);

#endif
