/* SPDX-License-Identifier: Apache-2.0 */
/* The pinpad reader's protocol layer: PC/SC part 10 PIN_VERIFY_STRUCTURE
 * and PIN_MODIFY_STRUCTURE carried out the way a CCID reader does (USB
 * CCID 1.1, PC_to_RDR_Secure): the prompts, the wait for the holder, the
 * PIN digits formatted (binary, BCD or ASCII; left or right; offsets in
 * bits or bytes), their length written where the structure says, the
 * APDU sent to the card and the card's answer returned. It talks only to
 * the layer below, through nb_pin_io (the keypad and the card), so tests
 * run it on their own. docs/card-profile.md, "The pinpad reader".
 *
 * Status words the reader itself answers (PC/SC part 10, as OpenSC reads
 * them): 6400 nothing typed in time, 6401 the holder cancelled, 6402 the
 * new PIN and its confirmation differ, 6403 a PIN with fewer or more
 * digits than wPINMaxExtraDigit allows, 6B80 a structure the reader
 * cannot carry out (nothing is sent to the card). */
#ifndef NB_IFD_PIN_ENTRY_H
#define NB_IFD_PIN_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"

#define NB_PIN_VERIFY_HEADER 19 /* PIN_VERIFY_STRUCTURE before abData */
#define NB_PIN_MODIFY_HEADER 24 /* PIN_MODIFY_STRUCTURE before abData */
#define NB_PIN_APDU_MAX (5 + 255 + 1)
#define NB_PIN_DEFAULT_TIMEOUT_S 30 /* bTimerOut 00: the reader's default */

#define NB_SW_PIN_TIMEOUT 0x6400
#define NB_SW_PIN_CANCELLED 0x6401
#define NB_SW_PIN_MISMATCH 0x6402
#define NB_SW_PIN_LENGTH 0x6403
#define NB_SW_PIN_BAD_STRUCTURE 0x6B80

/* What the reader shows while it waits: a message per prompt (indexes
 * into the reader's table, in the structure's language). */
typedef struct {
    unsigned count; /* prompts: 1 (VERIFY) to 3 (current, new, confirm) */
    unsigned lang;  /* wLangId */
    int shown;      /* bNumberMessage != 0 */
    uint8_t index[NB_KEYPAD_ENTRIES];
} nb_pin_prompts;

typedef enum { NB_ENTRY_TYPED, NB_ENTRY_CANCELLED, NB_ENTRY_TIMED_OUT, NB_ENTRY_NO_CARD } nb_entry_outcome;

typedef struct {
    /* Shows the prompts and waits at most timeout_s seconds for the
     * holder; on NB_ENTRY_TYPED fills typed (the caller wipes it). */
    nb_entry_outcome (*keypad)(void *self, unsigned timeout_s, const nb_pin_prompts *prompts,
                               nb_keypad_input *typed);
    /* Sends an APDU to the card; resp gets data + SW. Returns 0, or -1
     * when the card does not answer. */
    int (*transmit)(void *self, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
                    size_t *resp_len);
    void *self;
} nb_pin_io;

typedef enum { NB_PIN_VERIFY, NB_PIN_MODIFY } nb_pin_operation;

#define NB_PIN_OK 0
#define NB_PIN_NO_CARD (-1)      /* the card did not answer, or is gone */
#define NB_PIN_SHORT_BUFFER (-2) /* cap cannot hold the answer */

/* Carries out one structure. On NB_PIN_OK, out holds the card's answer
 * (data and SW) or a status word the reader made (above). */
int nb_pin_entry(const nb_pin_io *io, nb_pin_operation op, const uint8_t *in, size_t in_len,
                 uint8_t *out, size_t cap, size_t *out_len);

/* The reader's message table (index 00 enter PIN, 01 enter new PIN, 02
 * confirm new PIN) in Turkish (041F) or English (anything else); NULL
 * for an index it does not have. */
const char *nb_pin_message(unsigned lang, unsigned index);

#endif
