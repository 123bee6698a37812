/* SPDX-License-Identifier: Apache-2.0 */
/* Commands on a connected card: connect, disconnect, status, transactions,
 * transmit. The exchanges themselves are card_io.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "card_io.h"
#include "cmd_card.h"
#include "hex.h"
#include "log.h"
#include "policy.h"
#include "readers.h"
#include "transaction.h"
#include "watchdog.h"
#include "wipe.h"


static const char *protocol_name(uint32_t protocol)
{
    return protocol == NB_PROTOCOL_T0 ? "t0" : protocol == NB_PROTOCOL_T1 ? "t1" : "raw";
}

static nb_error parse_disposition(const cJSON *args, uint32_t *disposition, nb_outcome *out)
{
    const char *name = NULL;
    if (nb_arg_string(args, "disposition", 16, "leave", &name, out) != NB_OK)
        return out->err;
    if (strcmp(name, "leave") == 0)
        *disposition = NB_LEAVE_CARD;
    else if (strcmp(name, "reset") == 0)
        *disposition = NB_RESET_CARD;
    else if (strcmp(name, "unpower") == 0)
        *disposition = NB_UNPOWER_CARD;
    else
        return nb_fail(out, NB_ERR_BAD_REQUEST,
                       "argument disposition must be leave, reset or unpower");
    return NB_OK;
}

static nb_error parse_protocols(const cJSON *args, uint32_t *protocols, nb_outcome *out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(args, "protocols");
    if (list == NULL) {
        *protocols = NB_PROTOCOL_T0 | NB_PROTOCOL_T1;
        return NB_OK;
    }
    *protocols = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (cJSON_IsString(item) && strcmp(item->valuestring, "t0") == 0)
            *protocols |= NB_PROTOCOL_T0;
        else if (cJSON_IsString(item) && strcmp(item->valuestring, "t1") == 0)
            *protocols |= NB_PROTOCOL_T1;
        else
            return nb_fail(out, NB_ERR_BAD_REQUEST, "argument protocols may hold only t0 and t1");
    }
    if (*protocols == 0)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument protocols must not be empty");
    return NB_OK;
}

nb_error nb_cmd_connect(nb_session *s, const cJSON *args, nb_outcome *out)
{
    const char *reader = NULL, *share_name = NULL;
    uint32_t protocols = 0, share = 0;
    if (nb_arg_string(args, "reader", NB_MAX_READER_NAME, NULL, &reader, out) != NB_OK ||
        nb_arg_string(args, "share", 16, "shared", &share_name, out) != NB_OK ||
        parse_protocols(args, &protocols, out) != NB_OK)
        return out->err;
    if (strcmp(share_name, "shared") == 0)
        share = NB_SHARE_SHARED;
    else if (strcmp(share_name, "exclusive") == 0)
        share = NB_SHARE_EXCLUSIVE;
    else
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument share must be shared or exclusive");

    nb_context ctx;
    uint32_t rv = nb_session_context(s, &ctx);
    if (rv != NB_SCARD_S_SUCCESS)
        return nb_fail_pcsc(out, rv);
    nb_handle *h = nb_session_new_handle(s);
    if (h == NULL)
        return nb_fail(out, NB_ERR_TOO_MANY_HANDLES, NULL);
    const nb_backend *b = s->backend;
    /* Connecting powers the card up: it may hang like any exchange. */
    nb_watchdog_enter(s->current_id, 0);
    rv = b->connect(b->self, ctx, reader, share, protocols, &h->card, &h->protocol);
    uint32_t state = 0, protocol = 0;
    int connected = rv == NB_SCARD_S_SUCCESS;
    if (connected)
        rv = b->status(b->self, h->card, &state, &protocol, h->atr, &h->atr_len);
    if (connected && rv != NB_SCARD_S_SUCCESS)
        b->disconnect(b->self, h->card, NB_LEAVE_CARD);
    nb_watchdog_leave();
    if (rv != NB_SCARD_S_SUCCESS) {
        nb_session_forget_handle(s, h);
        return nb_card_fail(s, NULL, out, rv);
    }
    h->in_use = 1;
    snprintf(h->reader, sizeof(h->reader), "%s", reader);
    nb_log(NB_LOG_INFO, "connected to %s as handle %u (%s)", reader, h->id,
           protocol_name(h->protocol));
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "handle", h->id);
    cJSON_AddStringToObject(result, "protocol", protocol_name(h->protocol));
    nb_add_atr(result, h->atr, h->atr_len);
    out->result = result;
    return NB_OK;
}

nb_error nb_cmd_disconnect(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    uint32_t disposition = 0;
    if (nb_find_handle(s, args, &h, out) != NB_OK || parse_disposition(args, &disposition, out) != NB_OK)
        return out->err;
    const nb_backend *b = s->backend;
    nb_watchdog_enter(s->current_id, 0);
    if (h->in_transaction)
        b->end_transaction(b->self, h->card, NB_LEAVE_CARD);
    uint32_t rv = b->disconnect(b->self, h->card, disposition);
    nb_watchdog_leave();
    nb_session_forget_handle(s, h); /* gone for the page whatever PC/SC says */
    nb_session_note_rv(s, rv);
    if (rv != NB_SCARD_S_SUCCESS && rv != NB_SCARD_W_REMOVED_CARD &&
        rv != NB_SCARD_E_INVALID_HANDLE)
        return nb_fail_pcsc(out, rv);
    out->result = cJSON_CreateObject();
    return NB_OK;
}

