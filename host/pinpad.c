/* SPDX-License-Identifier: Apache-2.0 */
#include "pinpad.h"

#include <string.h>

int nb_pinpad_feature(const uint8_t *tlv, size_t len, uint8_t tag, uint32_t *code)
{
    for (size_t i = 0; i + 2 <= len; i += 2 + (size_t)tlv[i + 1]) {
        if (tlv[i] == tag && tlv[i + 1] == 4 && i + 6 <= len) {
            *code = (uint32_t)tlv[i + 2] << 24 | (uint32_t)tlv[i + 3] << 16 |
                    (uint32_t)tlv[i + 4] << 8 | tlv[i + 5];
            return 1;
        }
    }
    return 0;
}

static void put_le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

size_t nb_pinpad_modify_structure(const nb_step *step, uint8_t *out, size_t cap)
{
    /* The reader fills a fixed-size field: the step must give one. */
    size_t field = step->pad_to;
    size_t apdu_len = 5 + field;
    size_t total = 24 + apdu_len;
    if (field == 0 || field > NB_PINPAD_MAX_BLOCK || total > cap)
        return 0;
    size_t n = 0;
    out[n++] = NB_PINPAD_TIMEOUT_S;   /* bTimerOut */
    out[n++] = NB_PINPAD_TIMEOUT_S;   /* bTimerOut2 */
    out[n++] = 0x82;                  /* bmFormatString: bytes, offset 0, left, ASCII */
    out[n++] = (uint8_t)field;        /* bmPINBlockString: no length field (high nibble 0),
                                         block = field (low nibble, so at most 15) */
    out[n++] = 0x00;                  /* bmPINLengthFormat: none */
    out[n++] = 0x00;                  /* bInsertionOffsetOld (no old PIN) */
    out[n++] = 0x00;                  /* bInsertionOffsetNew */
    out[n++] = (uint8_t)step->max_len; /* wPINMaxExtraDigit: max (low byte) ... */
    out[n++] = (uint8_t)step->min_len; /* ... min (high byte) */
    out[n++] = 0x01;                  /* bConfirmPIN: confirm the new PIN, no current PIN */
    out[n++] = 0x02;                  /* bEntryValidationCondition: OK key */
    out[n++] = 0x02;                  /* bNumberMessage: enter, confirm */
    put_le16(out + n, NB_PINPAD_LANG_TR); /* wLangId */
    n += 2;
    out[n++] = 0x00;                  /* bMsgIndex1 */
    out[n++] = 0x01;                  /* bMsgIndex2 */
    out[n++] = 0x02;                  /* bMsgIndex3 */
    out[n++] = 0x00;                  /* bTeoPrologue[3] */
    out[n++] = 0x00;
    out[n++] = 0x00;
    out[n++] = (uint8_t)apdu_len;     /* ulDataLength, little-endian */
    out[n++] = 0x00;
    out[n++] = 0x00;
    out[n++] = 0x00;
    memcpy(out + n, step->header, 4);
    n += 4;
    out[n++] = (uint8_t)field;
    memset(out + n, step->pad_byte, field);
    n += field;
    return n;
}
