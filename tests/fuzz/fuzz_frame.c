/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the two frame readers over pipes, frame after frame, each the
 * other's oracle. nb_frame_read gets the stream at once; the read-ahead
 * reader the host uses (nb_frame_reader_next) gets it in chunks whose sizes
 * the input's first byte chooses, each written only once the reader has
 * taken the last, so lengths and bodies split anywhere. Both must hand out
 * the same frames and stop the same way. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "frame.h"

#define MAX_FRAMES 64

typedef struct {
    int fd;
    const uint8_t *data;
    size_t size;
    uint8_t seed;
    atomic_int reader_done;
} chunk_writer;

/* Chunk sizes from 1 to 64, from a small generator seeded by the input. */
static size_t next_chunk(uint8_t *state)
{
    *state = (uint8_t)(*state * 37u + 11u);
    return (size_t)(*state % 64u) + 1u;
}

static void *write_chunks(void *arg)
{
    chunk_writer *w = arg;
    uint8_t state = w->seed;
    for (size_t at = 0; at < w->size && !atomic_load(&w->reader_done);) {
        size_t n = next_chunk(&state);
        if (n > w->size - at)
            n = w->size - at;
        if (nb_write_exact(w->fd, w->data + at, n) != n)
            break;
        at += n;
        /* Until the reader has taken it all, or stopped reading. */
        int pending = 1;
        while (pending > 0 && !atomic_load(&w->reader_done) && ioctl(w->fd, FIONREAD, &pending) == 0)
            sched_yield();
    }
    close(w->fd);
    return NULL;
}

typedef struct {
    nb_frame_status status;
    uint32_t declared;
    size_t len;
    char *body;
} frame_seen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 60000) /* the whole stream fits in a pipe */
        return 0;
    uint8_t seed = data[0];
    data++;
    size--;

    /* The plain reader, the stream written at once. */
    int whole[2];
    if (pipe(whole) != 0)
        return 0;
    if (nb_write_exact(whole[1], data, size) != size)
        abort();
    close(whole[1]);
    frame_seen expected[MAX_FRAMES];
    size_t frames = 0;
    while (frames < MAX_FRAMES) {
        frame_seen *f = &expected[frames++];
        f->status = nb_frame_read(whole[0], &f->body, &f->len, &f->declared);
        if (f->status != NB_FRAME_OK && f->status != NB_FRAME_EMPTY)
            break;
    }
    close(whole[0]);

    /* The read-ahead reader, the stream in chunks. */
    int chunked[2];
    if (pipe(chunked) != 0)
        abort();
    chunk_writer w = {.fd = chunked[1], .data = data, .size = size, .seed = seed};
    atomic_init(&w.reader_done, 0);
    pthread_t writer;
    if (pthread_create(&writer, NULL, write_chunks, &w) != 0)
        abort();
    nb_frame_reader *reader = malloc(sizeof(*reader));
    if (reader == NULL)
        abort();
    nb_frame_reader_init(reader, chunked[0]);
    for (size_t i = 0; i < frames; i++) {
        char *body = NULL;
        size_t len = 0;
        uint32_t declared = 0;
        nb_frame_status status = nb_frame_reader_next(reader, &body, &len, &declared);
        const frame_seen *f = &expected[i];
        if (status != f->status || declared != f->declared || len != f->len ||
            (body == NULL) != (f->body == NULL) || (body != NULL && memcmp(body, f->body, len + 1) != 0))
            abort(); /* the readers disagree */
        free(body);
        free(f->body);
    }
    nb_frame_reader_close(reader);
    free(reader);
    /* The writer stops; its writes never block (the stream fits in the
     * pipe), and the read end closes only after it, or it would SIGPIPE. */
    atomic_store(&w.reader_done, 1);
    pthread_join(writer, NULL);
    close(chunked[0]);
    return 0;
}
