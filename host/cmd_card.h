/* SPDX-License-Identifier: Apache-2.0 */
/* Handlers of a connected card (cmd_card.c); dispatch.c calls them. */
#ifndef NB_CMD_CARD_H
#define NB_CMD_CARD_H

#include <cjson/cJSON.h>

#include "protocol.h"
#include "session.h"

nb_error nb_cmd_connect(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_disconnect(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_status(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_begin_transaction(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_end_transaction(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_transmit(nb_session *s, const cJSON *args, nb_outcome *out);

#endif
