/* SPDX-License-Identifier: Apache-2.0 */
/* Native messaging framing: a 32-bit length in native byte order, then
 * that many bytes of UTF-8 JSON. */
#ifndef NB_FRAME_H
#define NB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define NB_MAX_REQUEST_BYTES (256u * 1024u) /* what the host accepts */
#define NB_MAX_REPLY_BYTES (1024u * 1024u)  /* Chrome's limit towards the extension */

typedef enum {
    NB_FRAME_OK,        /* a whole frame was read */
    NB_FRAME_EOF,       /* the stream ended cleanly between frames */
    NB_FRAME_EMPTY,     /* a frame of length 0; the stream is still in step */
    NB_FRAME_TOO_LARGE, /* declared length over the limit; stream out of step */
    NB_FRAME_TRUNCATED, /* the stream ended inside a frame */
    NB_FRAME_IO_ERROR   /* read failed */
} nb_frame_status;

/* A reader that asks the pipe for as much as it has: one read() per
 * request when a frame arrives whole, however the length and body came.
 * What it holds past the current frame stays for the next one. */
#define NB_FRAME_READ_AHEAD 16384u
typedef struct {
    int fd;
    size_t start, end; /* buf[start..end) is read but not yet handed out */
    uint8_t buf[NB_FRAME_READ_AHEAD];
} nb_frame_reader;

void nb_frame_reader_init(nb_frame_reader *r, int fd);

/* The next frame, as nb_frame_read. Every byte handed out is wiped from
 * the read-ahead (a body may carry a new PIN). */
nb_frame_status nb_frame_reader_next(nb_frame_reader *r, char **body, size_t *len, uint32_t *declared);

/* Whether bytes of a next frame are already read ahead. */
int nb_frame_reader_has_more(const nb_frame_reader *r);

/* Wipes what is left in the read-ahead. */
void nb_frame_reader_close(nb_frame_reader *r);

/* Reads one frame. On NB_FRAME_OK *body is a malloc'd copy of the payload,
 * NUL-terminated (not counted in *len); the caller frees it. *declared
 * receives the length word when one was read (else 0). */
nb_frame_status nb_frame_read(int fd, char **body, size_t *len, uint32_t *declared);

/* Writes one frame, with one write() when it is small (a reply's length
 * and body together: one system call, one wake-up of the reader); refuses (returns -1) a payload over NB_MAX_REPLY_BYTES
 * or a write failure. Returns 0 on success. */
int nb_frame_write(int fd, const char *body, size_t len);

/* Reads or writes exactly len bytes, retrying on EINTR and short transfers.
 * Return the number of bytes moved (less than len only on EOF or error). */
size_t nb_read_exact(int fd, void *buf, size_t len);
size_t nb_write_exact(int fd, const void *buf, size_t len);

#endif
