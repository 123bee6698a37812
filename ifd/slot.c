/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "card.h"
#include "control.h"
#include "files.h"
#include "profile.h"
#include "state.h"
#include "wipe.h"

#define MAX_CLIENTS 4
#define PATH_MAX_LEN 1024
#define DISPLAY_MAX 160

struct nb_slot {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* CLOCK_MONOTONIC: keypad, removal, unmute, closing */
    nb_vcard card;
    uint8_t *cert;
    const nb_vcard_profile *profile;
    char state_path[PATH_MAX_LEN], control_path[PATH_MAX_LEN];
    int inserted;
    double removed_at;
    unsigned long pulls; /* removals so far: a wait notices one that came and went */
    nb_ctl_faults faults;
    int keypad_queued, entry_waiting;
    nb_keypad_input keypad;
    char display[DISPLAY_MAX];
    int stopping;
    int listen_fd, wake[2], clients[MAX_CLIENTS];
    pthread_t thread;
    int thread_started;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec deadline_after_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static int save_state(void *arg, const nb_card_state *st)
{
    return nb_state_save(arg, st);
}

/* Called with the lock held. */
static int present_locked(const nb_slot *s)
{
    return s->inserted && now_s() - s->removed_at >= NB_SLOT_MIN_OUT_MS / 1000.0;
}

static void pull_locked(nb_slot *s)
{
    if (s->inserted)
        s->removed_at = now_s();
    s->inserted = 0;
    s->pulls++;
    nb_vcard_power(&s->card);
    pthread_cond_broadcast(&s->changed);
}

int nb_slot_present(nb_slot *s)
{
    pthread_mutex_lock(&s->lock);
    int present = present_locked(s);
    pthread_mutex_unlock(&s->lock);
    return present;
}

int nb_slot_power(nb_slot *s, int on, uint8_t *atr, size_t *atr_len)
{
    pthread_mutex_lock(&s->lock);
    int rc = present_locked(s) ? 0 : -1;
    nb_vcard_power(&s->card); /* on, off or reset: the RAM state goes */
    if (rc == 0 && on) {
        memcpy(atr, s->profile->atr, s->profile->atr_len);
        *atr_len = s->profile->atr_len;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Waits (lock held) until woken or the deadline; returns 0 on a wake-up,
 * ETIMEDOUT when the time is up. */
static int wait_until(nb_slot *s, const struct timespec *deadline)
{
    return pthread_cond_timedwait(&s->changed, &s->lock, deadline);
}

int nb_slot_transmit(nb_slot *s, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap,
                     size_t *resp_len)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    unsigned long pulls = s->pulls;
    long wait_ms = 0;
    if (!present_locked(s))
        goto done;
    if (nb_ctl_faults_before(&s->faults, &wait_ms)) {
        /* Mute: wait until unmuted, pulled or closing, at most the limit. */
        struct timespec deadline = deadline_after_ms(NB_SLOT_MUTE_LIMIT_MS);
        while (s->faults.mute && !s->stopping && s->pulls == pulls)
            if (wait_until(s, &deadline) == ETIMEDOUT)
                goto done;
        goto done; /* the command was lost either way */
    }
    if (wait_ms > 0) {
        struct timespec deadline = deadline_after_ms(wait_ms);
        while (!s->stopping && s->pulls == pulls && wait_until(s, &deadline) != ETIMEDOUT)
            ;
        if (s->stopping || s->pulls != pulls)
            goto done;
    }
    *resp_len = nb_vcard_process(&s->card, cmd, len, resp, cap);
    if (nb_ctl_faults_after(&s->faults)) {
        nb_wipe(resp, *resp_len);
        pull_locked(s); /* after processing, before the answer leaves */
        goto done;
    }
    rc = 0;
done:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* What the reader's display shows for these prompts. */
static void show(nb_slot *s, const nb_pin_prompts *p)
{
    s->display[0] = '\0';
    size_t n = 0;
    for (unsigned k = 0; p->shown && k < p->count; k++) {
        const char *text = nb_pin_message(p->lang, p->index[k]);
        int w = snprintf(s->display + n, sizeof(s->display) - n, "%s%s", n > 0 ? "|" : "",
                         text != NULL ? text : "-");
        if (w < 0 || (size_t)w >= sizeof(s->display) - n)
            break;
        n += (size_t)w;
    }
}

nb_entry_outcome nb_slot_keypad(nb_slot *s, unsigned timeout_s, const nb_pin_prompts *prompts,
                                nb_keypad_input *typed)
{
    pthread_mutex_lock(&s->lock);
    nb_entry_outcome outcome = NB_ENTRY_NO_CARD;
    unsigned long pulls = s->pulls;
    show(s, prompts);
    struct timespec deadline = deadline_after_ms((long)timeout_s * 1000);
    s->entry_waiting = 1;
    while (present_locked(s) && s->pulls == pulls && !s->stopping && !s->keypad_queued)
        if (wait_until(s, &deadline) == ETIMEDOUT)
            break;
    s->entry_waiting = 0;
    if (!present_locked(s) || s->pulls != pulls || s->stopping) {
        outcome = NB_ENTRY_NO_CARD;
    } else if (!s->keypad_queued) {
        outcome = NB_ENTRY_TIMED_OUT; /* nothing typed within bTimerOut */
    } else if (s->keypad.kind == NB_KEYPAD_CANCEL) {
        outcome = NB_ENTRY_CANCELLED;
    } else if (s->keypad.kind == NB_KEYPAD_TIMEOUT) {
        outcome = NB_ENTRY_TIMED_OUT;
    } else {
        *typed = s->keypad;
        outcome = NB_ENTRY_TYPED;
    }
    s->keypad_queued = 0;
    nb_wipe(&s->keypad, sizeof(s->keypad));
    pthread_mutex_unlock(&s->lock);
    return outcome;
}

/* ---- The control socket ---- */

static void control_command(nb_slot *s, char *line, char *reply, size_t cap)
{
    nb_ctl_command cmd;
    const char *why = NULL;
    int parsed = nb_ctl_parse(line, &cmd, &why);
    pthread_mutex_lock(&s->lock);
    if (parsed != 0) {
        snprintf(reply, cap, "error %s\n", why);
    } else if (nb_ctl_faults_apply(&s->faults, &cmd, reply, cap)) {
        pthread_cond_broadcast(&s->changed); /* "mute off" frees a waiting exchange */
    } else if (cmd.kind == NB_CTL_REMOVE) {
        pull_locked(s);
        snprintf(reply, cap, "ok removed\n");
    } else if (cmd.kind == NB_CTL_INSERT) {
        s->inserted = 1;
        snprintf(reply, cap, "ok inserting\n");
    } else if (cmd.kind == NB_CTL_STATUS) {
        char extra[DISPLAY_MAX + 64];
        snprintf(extra, sizeof(extra), "keypad=%s display=%s",
                 s->entry_waiting ? "waiting" : s->keypad_queued ? "queued" : "none",
                 s->display[0] != '\0' ? s->display : "-");
        nb_ctl_status(&s->card, s->inserted, present_locked(s), s->faults.apdus, extra, reply, cap);
    } else if (cmd.kind == NB_CTL_RESET_STATE) {
        int rc = nb_state_reinit(s->state_path, &s->card.state, cmd.word);
        nb_vcard_power(&s->card);
        s->keypad_queued = 0;
        nb_wipe(&s->keypad, sizeof(s->keypad));
        snprintf(reply, cap, rc == 0 ? "ok state %s\n" : "error bad state %s\n", cmd.word);
    } else if (cmd.kind == NB_CTL_KEYPAD) {
        s->keypad = cmd.keypad;
        s->keypad_queued = 1;
        snprintf(reply, cap, s->entry_waiting ? "ok keypad typed\n" : "ok keypad queued\n");
        pthread_cond_broadcast(&s->changed);
    } else if (cmd.kind == NB_CTL_QUIT) {
        snprintf(reply, cap, "error the pinpad reader's card lives in pcscd: make vcard-down stops it\n");
    } else {
        snprintf(reply, cap, "error unknown command\n");
    }
    pthread_mutex_unlock(&s->lock);
    nb_wipe(&cmd, sizeof(cmd));
}

static void serve_client(nb_slot *s, int i)
{
    char line[NB_CTL_LINE_MAX], reply[NB_CTL_REPLY_MAX];
    ssize_t got = read(s->clients[i], line, sizeof(line) - 1);
    if (got <= 0) {
        close(s->clients[i]);
        s->clients[i] = -1;
        return;
    }
    line[got] = '\0';
    control_command(s, line, reply, sizeof(reply));
    nb_wipe(line, sizeof(line));
    /* Never SIGPIPE: this runs inside pcscd. */
    ssize_t ignored = send(s->clients[i], reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
}

static void accept_client(nb_slot *s)
{
    int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (s->clients[i] < 0) {
            s->clients[i] = c;
            return;
        }
    }
    close(c);
}

static void *control_thread(void *arg)
{
    nb_slot *s = arg;
    for (;;) {
        struct pollfd fds[2 + MAX_CLIENTS];
        fds[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        fds[1] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++)
            fds[2 + i] = (struct pollfd){.fd = s->clients[i], .events = POLLIN};
        if (poll(fds, 2 + MAX_CLIENTS, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents != 0)
            break; /* closing */
        if (fds[1].revents & POLLIN)
            accept_client(s);
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (s->clients[i] >= 0 && (fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
                serve_client(s, i);
    }
    return NULL;
}

/* ---- Opening and closing ---- */

typedef struct {
    char state[PATH_MAX_LEN], control[PATH_MAX_LEN], cert[PATH_MAX_LEN];
    char serial[NB_SERIAL_MAX + 1], init[16], profile[16];
} slot_config;

static int set_value(char *dst, size_t cap, const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n >= cap)
        return -1;
    memcpy(dst, value, n + 1);
    return 0;
}

static int read_config(const char *path, slot_config *c)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->serial, "NB0000000002", 13);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    char line[PATH_MAX_LEN + 32];
    int rc = 0, lines = 0;
    while (rc == 0 && lines++ < 32 && fgets(line, sizeof(line), f) != NULL) {
        const char *key = NULL, *value = NULL;
        int kind = nb_ctl_key_value(line, &key, &value);
        if (kind <= 0) {
            rc = kind;
            continue;
        }
        rc = strcmp(key, "state") == 0     ? set_value(c->state, sizeof(c->state), value)
             : strcmp(key, "control") == 0 ? set_value(c->control, sizeof(c->control), value)
             : strcmp(key, "cert") == 0    ? set_value(c->cert, sizeof(c->cert), value)
             : strcmp(key, "serial") == 0  ? set_value(c->serial, sizeof(c->serial), value)
             : strcmp(key, "init") == 0    ? set_value(c->init, sizeof(c->init), value)
             : strcmp(key, "profile") == 0 ? set_value(c->profile, sizeof(c->profile), value)
                                           : -1;
    }
    fclose(f);
    return rc == 0 && c->state[0] != '\0' ? 0 : -1;
}

static nb_slot *new_slot(void)
{
    nb_slot *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, &attr);
    pthread_condattr_destroy(&attr);
    s->listen_fd = -1;
    s->wake[0] = s->wake[1] = -1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        s->clients[i] = -1;
    s->inserted = 1;
    s->removed_at = -1e9;
    nb_ctl_faults_init(&s->faults);
    return s;
}

/* The card and its files, from the configuration. */
static const char *load_card(nb_slot *s, const slot_config *c)
{
    const char *why = NULL;
    if ((s->profile = nb_vcard_profile_find(c->profile)) == NULL)
        return "unknown profile";
    memcpy(s->state_path, c->state, sizeof(s->state_path));
    memcpy(s->control_path, c->control, sizeof(s->control_path));
    if (nb_state_open(s->state_path, c->serial, NB_DEMO_MASTER_KEY, c->init[0] != '\0' ? c->init : NULL,
                      &s->card.state, &why) != 0)
        return why;
    if (c->cert[0] != '\0') {
        if ((s->cert = nb_file_read_cert(c->cert, &s->card.cert_len)) == NULL)
            return "cannot read the certificate (16 KiB at most)";
        s->card.cert = s->cert;
    }
    s->card.save = save_state;
    s->card.save_arg = s->state_path;
    nb_vcard_power(&s->card);
    return NULL;
}

static const char *start_control(nb_slot *s)
{
    if (s->control_path[0] == '\0')
        return NULL; /* no socket asked for */
    if (pipe2(s->wake, O_CLOEXEC) != 0)
        return "no pipe";
    if ((s->listen_fd = nb_ctl_listen(s->control_path)) < 0)
        return "cannot listen on the control socket";
    if (pthread_create(&s->thread, NULL, control_thread, s) != 0)
        return "cannot start the control thread";
    s->thread_started = 1;
    return NULL;
}

nb_slot *nb_slot_open(const char *config_path)
{
    slot_config c;
    nb_slot *s = NULL;
    const char *why = "out of memory";
    if (config_path == NULL || read_config(config_path, &c) != 0)
        why = "unreadable configuration (state=FILE required; control, cert, serial, init, profile)";
    else if ((s = new_slot()) != NULL && (why = load_card(s, &c)) == NULL)
        why = start_control(s);
    if (why != NULL) {
        fprintf(stderr, "nesbridge pinpad reader: %s: %s\n", config_path != NULL ? config_path : "-", why);
        if (s != NULL)
            nb_slot_close(s);
        s = NULL;
    }
    nb_wipe(&c, sizeof(c));
    return s;
}

void nb_slot_stop(nb_slot *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->changed); /* a waiting entry or exchange ends */
    pthread_mutex_unlock(&s->lock);
    if (s->thread_started) {
        ssize_t ignored = write(s->wake[1], "x", 1);
        (void)ignored;
        pthread_join(s->thread, NULL);
        s->thread_started = 0;
    }
}

void nb_slot_close(nb_slot *s)
{
    if (s == NULL)
        return;
    nb_slot_stop(s);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (s->clients[i] >= 0)
            close(s->clients[i]);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->control_path);
    }
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s->cert);
    nb_wipe(s, sizeof(*s));
    free(s);
}
