/* SPDX-License-Identifier: Apache-2.0 */
#include "apdu.h"

int nb_apdu_parse(const uint8_t *b, size_t len, nb_apdu *out, const char **why)
{
    *out = (nb_apdu){0};
    if (len < 4) {
        *why = "APDU is shorter than its 4-byte header";
        return -1;
    }
    if (len > NB_APDU_MAX_BYTES) {
        *why = "APDU is longer than an extended case 4 APDU";
        return -1;
    }
    out->cla = b[0];
    out->ins = b[1];
    out->p1 = b[2];
    out->p2 = b[3];
    if (out->cla == 0xFF) {
        *why = "APDU class byte FF is reserved";
        return -1;
    }
    if (len == 4) {
        out->apdu_case = 1;
        return 0;
    }
    if (len == 5) {
        out->apdu_case = 2;
        out->le = b[4] == 0 ? 256 : b[4];
        return 0;
    }
    if (b[4] != 0) { /* short Lc */
        size_t lc = b[4];
        out->lc = lc;
        out->data_offset = 5;
        if (len == 5 + lc) {
            out->apdu_case = 3;
            return 0;
        }
        if (len == 6 + lc) {
            out->apdu_case = 4;
            out->le = b[len - 1] == 0 ? 256 : b[len - 1];
            return 0;
        }
        *why = "APDU length does not match its Lc byte";
        return -1;
    }
    /* b[4] == 0 and len > 5: extended lengths. */
    out->extended = 1;
    if (len == 7) {
        size_t le = ((size_t)b[5] << 8) | b[6];
        out->apdu_case = 2;
        out->le = le == 0 ? 65536 : le;
        return 0;
    }
    if (len < 8) {
        *why = "APDU has a truncated extended length";
        return -1;
    }
    size_t lc = ((size_t)b[5] << 8) | b[6];
    if (lc == 0) {
        *why = "APDU has an extended Lc of zero";
        return -1;
    }
    out->lc = lc;
    out->data_offset = 7;
    if (len == 7 + lc) {
        out->apdu_case = 3;
        return 0;
    }
    if (len == 9 + lc) {
        size_t le = ((size_t)b[len - 2] << 8) | b[len - 1];
        out->apdu_case = 4;
        out->le = le == 0 ? 65536 : le;
        return 0;
    }
    *why = "APDU length does not match its extended Lc";
    return -1;
}
