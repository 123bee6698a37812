/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"

static void note(fake_backend *f, const char *event)
{
    size_t used = strlen(f->events);
    if (used + strlen(event) + 1 <= sizeof(f->events))
        memcpy(f->events + used, event, strlen(event) + 1);
}

static uint32_t f_establish(void *self, nb_context *ctx)
{
    fake_backend *f = self;
    f->establish_calls++;
    if (f->establish_rv != NB_SCARD_S_SUCCESS)
        return f->establish_rv;
    f->contexts_open++;
    *ctx = 0x1000u + (nb_context)f->establish_calls;
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_release(void *self, nb_context ctx)
{
    fake_backend *f = self;
    (void)ctx;
    f->contexts_open--;
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_list_readers(void *self, nb_context ctx, char *buf, size_t *len)
{
    fake_backend *f = self;
    (void)ctx;
    if (f->list_rv != NB_SCARD_S_SUCCESS)
        return f->list_rv;
    if (f->reader_count == 0)
        return NB_SCARD_E_NO_READERS_AVAILABLE;
    size_t used = 0;
    for (size_t i = 0; i < f->reader_count; i++) {
        size_t n = strlen(f->readers[i]) + 1;
        if (used + n + 1 > *len)
            return NB_SCARD_E_INSUFFICIENT_BUFFER;
        memcpy(buf + used, f->readers[i], n);
        used += n;
    }
    buf[used++] = '\0';
    *len = used;
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_get_status_change(void *self, nb_context ctx, uint32_t timeout_ms,
                                    nb_reader_state *states, size_t count)
{
    fake_backend *f = self;
    (void)ctx;
    for (size_t i = 0; i < count; i++) {
        uint32_t st = strcmp(states[i].reader, NB_PNP_READER) == 0 ? 0
                      : f->card_present                       ? NB_STATE_PRESENT
                                                              : NB_STATE_EMPTY;
        states[i].event_state = st;
        states[i].atr_len = f->card_present ? f->atr_len : 0;
        memcpy(states[i].atr, f->atr, states[i].atr_len);
    }
    if (timeout_ms == 0)
        return NB_SCARD_S_SUCCESS;
    if (!f->block_waits) {
        if (f->wait_rv == NB_SCARD_S_SUCCESS && count > 0)
            states[0].event_state = f->wait_event | NB_STATE_CHANGED;
        return f->wait_rv;
    }
    pthread_mutex_lock(&f->lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    while (!f->cancelled && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&f->cond, &f->lock, &deadline);
    uint32_t rv = f->cancelled ? NB_SCARD_E_CANCELLED : NB_SCARD_E_TIMEOUT;
    f->cancelled = 0;
    pthread_mutex_unlock(&f->lock);
    return rv;
}

static uint32_t f_cancel(void *self, nb_context ctx)
{
    fake_backend *f = self;
    (void)ctx;
    pthread_mutex_lock(&f->lock);
    f->cancel_calls++;
    f->cancelled = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_connect(void *self, nb_context ctx, const char *reader, uint32_t share,
                          uint32_t protocols, nb_card *card, uint32_t *active)
{
    fake_backend *f = self;
    (void)ctx;
    (void)protocols;
    int known = 0;
    for (size_t i = 0; i < f->reader_count; i++)
        known |= strcmp(f->readers[i], reader) == 0;
    if (!known)
        return NB_SCARD_E_UNKNOWN_READER;
    if (share != NB_SHARE_DIRECT) {
        if (f->connect_rv != NB_SCARD_S_SUCCESS)
            return f->connect_rv;
        if (!f->card_present)
            return NB_SCARD_E_NO_SMARTCARD;
    }
    f->cards_open++;
    *card = 0x2000u + (nb_card)f->cards_open;
    *active = share == NB_SHARE_DIRECT ? 0 : NB_PROTOCOL_T1;
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_disconnect(void *self, nb_card card, uint32_t disposition)
{
    fake_backend *f = self;
    (void)card;
    (void)disposition;
    note(f, "D");
    f->cards_open--;
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_status(void *self, nb_card card, uint32_t *state, uint32_t *protocol,
                         uint8_t *atr, size_t *atr_len)
{
    fake_backend *f = self;
    (void)card;
    while (f->hang_status)
        pause();
    if (f->status_rv != NB_SCARD_S_SUCCESS)
        return f->status_rv;
    *state = NB_CARD_PRESENT | NB_CARD_POWERED | NB_CARD_SPECIFIC;
    *protocol = NB_PROTOCOL_T1;
    memcpy(atr, f->atr, f->atr_len);
    *atr_len = f->atr_len;
    return NB_SCARD_S_SUCCESS;
}

/* Like pcsc-lite's, a begin held off by another program waits until the
 * other program lets go (here: until the test sets begin_release). */
static uint32_t f_begin(void *self, nb_card card)
{
    fake_backend *f = self;
    (void)card;
    pthread_mutex_lock(&f->lock);
    f->begin_calls++;
    while (f->begin_blocks && !f->begin_release)
        pthread_cond_wait(&f->cond, &f->lock);
    f->transactions_open++;
    note(f, "B");
    pthread_mutex_unlock(&f->lock);
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_end(void *self, nb_card card, uint32_t disposition)
{
    fake_backend *f = self;
    (void)card;
    pthread_mutex_lock(&f->lock);
    f->transactions_open--;
    note(f, disposition == NB_RESET_CARD ? "E1" : disposition == NB_UNPOWER_CARD ? "E2" : "E0");
    pthread_mutex_unlock(&f->lock);
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_transmit(void *self, nb_card card, uint32_t protocol, const uint8_t *cmd,
                           size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
    fake_backend *f = self;
    (void)card;
    (void)protocol;
    f->transmit_calls++;
    char event[8];
    snprintf(event, sizeof(event), "T%02X", cmd_len > 1 ? cmd[1] : 0);
    note(f, event);
    f->last_apdu_len = cmd_len < sizeof(f->last_apdu) ? cmd_len : sizeof(f->last_apdu);
    memcpy(f->last_apdu, cmd, f->last_apdu_len);
    if (f->transmit_rv != NB_SCARD_S_SUCCESS &&
        (f->transmit_fail_after == 0 || f->transmit_calls > f->transmit_fail_after))
        return f->transmit_rv;
    if (f->responder != NULL) {
        *resp_len = f->responder(cmd, cmd_len, resp, f->responder_arg);
    } else {
        resp[0] = 0x90;
        resp[1] = 0x00;
        *resp_len = 2;
    }
    return NB_SCARD_S_SUCCESS;
}

static uint32_t f_control(void *self, nb_card card, uint32_t code, const uint8_t *in,
                          size_t in_len, uint8_t *out, size_t *out_len)
{
    fake_backend *f = self;
    (void)card;
    if (f->pinpad_code != 0 && code == f->pinpad_code && in_len <= sizeof(f->last_control) && *out_len >= 2) {
        memcpy(f->last_control, in, in_len);
        f->last_control_len = in_len;
        note(f, "C");
        uint16_t sw = f->pinpad_sw != 0 ? f->pinpad_sw : 0x9000;
        out[0] = (uint8_t)(sw >> 8);
        out[1] = (uint8_t)sw;
        *out_len = 2;
        return NB_SCARD_S_SUCCESS;
    }
    if (code != NB_IOCTL_GET_FEATURE_REQUEST || f->features_len > *out_len)
        return NB_SCARD_E_UNSUPPORTED_FEATURE;
    memcpy(out, f->features, f->features_len);
    *out_len = f->features_len;
    return NB_SCARD_S_SUCCESS;
}

void fake_init(fake_backend *f)
{
    memset(f, 0, sizeof(*f));
    f->backend = (nb_backend){
        .self = f,
        .establish = f_establish,
        .release = f_release,
        .list_readers = f_list_readers,
        .get_status_change = f_get_status_change,
        .cancel = f_cancel,
        .connect = f_connect,
        .disconnect = f_disconnect,
        .status = f_status,
        .begin_transaction = f_begin,
        .end_transaction = f_end,
        .transmit = f_transmit,
        .control = f_control,
    };
    f->readers[0] = "Fake Reader 00 00";
    f->reader_count = 1;
    f->card_present = 1;
    static const uint8_t atr[] = {0x3B, 0x88, 0x01, 0x80, 0x66, 0x41, 0x4B, 0x49, 0x53, 0x4E, 0x42, 0x73};
    memcpy(f->atr, atr, sizeof(atr));
    f->atr_len = sizeof(atr);
    f->wait_rv = NB_SCARD_E_TIMEOUT;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
}

void fake_destroy(fake_backend *f)
{
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
}
