/* SPDX-License-Identifier: Apache-2.0 */
/* Strict hexadecimal: even length, digits and a-f/A-F only, no spaces. */
#ifndef NB_HEX_H
#define NB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes text of text_len characters into out (capacity out_cap).
 * Returns the number of bytes, or -1 when the text is not strict hex or
 * does not fit. */
long nb_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap);

/* Encodes len bytes as upper-case hex into out, which must hold 2*len+1. */
void nb_hex_encode(const uint8_t *data, size_t len, char *out);

#endif
