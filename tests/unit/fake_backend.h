/* SPDX-License-Identifier: Apache-2.0 */
/* A PC/SC backend for unit tests: readers, a card and return codes are set
 * by the test; every call is counted and the last APDU is recorded. */
#ifndef NB_FAKE_BACKEND_H
#define NB_FAKE_BACKEND_H

#include <pthread.h>

#include "backend.h"

#define FAKE_MAX_READERS 4

typedef size_t (*fake_responder)(const uint8_t *cmd, size_t len, uint8_t *resp, void *arg);

typedef struct {
    nb_backend backend;
    /* Set by tests. */
    const char *readers[FAKE_MAX_READERS];
    size_t reader_count;
    int card_present;
    uint8_t atr[NB_MAX_ATR];
    size_t atr_len;
    uint32_t establish_rv, list_rv, connect_rv, transmit_rv, status_rv;
    int transmit_fail_after; /* > 0: the transmits after this many fail with transmit_rv */
    fake_responder responder;
    void *responder_arg;
    int block_waits; /* get_status_change blocks until cancel or timeout */
    int hang_status; /* status never returns (a reader that hangs) */
    uint32_t wait_rv;  /* returned by a non-blocking wait */
    uint32_t wait_event; /* event_state for reader 0 */
    uint8_t features[16]; /* GET_FEATURE_REQUEST answer */
    size_t features_len;
    uint32_t pinpad_code; /* a control code the fake pinpad answers pinpad_sw to */
    uint16_t pinpad_sw;   /* 0: 9000; 6401 cancelled, 6400 timed out */
    int begin_blocks;     /* begin_transaction waits until begin_release is set */
    int begin_release;
    uint8_t last_control[128];
    size_t last_control_len;
    /* Observed. */
    int contexts_open, cards_open, transactions_open;
    int establish_calls, cancel_calls, transmit_calls;
    uint8_t last_apdu[300];
    size_t last_apdu_len;
    /* What happened, in order: "B" begin, "E0"/"E1"/"E2" end with a
     * disposition, "D" disconnect, "T<INS>" transmit (hex), "C" control. */
    char events[512];
    int begin_calls;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int cancelled;
} fake_backend;

void fake_init(fake_backend *f);
void fake_destroy(fake_backend *f);

#endif
