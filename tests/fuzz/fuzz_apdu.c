/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: strict hex, the APDU parser and the transmit policy. */
#include <stdint.h>
#include <stdlib.h>

#include "apdu.h"
#include "hex.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t bytes[NB_APDU_MAX_BYTES];
    long n = nb_hex_decode((const char *)data, size, bytes, sizeof(bytes));
    const uint8_t *apdu = n >= 0 ? bytes : data; /* not hex: the raw bytes */
    size_t len = n >= 0 ? (size_t)n : size;
    nb_apdu parsed;
    const char *why = NULL;
    if (nb_apdu_parse(apdu, len, &parsed, &why) == 0) {
        if (parsed.data_offset + parsed.lc > len)
            abort(); /* the parser promised data that is not there */
        int allowed = nb_policy_plain_transmit(&parsed, &why);
        (void)nb_policy_data_is_secret(&parsed);
        /* Nothing that writes, authenticates or presents a secret passes. */
        if (allowed && (parsed.ins == 0x24 || parsed.ins == 0x2C || parsed.ins == 0xD6 || parsed.ins == 0x82 ||
                        (parsed.ins == 0x20 && parsed.apdu_case != 1)))
            abort();
    }
    return 0;
}
