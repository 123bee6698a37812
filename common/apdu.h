/* SPDX-License-Identifier: Apache-2.0 */
/* Command APDU structure (ISO/IEC 7816-4 cases 1-4, short and extended). */
#ifndef NB_APDU_H
#define NB_APDU_H

#include <stddef.h>
#include <stdint.h>

#define NB_APDU_MAX_BYTES (4 + 3 + 65535 + 2)   /* case 4 extended */
#define NB_RESPONSE_MAX_BYTES (65536 + 2)       /* data + SW1 SW2 */

typedef struct {
    uint8_t cla, ins, p1, p2;
    int apdu_case;     /* 1, 2, 3 or 4 */
    int extended;      /* extended length fields */
    size_t lc;         /* length of the command data */
    size_t data_offset;/* where the command data starts */
    size_t le;         /* expected response length (256 or 65536 for "all") */
} nb_apdu;

/* Parses and checks well-formedness. Returns 0, or -1 with *why set. */
int nb_apdu_parse(const uint8_t *bytes, size_t len, nb_apdu *out, const char **why);

#endif
