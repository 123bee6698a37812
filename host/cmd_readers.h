/* SPDX-License-Identifier: Apache-2.0 */
/* Handlers of the service and its readers (cmd_readers.c); dispatch.c calls them. */
#ifndef NB_CMD_READERS_H
#define NB_CMD_READERS_H

#include <cjson/cJSON.h>

#include "protocol.h"
#include "session.h"

nb_error nb_cmd_hello(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_list_readers(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_wait_for_change(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_cancel(nb_session *s, const cJSON *args, nb_outcome *out);

#endif
