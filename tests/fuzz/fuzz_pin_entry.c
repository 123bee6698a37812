/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the pinpad reader's PIN structures (ifd/pin_entry.c), which
 * run inside pcscd. Input: one byte choosing VERIFY or MODIFY and what the
 * holder does, one byte of digits to type, then the structure. Checks the
 * answer fits and the APDU sent is the template's length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pin_entry.h"

static const uint8_t *template_apdu;
static size_t template_len;
static uint8_t holder;

static nb_entry_outcome keypad(void *self, unsigned timeout_s, const nb_pin_prompts *prompts, nb_keypad_input *typed)
{
    (void)self;
    (void)timeout_s;
    if (prompts->count < 1 || prompts->count > NB_KEYPAD_ENTRIES)
        abort();
    if ((holder & 0x30) == 0x10)
        return NB_ENTRY_CANCELLED;
    if ((holder & 0x30) == 0x20)
        return NB_ENTRY_TIMED_OUT;
    typed->kind = NB_KEYPAD_DIGITS;
    typed->count = 1 + (holder & 0x03) % NB_KEYPAD_ENTRIES;
    for (size_t i = 0; i < typed->count; i++) {
        size_t n = (size_t)(holder >> 2) % (NB_KEYPAD_DIGITS_MAX + 1) + i;
        n = n > NB_KEYPAD_DIGITS_MAX ? NB_KEYPAD_DIGITS_MAX : n;
        for (size_t j = 0; j < n; j++)
            typed->entry[i][j] = (char)('0' + (j + i) % 10);
        typed->entry[i][n] = '\0';
    }
    return NB_ENTRY_TYPED;
}

static int transmit(void *self, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap, size_t *resp_len)
{
    (void)self;
    (void)apdu;
    if (len != template_len || cap < 2)
        abort();
    resp[0] = 0x90;
    resp[1] = 0x00;
    *resp_len = 2;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    nb_pin_operation op = data[0] & 1 ? NB_PIN_MODIFY : NB_PIN_VERIFY;
    holder = data[1];
    size_t header = op == NB_PIN_VERIFY ? NB_PIN_VERIFY_HEADER : NB_PIN_MODIFY_HEADER;
    template_apdu = size - 2 > header ? data + 2 + header : NULL;
    template_len = size - 2 > header ? size - 2 - header : 0;
    nb_pin_io io = {keypad, transmit, NULL};
    uint8_t out[300];
    size_t out_len = 0;
    int rc = nb_pin_entry(&io, op, data + 2, size - 2, out, (size_t)(data[0] >> 1) + 2, &out_len);
    if (rc == NB_PIN_OK && (out_len < 2 || out_len > sizeof(out)))
        abort();
    return 0;
}
