/* SPDX-License-Identifier: Apache-2.0 */
#include "pin_entry.h"

#include <string.h>

#include "wipe.h"

#define NO_MESSAGE 0xFF

/* One structure, read and checked. Positions are in bits from the first
 * byte of the APDU's data (after Lc). */
typedef struct {
    unsigned timeout_s;
    unsigned coding;      /* bmFormatString bits 1-0: 0 binary, 1 BCD, 2 ASCII */
    int right;            /* bit 2: right-justified */
    unsigned frame_bits;  /* bits 6-3, in bits or bytes (bit 7): the PIN frame's offset */
    unsigned len_size;    /* bmPINBlockString bits 7-4: the length field's size in bits */
    unsigned block_bytes; /* bits 3-0: the PIN block's size; 0: to the end of the data */
    unsigned len_bits;    /* bmPINLengthFormat: the length field's offset */
    unsigned min, max;    /* wPINMaxExtraDigit */
    unsigned validation;  /* bEntryValidationCondition */
    int want_current;     /* MODIFY: bConfirmPIN bit 1 */
    int want_confirm;     /* MODIFY: bConfirmPIN bit 0 */
    size_t start[2];      /* each PIN block's first byte: current (or VERIFY's), new */
    nb_pin_prompts prompts;
    const uint8_t *apdu;
    size_t apdu_len, data_len;
} request;

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static size_t le32(const uint8_t *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

/* Reads the fields both structures share, from their different places. */
static void read_format(request *r, const uint8_t *fmt)
{
    unsigned unit = fmt[0] & 0x80 ? 8u : 1u;
    r->frame_bits = ((fmt[0] >> 3) & 0x0F) * unit;
    r->right = (fmt[0] & 0x04) != 0;
    r->coding = fmt[0] & 0x03;
    r->len_size = fmt[1] >> 4;
    r->block_bytes = fmt[1] & 0x0F;
    r->len_bits = (fmt[2] & 0x0F) * (fmt[2] & 0x10 ? 8u : 1u);
}

/* Messages by prompt, in order: prompt k shows bMsgIndex(k+1) when
 * bNumberMessage covers it; FF is the reader's defaults by purpose. */
static void read_prompts(request *r, nb_pin_operation op, unsigned count, const uint8_t *index)
{
    nb_pin_prompts *p = &r->prompts;
    p->count = op == NB_PIN_VERIFY ? 1 : (unsigned)(r->want_current + 1 + r->want_confirm);
    p->shown = count != 0;
    unsigned first = op == NB_PIN_VERIFY || r->want_current ? 0 : 1;
    for (unsigned k = 0; k < p->count; k++) {
        if (count == 0xFF)
            p->index[k] = (uint8_t)(first + k);
        else
            p->index[k] = k < count && k < (op == NB_PIN_VERIFY ? 1u : 3u) ? index[k] : NO_MESSAGE;
    }
}

static int parse(nb_pin_operation op, const uint8_t *in, size_t in_len, request *r)
{
    memset(r, 0, sizeof(*r));
    size_t header = op == NB_PIN_VERIFY ? NB_PIN_VERIFY_HEADER : NB_PIN_MODIFY_HEADER;
    if (in_len < header + 5 || in_len - header > NB_PIN_APDU_MAX)
        return -1;
    r->timeout_s = in[0] != 0 ? in[0] : NB_PIN_DEFAULT_TIMEOUT_S; /* bTimerOut2: keys come at once */
    read_format(r, in + 2);
    const uint8_t *rest = in + (op == NB_PIN_VERIFY ? 5 : 7);
    r->max = rest[0];
    r->min = rest[1];
    if (op == NB_PIN_MODIFY) {
        r->start[0] = in[5];
        r->start[1] = in[6];
        r->want_confirm = (rest[2] & 0x01) != 0;
        r->want_current = (rest[2] & 0x02) != 0;
        rest++;
    }
    r->validation = rest[2];
    r->prompts.lang = le16(rest + 4);
    read_prompts(r, op, rest[3], rest + 6);
    if (le32(in + header - 4) != in_len - header)
        return -1;
    r->apdu = in + header;
    r->apdu_len = in_len - header;
    r->data_len = r->apdu[4];
    if (r->data_len == 0 || (r->apdu_len != 5 + r->data_len && r->apdu_len != 6 + r->data_len))
        return -1;
    if (r->coding == 3 || r->min == 0 || r->min > r->max || r->max > NB_KEYPAD_DIGITS_MAX ||
        (r->validation & 0x07) == 0)
        return -1;
    return 0;
}

/* The PIN block that begins at start: its size in bits, or 0 when the
 * structure's fields do not fit in it. */
static size_t block_bits(const request *r, size_t start)
{
    if (start >= r->data_len)
        return 0;
    size_t bytes = r->block_bytes != 0 ? r->block_bytes : r->data_len - start;
    if (start + bytes > r->data_len)
        return 0;
    size_t bits = bytes * 8;
    size_t digit = r->coding == 1 ? 4 : 8;
    if (r->frame_bits + r->max * digit > bits)
        return 0;
    if (r->len_size > 0 && (r->len_bits + r->len_size > bits || r->max >= (1u << r->len_size)))
        return 0;
    return bits;
}

static int layout_fits(const request *r, nb_pin_operation op)
{
    if (op == NB_PIN_VERIFY || r->want_current)
        if (block_bits(r, r->start[0]) == 0)
            return 0;
    return op == NB_PIN_VERIFY || block_bits(r, r->start[1]) != 0;
}

/* Writes value's low nbits at bit (most significant bit first). */
static void put_bits(uint8_t *buf, size_t bit, unsigned nbits, unsigned value)
{
    for (unsigned i = 0; i < nbits; i++, bit++) {
        uint8_t mask = (uint8_t)(0x80u >> (bit % 8));
        if ((value >> (nbits - 1 - i)) & 1u)
            buf[bit / 8] |= mask;
        else
            buf[bit / 8] &= (uint8_t)~mask;
    }
}

/* Formats digits into the PIN block that begins at start (bytes into the
 * data): the frame left- or right-justified, the template's bytes left
 * as they are around it (the application's padding), and the length. */
static void place_pin(const request *r, uint8_t *apdu, size_t start, const char *digits)
{
    size_t n = strlen(digits);
    size_t base = (5 + start) * 8, bits = block_bits(r, start);
    unsigned digit = r->coding == 1 ? 4 : 8;
    size_t at = base + (r->right ? bits - n * digit : r->frame_bits);
    for (size_t i = 0; i < n; i++, at += digit) {
        unsigned d = (unsigned)(digits[i] - '0');
        put_bits(apdu, at, digit, r->coding == 2 ? 0x30 + d : d);
    }
    if (r->len_size > 0)
        put_bits(apdu, base + r->len_bits, r->len_size, (unsigned)n);
}

static int put_sw(uint16_t sw, uint8_t *out, size_t cap, size_t *out_len)
{
    if (cap < 2)
        return NB_PIN_SHORT_BUFFER;
    out[0] = (uint8_t)(sw >> 8);
    out[1] = (uint8_t)sw;
    *out_len = 2;
    return NB_PIN_OK;
}

/* Which typed entry answers prompt k: the holder's last one repeats. */
static const char *entry_for(const nb_keypad_input *typed, unsigned k)
{
    return typed->entry[k < typed->count ? k : typed->count - 1];
}

/* Checks what was typed; returns 0 or the reader's status word. */
static uint16_t check_typed(const request *r, const nb_keypad_input *typed)
{
    for (unsigned k = 0; k < r->prompts.count; k++) {
        size_t n = strlen(entry_for(typed, k));
        if (n < r->min || n > r->max)
            return NB_SW_PIN_LENGTH;
        /* Without an OK key (or a timeout that validates) an entry ends
         * only at the maximum: a shorter one runs out the clock. */
        if (n < r->max && (r->validation & 0x06) == 0)
            return NB_SW_PIN_TIMEOUT;
    }
    if (r->want_confirm && strcmp(entry_for(typed, r->prompts.count - 2), entry_for(typed, r->prompts.count - 1)) != 0)
        return NB_SW_PIN_MISMATCH;
    return 0;
}

static int send_pin(const nb_pin_io *io, const request *r, nb_pin_operation op, const nb_keypad_input *typed,
                    uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t apdu[NB_PIN_APDU_MAX];
    memcpy(apdu, r->apdu, r->apdu_len);
    if (op == NB_PIN_VERIFY) {
        place_pin(r, apdu, r->start[0], entry_for(typed, 0));
    } else {
        if (r->want_current)
            place_pin(r, apdu, r->start[0], entry_for(typed, 0));
        place_pin(r, apdu, r->start[1], entry_for(typed, (unsigned)r->want_current));
    }
    uint8_t resp[600]; /* nb_vcard_process wants 258 + 2 at least */
    size_t resp_len = 0;
    int rc = io->transmit(io->self, apdu, r->apdu_len, resp, sizeof(resp), &resp_len) == 0 && resp_len >= 2
                 ? NB_PIN_OK
                 : NB_PIN_NO_CARD;
    if (rc == NB_PIN_OK && resp_len > cap)
        rc = NB_PIN_SHORT_BUFFER;
    if (rc == NB_PIN_OK) {
        memcpy(out, resp, resp_len);
        *out_len = resp_len;
    }
    nb_wipe(apdu, sizeof(apdu));
    nb_wipe(resp, sizeof(resp));
    return rc;
}

int nb_pin_entry(const nb_pin_io *io, nb_pin_operation op, const uint8_t *in, size_t in_len,
                 uint8_t *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    request r;
    if (parse(op, in, in_len, &r) != 0 || !layout_fits(&r, op))
        return put_sw(NB_SW_PIN_BAD_STRUCTURE, out, cap, out_len);
    nb_keypad_input typed;
    memset(&typed, 0, sizeof(typed));
    int rc;
    switch (io->keypad(io->self, r.timeout_s, &r.prompts, &typed)) {
    case NB_ENTRY_TYPED: {
        uint16_t sw = typed.count > 0 ? check_typed(&r, &typed) : NB_SW_PIN_TIMEOUT;
        rc = sw != 0 ? put_sw(sw, out, cap, out_len) : send_pin(io, &r, op, &typed, out, cap, out_len);
        break;
    }
    case NB_ENTRY_CANCELLED:
        rc = put_sw(NB_SW_PIN_CANCELLED, out, cap, out_len);
        break;
    case NB_ENTRY_TIMED_OUT:
        rc = put_sw(NB_SW_PIN_TIMEOUT, out, cap, out_len);
        break;
    default:
        rc = NB_PIN_NO_CARD;
        break;
    }
    nb_wipe(&typed, sizeof(typed));
    return rc;
}

const char *nb_pin_message(unsigned lang, unsigned index)
{
    static const char *const tr[] = {"PIN girin", "Yeni PIN girin", "Yeni PIN'i tekrar girin"};
    static const char *const en[] = {"Enter PIN", "Enter new PIN", "Confirm new PIN"};
    if (index > 2)
        return NULL;
    return lang == 0x041F ? tr[index] : en[index];
}
