/* SPDX-License-Identifier: Apache-2.0 */
/* A handle's card exchanges, bounded and classified: the one place that
 * finds a handle, sends an APDU (logged, under the watchdog), completes an
 * answer over GET RESPONSE, and turns a failure into the page's error.
 * The commands (cmd_card.c, cmd_script.c) and transaction.c use it. */
#include "card_io.h"

#include <string.h>

#include "log.h"
#include "watchdog.h"
#include "wipe.h"

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
    uint8_t *resp = s->io->resp; /* the caller got s->io (nb_session_io) */
    size_t total = 0;
    const uint8_t *cmd = apdu;
    size_t cmd_len = apdu_len;
    uint8_t get_response[5] = {(uint8_t)(parsed->cla & 0x03), 0xC0, 0x00, 0x00, 0x00};
    uint32_t rv = NB_SCARD_S_SUCCESS;
    size_t used = 0; /* how much of resp ever held card data */
    /* Offer pcsc-lite a short buffer unless the APDU is extended: a 64 KiB
     * one sends it down its slower extended path (about 20 us per APDU). */
    size_t capacity = parsed->extended ? sizeof(s->io->resp) : 256 + 2;
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
    nb_wipe(resp, used); /* only what was written: 64 KiB each time would cost */
    *data_len = total;
    return rv;
}
