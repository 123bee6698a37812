/* SPDX-License-Identifier: Apache-2.0 */
#include "relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "frame.h"
#include "log.h"
#include "platform.h"
#include "wipe.h"

/* The main thread reads and answers one frame at a time. Only while a
 * wait-for-change blocks in PC/SC does a watcher thread look at stdin:
 * when the page sends anything (or closes the port) it cancels the wait,
 * and the main thread then reads the frame itself. Requests thus cost no
 * thread hand-off. */
typedef struct {
    const nb_backend *backend;
    int in_fd;
    const nb_frame_reader *reader; /* what was read ahead counts as input */
    nb_context ctx;
    nb_input_watch *watch;
} watcher;

static int input_waiting(const watcher *w)
{
    return nb_frame_reader_has_more(w->reader) || nb_input_ready(w->in_fd);
}

static void cancel_wait(void *arg)
{
    watcher *w = arg;
    w->backend->cancel(w->backend->self, w->ctx); /* safe from another thread */
}

static int wait_begin(void *arg, nb_context ctx)
{
    watcher *w = arg;
    if (input_waiting(w))
        return 0;
    w->ctx = ctx;
    /* Without a watcher, the wait's time slices still end it. */
    w->watch = nb_input_watch_start(w->in_fd, cancel_wait, w);
    return 1;
}

static int wait_end(void *arg)
{
    watcher *w = arg;
    int arrived = nb_input_watch_stop(w->watch);
    w->watch = NULL;
    return arrived || input_waiting(w);
}

static int input_pending(void *arg)
{
    return input_waiting(arg);
}

/* reply NULL: memory ran out while it was made. The page still gets an
 * answer, built without allocating. */
static int send_reply(const nb_session *s, int out_fd, char *reply)
{
    if (reply == NULL) {
        char fallback[NB_ID_TEXT_MAX + 128];
        int n = snprintf(fallback, sizeof(fallback),
                         "{\"id\":%s,\"ok\":false,\"error\":{\"code\":\"internal-error\","
                         "\"message\":\"out of memory\"}}",
                         s->current_id);
        return n > 0 && (size_t)n < sizeof(fallback) ? nb_frame_write(out_fd, fallback, (size_t)n) : -1;
    }
    int rc = nb_frame_write(out_fd, reply, strlen(reply));
    nb_free_wiped(reply); /* it may carry card data */
    return rc;
}

int nb_relay_run(nb_session *s, int in_fd, int out_fd)
{
    /* Allocated once for the host's life, like the exchange buffers. */
    nb_frame_reader *reader = malloc(sizeof(*reader));
    if (reader == NULL)
        return 1;
    nb_frame_reader_init(reader, in_fd);
    watcher w;
    memset(&w, 0, sizeof(w));
    w.backend = s->backend;
    w.in_fd = in_fd;
    w.reader = reader;
    s->wait_hooks = (nb_wait_hooks){
        .arg = &w, .begin = wait_begin, .end = wait_end, .input_pending = input_pending};

    int exit_code = 0;
    for (int running = 1; running;) {
        char *body = NULL;
        size_t len = 0;
        uint32_t declared = 0;
        nb_frame_status status = nb_frame_reader_next(reader, &body, &len, &declared);
        char *reply = NULL;
        snprintf(s->current_id, sizeof(s->current_id), "null"); /* until a request says otherwise */
        switch (status) {
        case NB_FRAME_OK:
            reply = nb_dispatch(s, body, len);
            break;
        case NB_FRAME_EMPTY:
            reply = nb_dispatch_error(NB_ERR_BAD_REQUEST, "empty frame");
            break;
        case NB_FRAME_TOO_LARGE:
            nb_log(NB_LOG_ERROR, "frame of %u bytes refused; closing", declared);
            reply = nb_dispatch_error(NB_ERR_MESSAGE_TOO_LARGE,
                                      "request frame exceeds 262144 bytes; closing");
            running = 0;
            exit_code = 1;
            break;
        case NB_FRAME_TRUNCATED:
            nb_log(NB_LOG_ERROR, "stream ended inside a frame; closing");
            reply = nb_dispatch_error(NB_ERR_BAD_REQUEST, "truncated frame; closing");
            running = 0;
            exit_code = 1;
            break;
        case NB_FRAME_EOF:
            nb_log(NB_LOG_INFO, "browser closed the port");
            running = 0;
            break;
        case NB_FRAME_IO_ERROR:
            nb_log(NB_LOG_ERROR, "read error on stdin; closing");
            running = 0;
            exit_code = 1;
            break;
        }
        nb_free_wiped(body); /* it may have carried a new PIN */
        if (status != NB_FRAME_EOF && status != NB_FRAME_IO_ERROR && send_reply(s, out_fd, reply) != 0) {
            nb_log(NB_LOG_ERROR, "cannot write to stdout; closing");
            exit_code = 1;
            running = 0;
        }
    }
    nb_session_close(s);
    s->wait_hooks = (nb_wait_hooks){0};
    nb_frame_reader_close(reader);
    free(reader);
    return exit_code;
}
