/* SPDX-License-Identifier: Apache-2.0 */
/* Pinpad readers (PC/SC part 10): feature discovery and the
 * PIN_MODIFY_STRUCTURE that lets the holder type the new PIN on the
 * reader itself, so it never passes through the computer. */
#ifndef NB_PINPAD_H
#define NB_PINPAD_H

#include <stddef.h>
#include <stdint.h>

#include "script.h"

#define NB_PINPAD_TIMEOUT_S 60
#define NB_PINPAD_LANG_TR 0x041F
/* bmPINBlockString gives the PIN block's size in its low four bits. */
#define NB_PINPAD_MAX_BLOCK 15
/* The longest a pinpad entry can take: both entries' timeouts, plus a
 * margin for the reader and the card. */
#define NB_PINPAD_LIMIT_MS ((2u * NB_PINPAD_TIMEOUT_S + 10u) * 1000u)
/* What a CCID reader answers when the holder cancels or does not type. */
#define NB_SW_PINPAD_TIMEOUT 0x6400
#define NB_SW_PINPAD_CANCELLED 0x6401

/* Finds a feature's control code in a GET_FEATURE_REQUEST answer (tag,
 * length 4, big-endian code). Returns 1 and sets *code when present. */
int nb_pinpad_feature(const uint8_t *tlv, size_t len, uint8_t tag, uint32_t *code);

/* Builds the PIN_MODIFY_STRUCTURE for a new_pin step: new PIN only, with
 * confirmation, ASCII digits left-justified in the padded field, the
 * step's header as the APDU template. Returns its length, or 0 when the
 * step has no fixed field (pad_to), a field the structure cannot express
 * (over NB_PINPAD_MAX_BLOCK bytes), or cap is too small. */
size_t nb_pinpad_modify_structure(const nb_step *step, uint8_t *out, size_t cap);

#endif
