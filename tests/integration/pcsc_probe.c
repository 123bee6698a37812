/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: waits until a reader holds a usable card, through the
 * host's own PC/SC backend. Usage: pcsc-probe READER TIMEOUT_MS
 * Prints the ATR and exits 0, or exits 1 on timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "errors.h"
#include "hex.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pcsc-probe READER TIMEOUT_MS\n");
        return 2;
    }
    const nb_backend *b = nb_pcsc_backend();
    long deadline = now_ms() + atol(argv[2]);
    while (now_ms() < deadline) {
        nb_context ctx = 0;
        if (b->establish(b->self, &ctx) == NB_SCARD_S_SUCCESS) {
            nb_reader_state st = {.reader = argv[1], .current_state = NB_STATE_UNAWARE};
            uint32_t rv = b->get_status_change(b->self, ctx, 0, &st, 1);
            if (rv == NB_SCARD_S_SUCCESS && (st.event_state & NB_STATE_PRESENT) &&
                !(st.event_state & NB_STATE_MUTE) && st.atr_len > 0) {
                /* Present is not enough: the card must answer a connect. */
                nb_card card = 0;
                uint32_t proto = 0;
                if (b->connect(b->self, ctx, argv[1], NB_SHARE_SHARED, NB_PROTOCOL_T1, &card,
                               &proto) == NB_SCARD_S_SUCCESS) {
                    b->disconnect(b->self, card, NB_LEAVE_CARD);
                    b->release(b->self, ctx);
                    char hex[2 * NB_MAX_ATR + 1];
                    nb_hex_encode(st.atr, st.atr_len, hex);
                    printf("%s\n", hex);
                    return 0;
                }
            }
            b->release(b->self, ctx);
        }
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "pcsc-probe: no usable card in \"%s\" within %s ms\n", argv[1], argv[2]);
    return 1;
}
