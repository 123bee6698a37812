/* SPDX-License-Identifier: Apache-2.0 */
/* Handlers of signed scripts (cmd_script.c); dispatch.c calls them. */
#ifndef NB_CMD_SCRIPT_H
#define NB_CMD_SCRIPT_H

#include <cjson/cJSON.h>

#include "protocol.h"
#include "session.h"

nb_error nb_cmd_get_nonce(nb_session *s, const cJSON *args, nb_outcome *out);
nb_error nb_cmd_run_script(nb_session *s, const cJSON *args, nb_outcome *out);

#endif
