/* Commands on a connected card: connect, disconnect, status, transactions,
 * transmit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu.h"
#include "dispatch.h"
#include "hex.h"
#include "log.h"
#include "policy.h"
#include "readers.h"
#include "transaction.h"
#include "watchdog.h"

#define MAX_GET_RESPONSE_ROUNDS 64
#define LOST_CARD_WAIT_MS 1000u

nb_error nb_card_fail(nb_session *s, nb_handle *h, nb_outcome *out, uint32_t rv)
{
    nb_session_note_rv(s, rv);
    if (h != NULL && h->in_use) {
        if (nb_pcsc_plain(rv) == NB_SCARD_W_REMOVED_CARD) {
            /* The card is gone: let the stale handle go at once, or it
             * would keep others (an exclusive connect) off the reader. */
            nb_watchdog_enter(s->current_id, 0);
            s->backend->disconnect(s->backend->self, h->card, NB_LEAVE_CARD);
            nb_watchdog_leave();
            nb_session_forget_handle(s, h);
        } else if (rv == NB_SCARD_E_INVALID_HANDLE) {
            nb_session_forget_handle(s, h); /* PC/SC no longer knows it */
        }
    }
    return nb_fail_pcsc(out, rv);
}

nb_error nb_find_handle(nb_session *s, const cJSON *args, nb_handle **h, nb_outcome *out)
{
    uint32_t id = 0;
    *h = NULL;
    nb_error err = nb_arg_handle(args, &id, out);
    if (err != NB_OK)
        return err;
    *h = nb_session_find(s, id);
    if (*h == NULL)
        return nb_fail(out, NB_ERR_INVALID_HANDLE, NULL);
    return NB_OK;
}

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

/* The reader lost the exchange (no status word, or the driver failed it):
 * the card was pulled or stopped answering. pcscd notices a removal on its
 * next poll (about 400 ms), so wait up to a second to tell them apart. */
static uint32_t classify_lost_exchange(nb_session *s, nb_handle *h)
{
    nb_reader_state st = {.reader = h->reader, .current_state = NB_STATE_UNAWARE};
    uint32_t rv = s->backend->get_status_change(s->backend->self, s->ctx, 0, &st, 1);
    if (rv == NB_SCARD_S_SUCCESS && !(st.event_state & NB_STATE_EMPTY)) {
        st.current_state = st.event_state & ~NB_STATE_CHANGED;
        rv = s->backend->get_status_change(s->backend->self, s->ctx, LOST_CARD_WAIT_MS, &st, 1);
    }
    if (rv == NB_SCARD_S_SUCCESS && (st.event_state & NB_STATE_EMPTY))
        return NB_HOST_MADE_CODE(NB_SCARD_W_REMOVED_CARD);
    return NB_HOST_MADE_CODE(NB_SCARD_E_COMM_DATA_LOST);
}

uint32_t nb_card_transmit(nb_session *s, nb_handle *h, const uint8_t *cmd, size_t cmd_len,
                          int secret, uint8_t *resp, size_t *resp_len)
{
    nb_log_apdu("card <", cmd, cmd_len, secret);
    nb_watchdog_enter(s->current_id, 0);
    uint32_t rv = s->backend->transmit(s->backend->self, h->card, h->protocol, cmd, cmd_len, resp,
                                       resp_len);
    nb_watchdog_leave();
    if ((rv == NB_SCARD_S_SUCCESS && *resp_len < 2) || rv == NB_SCARD_E_NOT_TRANSACTED) {
        *resp_len = 0;
        return classify_lost_exchange(s, h);
    }
    if (rv == NB_SCARD_S_SUCCESS)
        nb_log_response("card >", resp, *resp_len, secret);
    return rv;
}

