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

/* Finds a feature's control code in a GET_FEATURE_REQUEST answer (tag,
 * length 4, big-endian code). Returns 1 and sets *code when present. */
int nb_pinpad_feature(const uint8_t *tlv, size_t len, uint8_t tag, uint32_t *code);

/* Builds the PIN_MODIFY_STRUCTURE for a new_pin step: new PIN only, with
 * confirmation, ASCII digits left-justified in the padded field, the
 * step's header as the APDU template. Returns its length, or 0 when the
 * step has no fixed field (pad_to) or cap is too small. */
size_t nb_pinpad_modify_structure(const nb_step *step, uint8_t *out, size_t cap);

#endif
