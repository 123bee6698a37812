#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dispatch.h"
#include "frame.h"
#include "log.h"

/* The main thread reads and answers one frame at a time. Only while a
 * wait-for-change blocks in PC/SC does a watcher thread look at stdin:
 * when the page sends anything (or closes the port) it cancels the wait,
 * and the main thread then reads the frame itself. Requests thus cost no
 * thread hand-off. */
typedef struct {
    const nb_backend *backend;
    int in_fd;
    nb_context ctx;
    int stop_pipe[2]; /* written to end the watcher */
    pthread_t thread;
    int running;
    volatile int input_arrived;
} watcher;

static void *watch_main(void *arg)
{
    watcher *w = arg;
    struct pollfd fds[2] = {
        {.fd = w->in_fd, .events = POLLIN},
        {.fd = w->stop_pipe[0], .events = POLLIN},
    };
    for (;;) {
        int n = poll(fds, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (fds[1].revents & POLLIN))
            return NULL;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            w->input_arrived = 1;
            w->backend->cancel(w->backend->self, w->ctx); /* safe from another thread */
            return NULL;
        }
    }
}

static int input_pending(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static int wait_begin(void *arg, nb_context ctx)
{
    watcher *w = arg;
    if (input_pending(w->in_fd))
        return 0;
    w->ctx = ctx;
    w->input_arrived = 0;
    if (pipe(w->stop_pipe) != 0)
        return 1; /* no watcher: the wait's time slices still end it */
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
        return 1;
    }
    w->running = 1;
    return 1;
}

static int wait_end(void *arg)
{
    watcher *w = arg;
    if (w->running) {
        ssize_t ignored = write(w->stop_pipe[1], "x", 1);
        (void)ignored;
        pthread_join(w->thread, NULL);
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
        w->running = 0;
    }
    return w->input_arrived || input_pending(w->in_fd);
}

static int send_reply(int out_fd, char *reply)
{
    if (reply == NULL)
        reply = nb_dispatch_error(NB_ERR_INTERNAL, "out of memory");
    if (reply == NULL)
        return -1;
    int rc = nb_frame_write(out_fd, reply, strlen(reply));
    free(reply);
    return rc;
}

int nb_relay_run(nb_session *s, int in_fd, int out_fd)
{
    watcher w;
    memset(&w, 0, sizeof(w));
    w.backend = s->backend;
    w.in_fd = in_fd;
    s->wait_hooks = (nb_wait_hooks){.arg = &w, .begin = wait_begin, .end = wait_end};

    int exit_code = 0;
    for (int running = 1; running;) {
        char *body = NULL;
        size_t len = 0;
        uint32_t declared = 0;
        nb_frame_status status = nb_frame_read(in_fd, &body, &len, &declared);
        char *reply = NULL;
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
        if (body != NULL)
            OPENSSL_cleanse(body, len); /* it may have carried a new PIN */
        free(body);
        if (reply != NULL && send_reply(out_fd, reply) != 0) {
            nb_log(NB_LOG_ERROR, "cannot write to stdout; closing");
            exit_code = 1;
            running = 0;
        }
    }
    nb_session_close(s);
    s->wait_hooks = (nb_wait_hooks){0};
    return exit_code;
}