uint32_t nb_card_exchange(nb_session *s, nb_handle *h, uint8_t *apdu, size_t apdu_len,
                          const nb_apdu *parsed, unsigned follow, int secret, uint8_t *data,
                          size_t *data_len, uint16_t *sw)
{
    uint8_t resp[NB_RESPONSE_MAX_BYTES];
    size_t total = 0;
    const uint8_t *cmd = apdu;
    size_t cmd_len = apdu_len;
    uint8_t get_response[5] = {(uint8_t)(parsed->cla & 0x03), 0xC0, 0x00, 0x00, 0x00};
    uint32_t rv = NB_SCARD_S_SUCCESS;
    size_t used = 0; /* how much of resp ever held card data */
    /* Offer pcsc-lite a short buffer unless the APDU is extended: a 64 KiB
     * one sends it down its slower extended path (about 20 us per APDU). */
    size_t capacity = parsed->extended ? sizeof(resp) : 256 + 2;
    for (int round = 0; round < MAX_GET_RESPONSE_ROUNDS; round++) {
        size_t resp_len = capacity;
        /* What follows a secret command's answer is as secret as it. */
        rv = nb_card_transmit(s, h, cmd, cmd_len, secret, resp, &resp_len);
        if (rv != NB_SCARD_S_SUCCESS)
            break;
        used = resp_len > used ? resp_len : used;
        size_t n = resp_len - 2;
        *sw = (uint16_t)((resp[n] << 8) | resp[n + 1]);
        if (total + n > NB_MAX_RESPONSE_DATA) {
            rv = NB_HOST_MADE_CODE(NB_SCARD_E_INSUFFICIENT_BUFFER);
            break;
        }
        memcpy(data + total, resp, n);
        total += n;
        uint8_t sw1 = resp[n], sw2 = resp[n + 1];
        if (sw1 == 0x61 && (follow & NB_FOLLOW_61)) {
            get_response[4] = sw2;
            cmd = get_response;
            cmd_len = sizeof(get_response);
        } else if (sw1 == 0x6C && (follow & NB_FOLLOW_6C) && parsed->apdu_case == 2 &&
                   !parsed->extended && cmd == apdu) {
            apdu[apdu_len - 1] = sw2; /* Le was wrong: send again with the card's */
        } else {
            break;
        }
    }
    OPENSSL_cleanse(resp, used); /* only what was written: 64 KiB each time costs */
    *data_len = total;
    return rv;
}

nb_error nb_cmd_transmit(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    const char *hex = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK ||
        nb_arg_string(args, "apdu", 2 * NB_APDU_MAX_BYTES, NULL, &hex, out) != NB_OK)
        return out->err;
    const cJSON *follow_item = cJSON_GetObjectItemCaseSensitive(args, "get_response");
    int follow = cJSON_IsTrue(follow_item);

    uint8_t apdu[NB_APDU_MAX_BYTES];
    long apdu_len = nb_hex_decode(hex, strlen(hex), apdu, sizeof(apdu));
    if (apdu_len < 0)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument apdu must be hex of at most %u bytes",
                       NB_APDU_MAX_BYTES);
    nb_apdu parsed;
    const char *why = NULL;
    if (nb_apdu_parse(apdu, (size_t)apdu_len, &parsed, &why) != 0)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument apdu: %s", why);
    if (!nb_policy_plain_transmit(&parsed, &why)) {
        OPENSSL_cleanse(apdu, (size_t)apdu_len);
        return nb_fail(out, NB_ERR_NOT_ALLOWED, "%s", why);
    }
    int secret = nb_policy_data_is_secret(&parsed);

    uint8_t *data = malloc(NB_MAX_RESPONSE_DATA);
    if (data == NULL)
        return nb_fail(out, NB_ERR_INTERNAL, NULL);
    size_t data_len = 0;
    uint16_t sw = 0;
    uint32_t rv = nb_card_exchange(s, h, apdu, (size_t)apdu_len, &parsed,
                                   follow ? NB_FOLLOW_61 | NB_FOLLOW_6C : 0, secret, data, &data_len, &sw);
    OPENSSL_cleanse(apdu, (size_t)apdu_len);
    if (rv != NB_SCARD_S_SUCCESS) {
        free(data);
        return nb_card_fail(s, h, out, rv);
    }
    char *data_hex = malloc(2 * data_len + 1);
    if (data_hex == NULL) {
        free(data);
        return nb_fail(out, NB_ERR_INTERNAL, NULL);
    }
    nb_hex_encode(data, data_len, data_hex);
    free(data);
    char sw_hex[5];
    uint8_t sw_bytes[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
    nb_hex_encode(sw_bytes, 2, sw_hex);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "data", data_hex);
    cJSON_AddStringToObject(result, "sw", sw_hex);
    free(data_hex);
    out->result = result;
    return NB_OK;
}
