/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the frame reader over a pipe, frame after frame. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];
    if (size > 65536 || pipe(fds) != 0)
        return 0;
    if (nb_write_exact(fds[1], data, size) != size) {
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    close(fds[1]);
    for (int i = 0; i < 64; i++) {
        char *body = NULL;
        size_t len = 0;
        uint32_t declared = 0;
        nb_frame_status st = nb_frame_read(fds[0], &body, &len, &declared);
        free(body);
        if (st != NB_FRAME_OK && st != NB_FRAME_EMPTY)
            break;
    }
    close(fds[0]);
    return 0;
}
