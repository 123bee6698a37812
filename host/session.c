/* SPDX-License-Identifier: Apache-2.0 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "crypto_load.h"
#include "errors.h"
#include "log.h"
#include "platform.h"
#include "watchdog.h"
#include "wipe.h"

void nb_session_init(nb_session *s, const nb_backend *backend, const nb_config *config,
                     int caller_allowed)
{
    memset(s, 0, sizeof(*s));
    s->backend = backend;
    s->config = config;
    s->caller_allowed = caller_allowed;
    s->clock = NULL;
}

const nb_trust_store *nb_session_trust(nb_session *s)
{
    /* Loaded once. Failing (memory, libcrypto) is not remembered: the next
     * signed script tries again. */
    if (s->trust == NULL && s->trust_dirs != NULL) {
        s->trust_loaded = nb_trust_load(nb_crypto_loaded(), s->trust_dirs, s->trust_dir_count);
        s->trust = s->trust_loaded;
        nb_log(NB_LOG_INFO, "%zu authority keys trusted", nb_trust_count(s->trust));
    }
    return s->trust;
}

nb_io_buffers *nb_session_io(nb_session *s)
{
    if (s->io == NULL)
        s->io = malloc(sizeof(*s->io));
    return s->io;
}

time_t nb_session_now(const nb_session *s)
{
    return s->clock != NULL ? s->clock() : time(NULL);
}

uint32_t nb_session_context(nb_session *s, nb_context *ctx)
{
    if (!s->have_ctx) {
        uint32_t rv = s->backend->establish(s->backend->self, &s->ctx);
        if (rv != NB_SCARD_S_SUCCESS) {
            nb_log(NB_LOG_ERROR, "cannot establish a PC/SC context: 0x%08X", rv);
            return rv;
        }
        s->have_ctx = 1;
    }
    *ctx = s->ctx;
    return NB_SCARD_S_SUCCESS;
}

void nb_session_note_rv(nb_session *s, uint32_t rv)
{
    if (!nb_pcsc_context_lost(rv) || !s->have_ctx)
        return;
    nb_log(NB_LOG_INFO, "PC/SC service lost (0x%08X); will reconnect on next request", rv);
    /* The handles belong to the dead context; the release may fail too. */
    for (size_t i = 0; i < NB_MAX_HANDLES; i++)
        nb_session_forget_handle(s, &s->handles[i]);
    s->backend->release(s->backend->self, s->ctx);
    s->have_ctx = 0;
    s->ctx = 0;
}

nb_handle *nb_session_find(nb_session *s, uint32_t id)
{
    for (size_t i = 0; i < NB_MAX_HANDLES; i++)
        if (s->handles[i].in_use && s->handles[i].id == id)
            return &s->handles[i];
    return NULL;
}

static uint32_t fresh_handle_id(nb_session *s)
{
    for (;;) {
        uint32_t id = 0;
        if (nb_random_bytes(&id, sizeof(id)) != 0)
            return 0;
        id &= 0x7FFFFFFFu; /* stays a safe integer in every JSON reader */
        if (id != 0 && nb_session_find(s, id) == NULL)
            return id;
    }
}

nb_handle *nb_session_new_handle(nb_session *s)
{
    for (size_t i = 0; i < NB_MAX_HANDLES; i++) {
        nb_handle *h = &s->handles[i];
        if (!h->in_use) {
            uint32_t id = fresh_handle_id(s);
            if (id == 0)
                return NULL;
            memset(h, 0, sizeof(*h));
            h->id = id;
            return h;
        }
    }
    return NULL;
}

void nb_session_forget_handle(nb_session *s, nb_handle *h)
{
    nb_nonce_forget_handle(&s->nonces, h->id);
    memset(h, 0, sizeof(*h));
}

void nb_session_close(nb_session *s)
{
    const nb_backend *b = s->backend;
    for (size_t i = 0; i < NB_MAX_HANDLES; i++) {
        nb_handle *h = &s->handles[i];
        if (!h->in_use)
            continue;
        nb_watchdog_enter(s->current_id, 0); /* a card that hangs here ends the host */
        if (h->in_transaction)
            b->end_transaction(b->self, h->card, NB_LEAVE_CARD);
        b->disconnect(b->self, h->card, NB_LEAVE_CARD);
        nb_watchdog_leave();
        nb_session_forget_handle(s, h);
    }
    if (s->have_ctx)
        b->release(b->self, s->ctx);
    s->have_ctx = 0;
    nb_free_wiped(s->io);
    s->io = NULL;
}
