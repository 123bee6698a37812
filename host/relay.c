#include "relay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dispatch.h"
#include "frame.h"
#include "log.h"

#define QUEUE_CAPACITY 16

typedef struct {
    nb_frame_status status;
    char *body;
    size_t len;
    uint32_t declared;
} event;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    event items[QUEUE_CAPACITY];
    size_t head, count;
    int closed; /* the reader thread has stopped */
    /* The wait that a new event must cancel. */
    const nb_backend *backend;
    int waiting;
    nb_context wait_ctx;
    int arrived_while_waiting;
    int in_fd;
} relay;

static int is_final(nb_frame_status st)
{
    return st != NB_FRAME_OK && st != NB_FRAME_EMPTY;
}

static void *reader_main(void *arg)
{
    relay *r = arg;
    for (;;) {
        event ev = {0};
        ev.status = nb_frame_read(r->in_fd, &ev.body, &ev.len, &ev.declared);
        pthread_mutex_lock(&r->lock);
        while (r->count == QUEUE_CAPACITY)
            pthread_cond_wait(&r->not_full, &r->lock);
        r->items[(r->head + r->count) % QUEUE_CAPACITY] = ev;
        r->count++;
        if (r->waiting) {
            r->arrived_while_waiting = 1;
            /* Safe from another thread: it only interrupts the wait. */
            r->backend->cancel(r->backend->self, r->wait_ctx);
        }
        pthread_cond_signal(&r->not_empty);
        int stop = is_final(ev.status);
        if (stop)
            r->closed = 1;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            return NULL;
    }
}

static event next_event(relay *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->count == 0)
        pthread_cond_wait(&r->not_empty, &r->lock);
    event ev = r->items[r->head];
    r->head = (r->head + 1) % QUEUE_CAPACITY;
    r->count--;
    pthread_cond_signal(&r->not_full);
    pthread_mutex_unlock(&r->lock);
    return ev;
}

static int wait_begin(void *arg, nb_context ctx)
{
    relay *r = arg;
    pthread_mutex_lock(&r->lock);
    int ok = r->count == 0;
    if (ok) {
        r->waiting = 1;
        r->wait_ctx = ctx;
        r->arrived_while_waiting = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static int wait_end(void *arg)
{
    relay *r = arg;
    pthread_mutex_lock(&r->lock);
    r->waiting = 0;
    int arrived = r->arrived_while_waiting || r->count > 0;
    r->arrived_while_waiting = 0;
    pthread_mutex_unlock(&r->lock);
    return arrived;
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
    relay r;
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.not_empty, NULL);
    pthread_cond_init(&r.not_full, NULL);
    r.backend = s->backend;
    r.in_fd = in_fd;
    s->wait_hooks = (nb_wait_hooks){.arg = &r, .begin = wait_begin, .end = wait_end};

    pthread_t reader;
    int exit_code = 0;
    if (pthread_create(&reader, NULL, reader_main, &r) != 0) {
        nb_log(NB_LOG_ERROR, "cannot start the reader thread");
        exit_code = 1;
        goto done;
    }
    for (int running = 1; running;) {
        event ev = next_event(&r);
        char *reply = NULL;
        switch (ev.status) {
        case NB_FRAME_OK:
            reply = nb_dispatch(s, ev.body, ev.len);
            break;
        case NB_FRAME_EMPTY:
            reply = nb_dispatch_error(NB_ERR_BAD_REQUEST, "empty frame");
            break;
        case NB_FRAME_TOO_LARGE:
            nb_log(NB_LOG_ERROR, "frame of %u bytes refused; closing", ev.declared);
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
        if (ev.body != NULL)
            OPENSSL_cleanse(ev.body, ev.len); /* it may have carried a new PIN */
        free(ev.body);
        if (reply != NULL && send_reply(out_fd, reply) != 0) {
            nb_log(NB_LOG_ERROR, "cannot write to stdout; closing");
            exit_code = 1;
            running = 0;
        }
    }
    /* The reader thread stops by itself after EOF or a framing error. After
     * a write failure it may still block in read(): leave it to the
     * process exit rather than wait for the browser. */
    pthread_mutex_lock(&r.lock);
    int reader_done = r.closed;
    pthread_mutex_unlock(&r.lock);
    if (!reader_done) {
        pthread_detach(reader);
        nb_session_close(s);
        s->wait_hooks = (nb_wait_hooks){0};
        return exit_code;
    }
    pthread_join(reader, NULL);
    while (r.count > 0) {
        event ev = next_event(&r);
        free(ev.body);
    }
done:
    nb_session_close(s);
    s->wait_hooks = (nb_wait_hooks){0};
    pthread_cond_destroy(&r.not_full);
    pthread_cond_destroy(&r.not_empty);
    pthread_mutex_destroy(&r.lock);
    return exit_code;
}
