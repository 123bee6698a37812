/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: sends one APDU straight through PC/SC (not through the host,
 * so no policy applies) and prints the response. The demo uses it to lock
 * the card with wrong PINs and to prove the new PIN with VERIFY.
 * Usage: pcsc-apdu READER HEX [HEX...] [--reset]; prints "DATA SW" per
 * APDU; --reset resets the card when leaving (fault tests). */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "errors.h"
#include "hex.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pcsc-apdu READER HEX [HEX...]\n");
        return 2;
    }
    const nb_backend *b = nb_pcsc_backend();
    nb_context ctx;
    nb_card card;
    uint32_t proto;
    if (b->establish(b->self, &ctx) != NB_SCARD_S_SUCCESS ||
        b->connect(b->self, ctx, argv[1], NB_SHARE_SHARED, NB_PROTOCOL_T1, &card, &proto) != NB_SCARD_S_SUCCESS) {
        fprintf(stderr, "pcsc-apdu: no card in \"%s\"\n", argv[1]);
        return 1;
    }
    int rc = 0;
    uint32_t disposition = NB_LEAVE_CARD;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reset") == 0) {
            disposition = NB_RESET_CARD;
            continue;
        }
        uint8_t cmd[300], resp[300];
        long n = nb_hex_decode(argv[i], strlen(argv[i]), cmd, sizeof(cmd));
        size_t len = sizeof(resp);
        if (n < 4 || b->transmit(b->self, card, proto, cmd, (size_t)n, resp, &len) != NB_SCARD_S_SUCCESS || len < 2) {
            fprintf(stderr, "pcsc-apdu: %s failed\n", argv[i]);
            rc = 1;
            break;
        }
        char hex[601];
        nb_hex_encode(resp, len - 2, hex);
        printf("%s %02X%02X\n", hex, resp[len - 2], resp[len - 1]);
    }
    b->disconnect(b->self, card, disposition);
    b->release(b->self, ctx);
    return rc;
}
