/* SPDX-License-Identifier: Apache-2.0 */
#include "transaction.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_io.h"
#include "errors.h"
#include "log.h"
#include "watchdog.h"

#define SLICE_MS 10

/* Shared by the host and the helper thread; whoever is last frees it. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    const nb_backend *backend;
    nb_card card;
    int done, abandoned;
    uint32_t rv;
} begin_job;

uint32_t nb_card_timeout_ms(const nb_session *s)
{
    unsigned configured = s->config != NULL ? s->config->card_timeout_ms : 0;
    return configured != 0 ? configured : NB_CARD_TIMEOUT_MS_DEFAULT;
}

/* Waits given up on that still go on, by card: at most one per card, and
 * no more than there can be handles, so that a page cannot pile them up. */
static struct {
    pthread_mutex_t lock;
    nb_card cards[NB_MAX_HANDLES];
    size_t count;
} pending = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int pending_refuses(nb_card card)
{
    pthread_mutex_lock(&pending.lock);
    int refuse = pending.count == NB_MAX_HANDLES;
    for (size_t i = 0; i < pending.count; i++)
        refuse |= pending.cards[i] == card;
    pthread_mutex_unlock(&pending.lock);
    return refuse;
}

static void pending_add(nb_card card)
{
    pthread_mutex_lock(&pending.lock);
    if (pending.count < NB_MAX_HANDLES)
        pending.cards[pending.count++] = card;
    pthread_mutex_unlock(&pending.lock);
}

static void pending_remove(nb_card card)
{
    pthread_mutex_lock(&pending.lock);
    for (size_t i = 0; i < pending.count; i++) {
        if (pending.cards[i] == card) {
            pending.cards[i] = pending.cards[--pending.count];
            break;
        }
    }
    pthread_mutex_unlock(&pending.lock);
}

static void job_free(begin_job *job)
{
    pthread_cond_destroy(&job->done_cond);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

static void *run_begin(void *arg)
{
    begin_job *job = arg;
    uint32_t rv = job->backend->begin_transaction(job->backend->self, job->card);
    pthread_mutex_lock(&job->lock);
    if (job->abandoned) {
        pthread_mutex_unlock(&job->lock);
        /* Nobody waits for it any more: never keep a card we did not
         * report holding. */
        if (rv == NB_SCARD_S_SUCCESS)
            job->backend->end_transaction(job->backend->self, job->card, NB_LEAVE_CARD);
        pending_remove(job->card);
        job_free(job);
        return NULL;
    }
    job->rv = rv;
    job->done = 1;
    pthread_cond_signal(&job->done_cond);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

static int another_handle_holds(const nb_session *s, const nb_handle *h)
{
    for (size_t i = 0; i < NB_MAX_HANDLES; i++) {
        const nb_handle *other = &s->handles[i];
        if (other != h && other->in_use && other->in_transaction && strcmp(other->reader, h->reader) == 0)
            return 1;
    }
    return 0;
}

static int input_pending(const nb_session *s)
{
    return s->wait_hooks.input_pending != NULL && s->wait_hooks.input_pending(s->wait_hooks.arg);
}

static void deadline_after(struct timespec *t, long ms)
{
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000L + (now.tv_nsec - start->tv_nsec) / 1000000L;
}

/* Waits for the helper in short slices, watching the clock and the input.
 * Called and returns with job->lock held. */
static uint32_t await_job(nb_session *s, begin_job *job, uint32_t limit_ms)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!job->done) {
        struct timespec slice;
        deadline_after(&slice, SLICE_MS);
        pthread_cond_timedwait(&job->done_cond, &job->lock, &slice);
        if (job->done)
            break;
        if (input_pending(s))
            return NB_SCARD_E_CANCELLED;
        if (ms_since(&start) >= (long)limit_ms)
            return NB_SCARD_E_SHARING_VIOLATION;
    }
    return job->rv;
}

uint32_t nb_transaction_begin(nb_session *s, nb_handle *h, uint32_t limit_ms)
{
    if (another_handle_holds(s, h) || pending_refuses(h->card))
        return NB_SCARD_E_SHARING_VIOLATION;
    begin_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        return NB_SCARD_E_NO_MEMORY;
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->done_cond, NULL);
    job->backend = s->backend;
    job->card = h->card;
    pthread_t thread;
    pthread_attr_t attr;
    int started = pthread_attr_init(&attr) == 0;
    if (started) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, run_begin, job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        job_free(job);
        return NB_SCARD_E_NO_MEMORY;
    }
    pthread_mutex_lock(&job->lock);
    uint32_t rv = await_job(s, job, limit_ms);
    int finished = job->done;
    if (!finished) {
        job->abandoned = 1; /* the helper frees the job */
        pending_add(job->card);
    }
    pthread_mutex_unlock(&job->lock);
    if (finished)
        job_free(job);
    else
        nb_log(NB_LOG_INFO, "transaction wait on handle %u given up (%s)", h->id,
               rv == NB_SCARD_E_CANCELLED ? "input arrived" : "timed out");
    return rv;
}

nb_error nb_transaction_refused(nb_session *s, nb_handle *h, uint32_t rv, nb_outcome *out)
{
    if (rv == NB_SCARD_E_SHARING_VIOLATION)
        return nb_fail(out, NB_ERR_SHARING_VIOLATION, "another program or handle holds the card in a transaction");
    if (rv == NB_SCARD_E_CANCELLED) {
        s->last_wait_cancelled = 1; /* what the next cancel reports */
        return nb_fail(out, NB_ERR_SYSTEM_CANCELLED, "the wait for the card was cancelled by the next request");
    }
    if (rv == NB_SCARD_E_NO_MEMORY)
        return nb_fail(out, NB_ERR_INTERNAL, "no thread for the transaction wait");
    return nb_card_fail(s, h, out, rv);
}
