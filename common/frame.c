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

/* A frame up to this size goes out in one write. */
#define ONE_WRITE_BYTES 4096u

int nb_frame_write(int fd, const char *body, size_t len)
{
    if (len > NB_MAX_REPLY_BYTES)
        return -1;
    uint32_t length = (uint32_t)len;
    if (len <= ONE_WRITE_BYTES) {
        uint8_t frame[sizeof(length) + ONE_WRITE_BYTES];
        memcpy(frame, &length, sizeof(length));
        memcpy(frame + sizeof(length), body, len);
        size_t sent = nb_write_exact(fd, frame, sizeof(length) + len);
        nb_wipe(frame, sizeof(length) + len); /* a reply may carry card data */
        return sent == sizeof(length) + len ? 0 : -1;
    }
    if (nb_write_exact(fd, &length, sizeof(length)) != sizeof(length))
        return -1;
    if (nb_write_exact(fd, body, len) != len)
        return -1;
    return 0;
}

void nb_frame_reader_init(nb_frame_reader *r, int fd)
{
    r->fd = fd;
    r->start = r->end = 0;
}

int nb_frame_reader_has_more(const nb_frame_reader *r)
{
    return r->end > r->start;
}

void nb_frame_reader_close(nb_frame_reader *r)
{
    nb_wipe(r->buf, sizeof(r->buf));
    r->start = r->end = 0;
}

/* Reads what the pipe has (once) after what is held; returns what read()
 * returned. */
static ssize_t fill(nb_frame_reader *r)
{
    if (r->start > 0) { /* keep the unread bytes at the front */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        nb_wipe(r->buf + (r->end - r->start), r->start);
        r->end -= r->start;
        r->start = 0;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, chunk(sizeof(r->buf) - r->end));
        if (n >= 0 || errno != EINTR) {
            if (n > 0)
                r->end += (size_t)n;
            return n;
        }
    }
}

/* Hands out n read-ahead bytes into dst and wipes them where they were. */
static void take(nb_frame_reader *r, void *dst, size_t n)
{
    memcpy(dst, r->buf + r->start, n);
    nb_wipe(r->buf + r->start, n);
    r->start += n;
}

nb_frame_status nb_frame_reader_next(nb_frame_reader *r, char **body, size_t *len, uint32_t *declared)
{
    uint32_t length = 0;
    *body = NULL;
    *len = 0;
    *declared = 0;
    while (r->end - r->start < sizeof(length)) {
        size_t had = r->end - r->start;
        ssize_t n = fill(r);
        if (n == 0)
            return had == 0 ? NB_FRAME_EOF : NB_FRAME_TRUNCATED;
        if (n < 0)
            return NB_FRAME_IO_ERROR;
    }
    memcpy(&length, r->buf + r->start, sizeof(length));
    *declared = length;
    if (length > NB_MAX_REQUEST_BYTES)
        return NB_FRAME_TOO_LARGE; /* the stream is out of step: nothing more is read */
    take(r, &length, sizeof(length));
    if (length == 0)
        return NB_FRAME_EMPTY;
    char *buf = malloc((size_t)length + 1); /* bounded above */
    if (buf == NULL)
        return NB_FRAME_IO_ERROR;
    size_t held = r->end - r->start;
    size_t from_buffer = held < length ? held : length;
    take(r, buf, from_buffer);
    /* A body longer than what came so far: the rest straight into place. */
    if (from_buffer < length &&
        nb_read_exact(r->fd, buf + from_buffer, length - from_buffer) != length - from_buffer) {
        nb_free_wiped(buf); /* the part that came may hold a new PIN */
        return NB_FRAME_TRUNCATED;
    }
    buf[length] = '\0';
    *body = buf;
    *len = length;
    return NB_FRAME_OK;
}