nb_error nb_cmd_status(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK)
        return out->err;
    uint32_t state = 0, protocol = 0;
    uint8_t atr[NB_MAX_ATR];
    size_t atr_len = 0;
    const nb_backend *b = s->backend;
    nb_watchdog_enter(s->current_id, 0);
    uint32_t rv = b->status(b->self, h->card, &state, &protocol, atr, &atr_len);
    nb_watchdog_leave();
    if (rv != NB_SCARD_S_SUCCESS)
        return nb_card_fail(s, h, out, rv);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "reader", h->reader);
    nb_card_status_to_json(result, "state", state);
    cJSON_AddStringToObject(result, "protocol", protocol_name(protocol));
    nb_add_atr(result, atr, atr_len);
    cJSON_AddBoolToObject(result, "in_transaction", h->in_transaction);
    out->result = result;
    return NB_OK;
}

nb_error nb_cmd_begin_transaction(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK)
        return out->err;
    /* PC/SC would nest it (same handle) or wait for ever on ourselves
     * (another handle of this host): neither is what the page meant. */
    if (h->in_transaction)
        return nb_fail(out, NB_ERR_SHARING_VIOLATION, "this handle already holds the card in a transaction");
    uint32_t rv = nb_transaction_begin(s, h, nb_card_timeout_ms(s));
    if (rv != NB_SCARD_S_SUCCESS)
        return nb_transaction_refused(s, h, rv, out);
    h->in_transaction = 1;
    out->result = cJSON_CreateObject();
    return NB_OK;
}

nb_error nb_cmd_end_transaction(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    uint32_t disposition = 0;
    if (nb_find_handle(s, args, &h, out) != NB_OK || parse_disposition(args, &disposition, out) != NB_OK)
        return out->err;
    if (!h->in_transaction)
        return nb_fail(out, NB_ERR_NOT_TRANSACTED, NULL);
    h->in_transaction = 0;
    nb_watchdog_enter(s->current_id, 0);
    uint32_t rv = s->backend->end_transaction(s->backend->self, h->card, disposition);
    nb_watchdog_leave();
    if (rv != NB_SCARD_S_SUCCESS)
        return nb_card_fail(s, h, out, rv);
    out->result = cJSON_CreateObject();
    return NB_OK;
}

static void transmit_result(const uint8_t *data, size_t data_len, uint16_t sw, nb_outcome *out)
{
    char *data_hex = malloc(2 * data_len + 1);
    if (data_hex == NULL) {
        nb_fail(out, NB_ERR_INTERNAL, NULL);
        return;
    }
    nb_hex_encode(data, data_len, data_hex);
    char sw_hex[5];
    uint8_t sw_bytes[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
    nb_hex_encode(sw_bytes, 2, sw_hex);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "data", data_hex);
    cJSON_AddStringToObject(result, "sw", sw_hex);
    nb_free_wiped(data_hex);
    out->result = result;
}

nb_error nb_cmd_transmit(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    const char *hex = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK ||
        nb_arg_string(args, "apdu", 2 * NB_APDU_MAX_BYTES, NULL, &hex, out) != NB_OK)
        return out->err;
    int follow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "get_response"));
    nb_io_buffers *io = nb_session_io(s);
    if (io == NULL)
        return nb_fail(out, NB_ERR_INTERNAL, NULL);
    size_t hex_len = strlen(hex);
    long apdu_len = nb_hex_decode(hex, hex_len, io->apdu, sizeof(io->apdu));
    size_t data_len = 0;
    nb_apdu parsed;
    const char *why = NULL;
    if (apdu_len < 0) {
        nb_fail(out, NB_ERR_BAD_REQUEST, "argument apdu must be hex of at most %u bytes", NB_APDU_MAX_BYTES);
    } else if (nb_apdu_parse(io->apdu, (size_t)apdu_len, &parsed, &why) != 0) {
        nb_fail(out, NB_ERR_BAD_REQUEST, "argument apdu: %s", why);
    } else if (!nb_policy_plain_transmit(&parsed, &why)) {
        nb_fail(out, NB_ERR_NOT_ALLOWED, "%s", why);
    } else {
        uint16_t sw = 0;
        uint32_t rv = nb_card_exchange(s, h, io->apdu, (size_t)apdu_len, &parsed,
                                       follow ? NB_FOLLOW_61 | NB_FOLLOW_6C : 0,
                                       nb_policy_data_is_secret(&parsed), io->data, &data_len, &sw);
        if (rv != NB_SCARD_S_SUCCESS)
            nb_card_fail(s, h, out, rv);
        else
            transmit_result(io->data, data_len, sw, out);
    }
    /* One exit: whatever the APDU or the answer held goes, refused or not. */
    nb_wipe(io->apdu, hex_len / 2 < sizeof(io->apdu) ? hex_len / 2 : sizeof(io->apdu));
    nb_wipe(io->data, data_len);
    return out->err;
}
