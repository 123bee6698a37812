/* The command table and the checks every request passes before its
 * handler runs: caller, envelope, origin, hello, arguments. */
#ifndef NB_DISPATCH_H
#define NB_DISPATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "apdu.h"
#include "protocol.h"
#include "session.h"

typedef nb_error (*nb_handler)(nb_session *s, const cJSON *args, nb_outcome *out);

typedef struct {
    const char *name;
    nb_handler handler;
    const nb_arg_spec *args;
    size_t arg_count;
    int before_hello; /* may run before hello */
} nb_command;

/* Handles one request text and returns the reply text (malloc'd; NULL only
 * when out of memory). */
char *nb_dispatch(nb_session *s, const char *text, size_t len);

/* Builds a reply with "id": null for an error found before parsing
 * (framing). */
char *nb_dispatch_error(nb_error err, const char *message);

/* Looks a command up; NULL when unknown. */
const nb_command *nb_command_find(const char *name);

/* The i-th command of the table; NULL past the last. */
const nb_command *nb_command_at(size_t i);

/* Handlers (cmd_readers.c, cmd_card.c). */
nb_error nb_cmd_hello(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_list_readers(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_wait_for_change(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_cancel(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_connect(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_disconnect(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_status(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_begin_transaction(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_end_transaction(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_transmit(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_get_nonce(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_run_script(nb_session *s, const cJSON *args, nb_outcome *out);

/* Reads args.handle and finds it: bad-request or invalid-handle. */
nb_error nb_find_handle(nb_session *s, const cJSON *args, nb_handle **h, nb_outcome *out);

/* Sends one APDU on a handle, logging it (data withheld when secret) and
 * checking the response holds a status word. */
uint32_t nb_card_transmit(nb_session *s, nb_handle *h, const uint8_t *cmd, size_t cmd_len,
                          int secret, uint8_t *resp, size_t *resp_len);

#define NB_MAX_RESPONSE_DATA 65536u
#define NB_FOLLOW_61 1u /* answer 61xx with GET RESPONSE */
#define NB_FOLLOW_6C 2u /* resend a short case-2 APDU with the Le of a 6Cxx */

/* Sends the APDU and, as follow allows, completes its answer; the data
 * (at most NB_MAX_RESPONSE_DATA bytes) goes to data, the last status word
 * to sw. Everything the exchange sends is logged as secret when secret. */
uint32_t nb_card_exchange(nb_session *s, nb_handle *h, uint8_t *apdu, size_t apdu_len,
                          const nb_apdu *parsed, unsigned follow, int secret, uint8_t *data,
                          size_t *data_len, uint16_t *sw);

/* Reports a failed PC/SC call on a handle; lets the handle go when the
 * card was removed or PC/SC no longer knows it. */
nb_error nb_card_fail(nb_session *s, nb_handle *h, nb_outcome *out, uint32_t rv);

#endif
