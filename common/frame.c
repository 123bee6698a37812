/* SPDX-License-Identifier: Apache-2.0 */
#include "frame.h"
#include "wipe.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One read() or write() moves at most this much: Windows counts in
 * unsigned int, not size_t. */
static unsigned chunk(size_t left)
{
    return left > INT_MAX ? INT_MAX : (unsigned)left;
}

size_t nb_read_exact(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, p + done, chunk(len - done));
        if (n > 0) {
            done += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            break;
        }
    }
    return done;
}

size_t nb_write_exact(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, chunk(len - done));
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    return done;
}

nb_frame_status nb_frame_read(int fd, char **body, size_t *len, uint32_t *declared)
{
    uint32_t length = 0;
    *body = NULL;
    *len = 0;
    *declared = 0;

    errno = 0;
    size_t got = nb_read_exact(fd, &length, sizeof(length));
    if (got == 0)
        return errno != 0 && errno != EINTR ? NB_FRAME_IO_ERROR : NB_FRAME_EOF;
    if (got < sizeof(length))
        return NB_FRAME_TRUNCATED;
    *declared = length;
    if (length == 0)
        return NB_FRAME_EMPTY;
    if (length > NB_MAX_REQUEST_BYTES)
        return NB_FRAME_TOO_LARGE;

    /* The length is bounded above, so this allocation is too. */
    char *buf = malloc((size_t)length + 1);
    if (buf == NULL)
        return NB_FRAME_IO_ERROR;
    if (nb_read_exact(fd, buf, length) != length) {
        nb_free_wiped(buf); /* the part that came may hold a new PIN */
        return NB_FRAME_TRUNCATED;
    }
    buf[length] = '\0';
    *body = buf;
    *len = length;
    return NB_FRAME_OK;
}

int nb_frame_write(int fd, const char *body, size_t len)
{
    if (len > NB_MAX_REPLY_BYTES)
        return -1;
    uint32_t length = (uint32_t)len;
    if (nb_write_exact(fd, &length, sizeof(length)) != sizeof(length))
        return -1;
    if (nb_write_exact(fd, body, len) != len)
        return -1;
    return 0;
}
