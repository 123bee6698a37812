/* SPDX-License-Identifier: Apache-2.0 */
/* Strict standard base64 (RFC 4648 section 4, with padding, no white space). */
#ifndef NB_BASE64_H
#define NB_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes into a malloc'd buffer; returns NULL when the text is not strict
 * base64. */
uint8_t *nb_base64_decode(const char *text, size_t text_len, size_t *out_len);
/* Encodes into a malloc'd NUL-terminated string; NULL on no memory. */
char *nb_base64_encode(const uint8_t *data, size_t len);

#endif
