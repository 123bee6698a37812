/* SPDX-License-Identifier: Apache-2.0 */
/* A handle's card exchanges (card_io.c). */
#ifndef NB_CARD_IO_H
#define NB_CARD_IO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "apdu.h"
#include "protocol.h"
#include "session.h"

/* Reads args.handle and finds it: bad-request or invalid-handle. */
nb_error nb_find_handle(nb_session *s, const cJSON *args, nb_handle **h, nb_outcome *out);

/* Sends one APDU on a handle, logging it (data withheld when secret) and
 * checking the response holds a status word. */
uint32_t nb_card_transmit(nb_session *s, nb_handle *h, const uint8_t *cmd, size_t cmd_len,
                          int secret, uint8_t *resp, size_t *resp_len);

#define NB_FOLLOW_61 1u /* answer 61xx with GET RESPONSE */
#define NB_FOLLOW_6C 2u /* resend a short case-2 APDU with the Le of a 6Cxx */

/* Sends the APDU and, as follow allows, completes its answer; the data
 * (at most NB_MAX_RESPONSE_DATA bytes) goes to data, the last status word
 * to sw. Everything the exchange sends is logged as secret when secret.
 * The caller has the session's buffers (nb_session_io): the answers pass
 * through s->io->resp. */
uint32_t nb_card_exchange(nb_session *s, nb_handle *h, uint8_t *apdu, size_t apdu_len,
                          const nb_apdu *parsed, unsigned follow, int secret, uint8_t *data,
                          size_t *data_len, uint16_t *sw);

/* Reports a failed PC/SC call on a handle; lets the handle go when the
 * card was removed or PC/SC no longer knows it. */
nb_error nb_card_fail(nb_session *s, nb_handle *h, nb_outcome *out, uint32_t rv);

#endif
