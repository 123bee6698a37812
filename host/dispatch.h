/* SPDX-License-Identifier: Apache-2.0 */
/* The command table and the checks every request passes before its
 * handler runs: caller, envelope, origin, hello, arguments. */
#ifndef NB_DISPATCH_H
#define NB_DISPATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

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

#endif
