/* SPDX-License-Identifier: Apache-2.0 */
/* Commands about the service and its readers: hello, list-readers,
 * wait-for-change, cancel. */
#include <stdlib.h>
#include <string.h>

#include "cmd_readers.h"
#include "log.h"
#include "pinpad.h"
#include "readers.h"
#include "version.h"
#include "watchdog.h"

#define READER_LIST_BYTES 4096
#define WAIT_SLICE_MS 250u      /* bounds how long a missed cancel can delay */

nb_error nb_cmd_hello(nb_session *s, const cJSON *args, nb_outcome *out)
{
    /* Any integer names a protocol: one this host does not speak, however
     * large, is a version mismatch; a fraction names none. */
    double version = cJSON_GetObjectItemCaseSensitive(args, "protocol")->valuedouble;
    if (!nb_is_whole(version))
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument protocol must be an integer");
    if (version != NB_PROTOCOL_VERSION)
        return nb_fail(out, NB_ERR_VERSION_MISMATCH, "this host speaks protocol %d",
                       NB_PROTOCOL_VERSION);
    s->hello_done = 1;
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "protocol", NB_PROTOCOL_VERSION);
    cJSON_AddStringToObject(result, "host_version", NB_HOST_VERSION);
    cJSON *features = cJSON_AddArrayToObject(result, "features");
    static const char *const feature_names[] = {"wait-for-change", "cancel", "get-response",
                                                "pinpad-detect", "transactions"};
    for (size_t i = 0; features != NULL && i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
        cJSON_AddItemToArray(features, cJSON_CreateString(feature_names[i]));
    out->result = result;
    return NB_OK;
}

/* Splits the list into at most max entries of acceptable length; sets
 * *left_out when a reader was dropped (too many, or its name too long). */
static size_t split_names(const char *names, const char **out, size_t max, int *left_out)
{
    size_t n = 0;
    *left_out = 0;
    for (const char *p = names; *p != '\0'; p += strlen(p) + 1) {
        if (n < max && strlen(p) <= NB_MAX_READER_NAME)
            out[n++] = p;
        else
            *left_out = 1;
    }
    return n;
}

/* Asks a reader for its PC/SC part 10 features over a direct connection. */
static void add_pinpad_features(nb_session *s, nb_context ctx, const char *reader, cJSON *entry)
{
    const nb_backend *b = s->backend;
    int verify = 0, modify = 0;
    nb_card card = 0;
    uint32_t proto = 0;
    nb_watchdog_enter(s->current_id, 0); /* a reader's driver may hang too */
    if (b->connect(b->self, ctx, reader, NB_SHARE_DIRECT, 0, &card, &proto) == NB_SCARD_S_SUCCESS) {
        uint8_t tlv[256];
        size_t len = sizeof(tlv);
        if (b->control(b->self, card, NB_IOCTL_GET_FEATURE_REQUEST, NULL, 0, tlv, &len) ==
            NB_SCARD_S_SUCCESS) {
            uint32_t code = 0;
            verify = nb_pinpad_feature(tlv, len, NB_FEATURE_VERIFY_PIN_DIRECT, &code);
            modify = nb_pinpad_feature(tlv, len, NB_FEATURE_MODIFY_PIN_DIRECT, &code);
        }
        b->disconnect(b->self, card, NB_LEAVE_CARD);
    }
    nb_watchdog_leave();
    cJSON *pinpad = cJSON_AddObjectToObject(entry, "pinpad");
    cJSON_AddBoolToObject(pinpad, "verify", verify);
    cJSON_AddBoolToObject(pinpad, "modify", modify);
}

/* Reads the current state of each named reader (no waiting). */
static uint32_t snapshot(nb_session *s, nb_context ctx, nb_reader_state *states, size_t n)
{
    for (size_t i = 0; i < n; i++)
        states[i].current_state = NB_STATE_UNAWARE;
    if (n == 0)
        return NB_SCARD_S_SUCCESS;
    return s->backend->get_status_change(s->backend->self, ctx, 0, states, n);
}

static cJSON *reader_entry(const nb_reader_state *st)
{
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "name", st->reader);
    nb_state_to_json(entry, "state", st->event_state);
    nb_add_atr(entry, (st->event_state & NB_STATE_PRESENT) ? st->atr : NULL,
               (st->event_state & NB_STATE_PRESENT) ? st->atr_len : 0);
    return entry;
}

static nb_error fail_and_note(nb_session *s, nb_outcome *out, uint32_t rv)
{
    nb_session_note_rv(s, rv);
    return nb_fail_pcsc(out, rv);
}

/* Gets the context and the present readers' names into states[].reader
 * (names points into the caller's buffer). */
static nb_error current_readers(nb_session *s, nb_context *ctx, char *names, size_t names_cap,
                                nb_reader_state *states, size_t *n, int *left_out, nb_outcome *out)
{
    uint32_t rv = nb_session_context(s, ctx);
    if (rv != NB_SCARD_S_SUCCESS)
        return nb_fail_pcsc(out, rv);
    rv = nb_read_reader_names(s->backend, *ctx, names, names_cap);
    if (rv != NB_SCARD_S_SUCCESS)
        return fail_and_note(s, out, rv);
    const char *list[NB_MAX_READERS];
    *n = split_names(names, list, NB_MAX_READERS, left_out);
    for (size_t i = 0; i < *n; i++)
        states[i].reader = list[i];
    return NB_OK;
}

