/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the virtual card's command processing, plain and under a
 * secure-messaging session, several APDUs per input (split by length
 * bytes). Checks the counters never go out of range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "card.h"
#include "hex.h"
#include "sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nb_vcard card;
    static uint8_t resp[NB_RESPONSE_MAX_BYTES];
    memset(&card, 0, sizeof(card));
    uint8_t master[16];
    nb_hex_decode("4E4553425249444745444D4F4B455931", 32, master, 16);
    nb_card_state_init(&card.state, "NB0000000001", master, size > 0 && (data[0] & 1) ? "pin-locked" : "fresh");
    nb_vcard_power(&card);
    if (size > 0 && (data[0] & 2)) {
        /* Start inside an SM session with fixed keys, as after MUTUAL
         * AUTHENTICATE, so that the protected path is reachable. */
        uint8_t k_ifd[16] = {1}, k_ic[16] = {2};
        nb_sm_start(&card.sm, k_ifd, k_ic);
    }
    size_t pos = size > 0 ? 1 : 0;
    while (pos < size) {
        size_t len = data[pos++];
        if (len > size - pos)
            len = size - pos;
        size_t n = nb_vcard_process(&card, data + pos, len, resp, sizeof(resp));
        if (n < 2 || n > sizeof(resp))
            abort();
        if (card.state.pin_tries > NB_PIN_TRIES || card.state.puk_tries > NB_PUK_TRIES)
            abort();
        pos += len;
    }
    return 0;
}
