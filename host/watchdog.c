/* SPDX-License-Identifier: Apache-2.0 */
#include "watchdog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "log.h"
#include "platform.h"
#include "protocol.h"

#define POLL_MS 100

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    int armed, running, stopping;
    int in_fd, out_fd;
    uint32_t limit_ms;   /* the card timeout */
    uint32_t current_ms; /* the limit of the exchange in progress */
    int finish_first;    /* a script runs: a closed port waits for its end */
    int busy;
    int idle; /* the watcher sleeps until told: wake it when work starts */
    struct timespec since;
    char reply_id[NB_ID_TEXT_MAX];
} wd = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* Called with the lock held; never returns. */
static void give_up(int answer)
{
    if (answer) {
        char reply[NB_ID_TEXT_MAX + 160];
        int n = snprintf(reply, sizeof(reply),
                         "{\"id\":%s,\"ok\":false,\"error\":{\"code\":\"unresponsive-card\","
                         "\"message\":\"The card does not answer; nesbridge-host stops.\"}}",
                         wd.reply_id);
        if (n > 0 && (size_t)n < sizeof(reply))
            nb_frame_write(wd.out_fd, reply, (size_t)n);
    }
    nb_log(NB_LOG_ERROR, "card exchange stuck for %ld ms%s; exiting", elapsed_ms(&wd.since),
           answer ? "" : " and the port closed");
    _Exit(answer ? 1 : 0);
}

static void *watch(void *arg)
{
    (void)arg;
    int quiet_slices = 1;
    pthread_mutex_lock(&wd.lock);
    while (!wd.stopping) {
        if (!wd.busy && quiet_slices >= 1) {
            /* Quiet for a whole slice: sleep until the next exchange. APDUs
             * come in bursts; within one, nobody has to wake this thread. */
            wd.idle = 1;
            pthread_cond_wait(&wd.changed, &wd.lock);
            wd.idle = 0;
            quiet_slices = 0;
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wd.changed, &wd.lock, &until);
        if (wd.stopping)
            break;
        if (!wd.busy) {
            quiet_slices++;
            continue;
        }
        quiet_slices = 0;
        if (!wd.finish_first && nb_input_hung_up(wd.in_fd))
            give_up(0);
        if (elapsed_ms(&wd.since) > (long)wd.current_ms)
            give_up(1);
    }
    pthread_mutex_unlock(&wd.lock);
    return NULL;
}

int nb_watchdog_start(int in_fd, int out_fd, uint32_t limit_ms)
{
    /* The thread itself starts with the first card exchange: a host that
     * only says hello (the common cold start) never pays for it. */
    wd.in_fd = in_fd;
    wd.out_fd = out_fd;
    wd.limit_ms = limit_ms;
    wd.stopping = 0;
    wd.armed = 1;
    return 0;
}

void nb_watchdog_stop(void)
{
    wd.armed = 0;
    if (!wd.running)
        return;
    pthread_mutex_lock(&wd.lock);
    wd.stopping = 1;
    pthread_cond_signal(&wd.changed);
    pthread_mutex_unlock(&wd.lock);
    pthread_join(wd.thread, NULL);
    wd.running = 0;
}

void nb_watchdog_enter(const char *reply_id_json, uint32_t limit_ms)
{
    if (!wd.armed)
        return;
    if (!wd.running) {
        if (pthread_create(&wd.thread, NULL, watch, NULL) != 0)
            return; /* no watchdog; the exchange still runs */
        wd.running = 1;
    }
    pthread_mutex_lock(&wd.lock);
    snprintf(wd.reply_id, sizeof(wd.reply_id), "%s", reply_id_json != NULL ? reply_id_json : "null");
    clock_gettime(CLOCK_MONOTONIC, &wd.since);
    wd.current_ms = limit_ms != 0 ? limit_ms : wd.limit_ms;
    wd.busy = 1;
    if (wd.idle)
        pthread_cond_signal(&wd.changed);
    pthread_mutex_unlock(&wd.lock);
}

void nb_watchdog_finish_first(int on)
{
    pthread_mutex_lock(&wd.lock);
    wd.finish_first = on;
    pthread_mutex_unlock(&wd.lock);
}

void nb_watchdog_leave(void)
{
    if (!wd.running)
        return;
    pthread_mutex_lock(&wd.lock);
    wd.busy = 0;
    pthread_mutex_unlock(&wd.lock);
}