nb_error nb_cmd_list_readers(nb_session *s, const cJSON *args, nb_outcome *out)
{
    (void)args;
    nb_context ctx;
    char names[READER_LIST_BYTES];
    nb_reader_state states[NB_MAX_READERS];
    memset(states, 0, sizeof(states));
    size_t n = 0;
    int truncated = 0;
    if (current_readers(s, &ctx, names, sizeof(names), states, &n, &truncated, out) != NB_OK)
        return out->err;
    uint32_t rv = snapshot(s, ctx, states, n);
    if (rv != NB_SCARD_S_SUCCESS)
        return fail_and_note(s, out, rv);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(result, "truncated", truncated);
    cJSON *readers = cJSON_AddArrayToObject(result, "readers");
    for (size_t i = 0; i < n; i++) {
        cJSON *entry = reader_entry(&states[i]);
        add_pinpad_features(s, ctx, states[i].reader, entry);
        if (!cJSON_AddItemToArray(readers, entry))
            cJSON_Delete(entry); /* out of memory: nb_dispatch answers internal-error */
    }
    out->result = result;
    return NB_OK;
}

/* True when the readers the page knows are exactly the ones present. */
static int same_reader_set(const cJSON *known, const nb_reader_state *states, size_t n)
{
    if ((size_t)cJSON_GetArraySize(known) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (cJSON_GetObjectItemCaseSensitive(known, states[i].reader) == NULL)
            return 0;
    return 1;
}

static nb_error wait_result(nb_reader_state *states, size_t n, int readers_changed,
                            nb_outcome *out)
{
    cJSON *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(result, "readers_changed", readers_changed);
    cJSON *readers = cJSON_AddArrayToObject(result, "readers");
    for (size_t i = 0; i < n; i++) {
        cJSON *entry = reader_entry(&states[i]);
        cJSON_AddBoolToObject(entry, "changed", (states[i].event_state & NB_STATE_CHANGED) != 0);
        if (!cJSON_AddItemToArray(readers, entry))
            cJSON_Delete(entry); /* out of memory: nb_dispatch answers internal-error */
    }
    out->result = result;
    return NB_OK;
}

nb_error nb_cmd_wait_for_change(nb_session *s, const cJSON *args, nb_outcome *out)
{
    double timeout = 0;
    if (nb_arg_integer(args, "timeout_ms", 0, NB_MAX_WAIT_MS, 0, &timeout, out) != NB_OK)
        return out->err;
    const cJSON *known = cJSON_GetObjectItemCaseSensitive(args, "readers");
    if (cJSON_GetArraySize(known) > NB_MAX_READERS)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument readers lists too many readers");

    nb_reader_state states[NB_MAX_READERS + 1];
    memset(states, 0, sizeof(states));
    const cJSON *item;
    cJSON_ArrayForEach(item, known) {
        if (!cJSON_IsArray(item) || nb_state_from_json(item, &states[0].current_state) != 0)
            return nb_fail(out, NB_ERR_BAD_REQUEST,
                           "argument readers must map reader names to arrays of state names");
    }

    nb_context ctx;
    char names[READER_LIST_BYTES];
    size_t n = 0;
    int truncated = 0; /* the wait watches the readers list-readers reports */
    if (current_readers(s, &ctx, names, sizeof(names), states, &n, &truncated, out) != NB_OK)
        return out->err;
    /* The PnP pseudo-reader reports readers coming and going. */
    states[n].reader = NB_PNP_READER;
    uint32_t rv = snapshot(s, ctx, states, n + 1);
    if (rv != NB_SCARD_S_SUCCESS)
        return fail_and_note(s, out, rv);
    if (!same_reader_set(known, states, n))
        return wait_result(states, n, 1, out);

    /* Wait from what the page knows for its readers, and from now for the
     * reader list. */
    for (size_t i = 0; i < n; i++) {
        const cJSON *page_state = cJSON_GetObjectItemCaseSensitive(known, states[i].reader);
        nb_state_from_json(page_state, &states[i].current_state);
        uint32_t actual = states[i].event_state & ~NB_STATE_CHANGED;
        /* Already different: answer at once. */
        if ((states[i].current_state & (NB_STATE_PRESENT | NB_STATE_EMPTY)) !=
            (actual & (NB_STATE_PRESENT | NB_STATE_EMPTY))) {
            states[i].event_state |= NB_STATE_CHANGED;
            return wait_result(states, n, 0, out);
        }
        states[i].current_state = actual;
    }
    states[n].current_state = states[n].event_state & ~NB_STATE_CHANGED;

    uint32_t left = (uint32_t)timeout;
    nb_wait_hooks *hooks = &s->wait_hooks;
    for (;;) {
        uint32_t slice = left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS;
        if (hooks->begin != NULL && !hooks->begin(hooks->arg, ctx)) {
            s->last_wait_cancelled = 1;
            return nb_fail(out, NB_ERR_SYSTEM_CANCELLED, "the wait was cancelled");
        }
        rv = s->backend->get_status_change(s->backend->self, ctx, slice, states, n + 1);
        int interrupted = hooks->end != NULL && hooks->end(hooks->arg);
        if (interrupted || rv == NB_SCARD_E_CANCELLED) {
            s->last_wait_cancelled = 1;
            return nb_fail(out, NB_ERR_SYSTEM_CANCELLED, "the wait was cancelled");
        }
        if (rv == NB_SCARD_S_SUCCESS) {
            int readers_changed = (states[n].event_state & NB_STATE_CHANGED) != 0;
            return wait_result(states, n, readers_changed, out);
        }
        if (rv != NB_SCARD_E_TIMEOUT)
            return fail_and_note(s, out, rv);
        left -= slice;
        if (left == 0)
            return nb_fail(out, NB_ERR_TIMEOUT, "no reader or card changed within timeout_ms");
    }
}

nb_error nb_cmd_cancel(nb_session *s, const cJSON *args, nb_outcome *out)
{
    (void)args;
    cJSON *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(result, "cancelled", s->last_wait_cancelled);
    s->last_wait_cancelled = 0;
    out->result = result;
    return NB_OK;
}
