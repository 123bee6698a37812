/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual NES card's command processing (docs/card-profile.md): the
 * AKİS commands that are public, and our own design for the authority's
 * unlock. Pure logic: bytes in, bytes out, plus a callback that persists
 * the state before any answer that depends on a change. */
#ifndef NB_VCARD_CARD_H
#define NB_VCARD_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "files.h"
#include "sm.h"

#define NB_PIN_MIN 6
#define NB_PIN_MAX 8
#define NB_PUK_LEN 8
#define NB_PIN_TRIES 3
#define NB_PUK_TRIES 10
#define NB_PIN_FIELD 8 /* RESET RETRY COUNTER: 8-byte fields, ASCII digits, FF padding */
#define NB_PIN_FIELD_MAX 16 /* AKİS: PINs up to 16 bytes */
#define NB_SERIAL_MAX 32
#define NB_REF_PIN 0x81
#define NB_REF_PUK 0x82
#define NB_KEY_REF_SIGN 0x01 /* MANAGE SECURITY ENVIRONMENT: the one key reference (ours) */
#define NB_LIFE_CYCLE_USER 0xA5

/* What survives removal: written to the state file on every change. */
typedef struct {
    char serial[NB_SERIAL_MAX + 1];
    char pin[NB_PIN_MAX + 1];
    unsigned pin_tries;
    char puk[NB_PUK_LEN + 1];
    unsigned puk_tries;
    uint8_t admin_key[NB_KEY_LEN];
} nb_card_state;

typedef struct nb_vcard_s {
    nb_card_state state;
    /* Volatile: lost at power off or reset. */
    nb_card_file current_df;
    int ef_selected;
    nb_card_file current_ef;
    int pin_verified;
    int key_selected; /* MANAGE SECURITY ENVIRONMENT */
    int have_challenge;
    uint8_t challenge[NB_RND_LEN];
    nb_sm_session sm;
    /* Set by the authority's RESET RETRY COUNTER (P1=03) under secure
     * messaging: the very next command may set a new PIN without the old
     * one. Any other command, a reset or power loss ends it, and nothing
     * of it is ever saved: an interrupted unlock leaves the card blocked,
     * as it was. */
    int new_pin_armed;
    uint8_t file_scratch[128]; /* files built on reading (EF.TokenInfo) */
    /* Contents of EF.CERT (not owned). */
    const uint8_t *cert;
    size_t cert_len;
    /* Persists the state; returns 0 on success. */
    int (*save)(void *arg, const nb_card_state *state);
    void *save_arg;
} nb_vcard;

/* Fills a new card's state: PIN 123456, PUK 12345678, full tries, admin
 * key derived from the master key and serial. how: "fresh", "pin-locked"
 * or "puk-locked". Returns 0, or -1 for an unknown how or bad serial. */
int nb_card_state_init(nb_card_state *st, const char *serial, const uint8_t master[NB_KEY_LEN],
                       const char *how);

/* Power on or reset: clears security status, selection and SM session. */
void nb_vcard_power(nb_vcard *card);

/* Processes one command APDU; writes response data and SW into resp
 * (cap >= 258 + 2). Returns the response length (always >= 2). */
size_t nb_vcard_process(nb_vcard *card, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap);

/* The ATR is the reader's concern: profile.h. */

#endif
