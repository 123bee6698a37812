/* SPDX-License-Identifier: Apache-2.0 */
/* Signed card scripts: the format the authority signs (docs/protocol.md,
 * "Signed scripts"), parsed strictly. Parsing happens only after the
 * signature over the exact bytes verified. */
#ifndef NB_SCRIPT_H
#define NB_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "backend.h"
#include "nonce.h"
#include "protocol.h"

#define NB_SCRIPT_VERSION 1
#define NB_SCRIPT_MAX_STEPS 256
#define NB_SCRIPT_MAX_EXPECT 8
#define NB_SCRIPT_MAX_APDU 1024 /* bytes per step */
#define NB_NEW_PIN_MIN 4        /* bounds on what a script may ask for */
#define NB_NEW_PIN_MAX 16
#define NB_SCRIPT_MAX_B64 (200u * 1024u) /* run-script's script argument */
#define NB_SIGNATURE_MAX_B64 1024u      /* and its signature */

typedef enum { NB_STEP_APDU, NB_STEP_NEW_PIN } nb_step_kind;

typedef struct {
    uint16_t value, mask; /* "63C?" -> value 63C0, mask FFF0 */
} nb_sw_pattern;

typedef struct {
    nb_step_kind kind;
    int secret; /* response data withheld, APDU data never logged */
    nb_sw_pattern expect[NB_SCRIPT_MAX_EXPECT];
    size_t expect_count;
    /* NB_STEP_APDU */
    uint8_t *apdu;
    size_t apdu_len;
    /* NB_STEP_NEW_PIN: header CLA INS P1 P2; the host adds Lc and the PIN
     * (ASCII), padded with pad_byte to pad_to bytes when pad_to > 0. */
    uint8_t header[4];
    unsigned min_len, max_len, pad_to;
    uint8_t pad_byte;
    int confirm;
} nb_step;

typedef struct {
    uint8_t nonce[NB_NONCE_BYTES];
    uint8_t atr[NB_MAX_ATR];
    size_t atr_len;
    time_t not_after;
    nb_step *steps;
    size_t step_count;
    const nb_step *new_pin_step; /* NULL when the script asks for no PIN */
} nb_script;

/* Parses the script's JSON bytes; on failure returns script-invalid,
 * script-too-long or script-bad-apdu with a message naming the place. */
nb_error nb_script_parse(const uint8_t *bytes, size_t len, nb_script *out, nb_outcome *outcome);
void nb_script_free(nb_script *script);

int nb_sw_matches(const nb_step *step, uint16_t sw);

/* Checks a new PIN against the step: NB_OK, pin-required, pin-format or
 * pin-mismatch (confirm set and confirmation differs or is missing). */
nb_error nb_new_pin_check(const nb_step *step, const char *pin, const char *confirmation);

/* Builds the APDU of a new-PIN step into out (capacity cap); returns its
 * length, 0 when it does not fit. */
size_t nb_new_pin_apdu(const nb_step *step, const char *pin, uint8_t *out, size_t cap);

/* Parses "YYYY-MM-DDTHH:MM:SSZ"; returns -1 when malformed. */
int nb_parse_utc(const char *text, time_t *out);

#endif
