/* SPDX-License-Identifier: Apache-2.0 */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_card.h"
#include "cmd_readers.h"
#include "cmd_script.h"
#include "jsonguard.h"
#include "log.h"
#include "origin.h"

#define ARGS(spec) spec, sizeof(spec) / sizeof(spec[0])

static const nb_arg_spec hello_args[] = {{"protocol", NB_ARG_INTEGER, 1}};
static const nb_arg_spec wait_args[] = {
    {"readers", NB_ARG_OBJECT, 1},
    {"timeout_ms", NB_ARG_INTEGER, 1},
};
static const nb_arg_spec connect_args[] = {
    {"reader", NB_ARG_STRING, 1},
    {"share", NB_ARG_STRING, 0},
    {"protocols", NB_ARG_ARRAY, 0},
};
static const nb_arg_spec disconnect_args[] = {
    {"handle", NB_ARG_INTEGER, 1},
    {"disposition", NB_ARG_STRING, 0},
};
static const nb_arg_spec handle_args[] = {{"handle", NB_ARG_INTEGER, 1}};
static const nb_arg_spec end_transaction_args[] = {
    {"handle", NB_ARG_INTEGER, 1},
    {"disposition", NB_ARG_STRING, 0},
};
static const nb_arg_spec transmit_args[] = {
    {"handle", NB_ARG_INTEGER, 1},
    {"apdu", NB_ARG_STRING, 1},
    {"get_response", NB_ARG_BOOL, 0},
};

static const nb_arg_spec run_script_args[] = {
    {"handle", NB_ARG_INTEGER, 1},       {"script", NB_ARG_STRING, 1},
    {"signature", NB_ARG_STRING, 1},     {"key_id", NB_ARG_STRING, 1},
    {"new_pin", NB_ARG_STRING, 0},       {"new_pin_confirm", NB_ARG_STRING, 0},
    {"pinpad", NB_ARG_BOOL, 0},
};

static const nb_command commands[] = {
    {"hello", nb_cmd_hello, ARGS(hello_args), 1},
    {"list-readers", nb_cmd_list_readers, NULL, 0, 0},
    {"wait-for-change", nb_cmd_wait_for_change, ARGS(wait_args), 0},
    {"cancel", nb_cmd_cancel, NULL, 0, 0},
    {"connect", nb_cmd_connect, ARGS(connect_args), 0},
    {"disconnect", nb_cmd_disconnect, ARGS(disconnect_args), 0},
    {"status", nb_cmd_status, ARGS(handle_args), 0},
    {"begin-transaction", nb_cmd_begin_transaction, ARGS(handle_args), 0},
    {"end-transaction", nb_cmd_end_transaction, ARGS(end_transaction_args), 0},
    {"transmit", nb_cmd_transmit, ARGS(transmit_args), 0},
    {"get-nonce", nb_cmd_get_nonce, ARGS(handle_args), 0},
    {"run-script", nb_cmd_run_script, ARGS(run_script_args), 0},
};

const nb_command *nb_command_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

const nb_command *nb_command_at(size_t i)
{
    return i < sizeof(commands) / sizeof(commands[0]) ? &commands[i] : NULL;
}

char *nb_dispatch_error(nb_error err, const char *message)
{
    nb_outcome out = {0};
    nb_fail(&out, err, "%s", message);
    return nb_reply_serialise(NULL, &out);
}

static nb_error run_request(nb_session *s, const nb_request *req, nb_outcome *out)
{
    const nb_config *cfg = s->config;
    if (!nb_origin_allowed(req->origin, cfg != NULL ? cfg->extra_origins : NULL,
                           cfg != NULL ? cfg->extra_origin_count : 0))
        return nb_fail(out, NB_ERR_ORIGIN_NOT_ALLOWED, NULL);
    const nb_command *cmd = nb_command_find(req->cmd);
    if (cmd == NULL)
        return nb_fail(out, NB_ERR_UNKNOWN_COMMAND, "unknown command: %.32s", req->cmd);
    if (!s->hello_done && !cmd->before_hello)
        return nb_fail(out, NB_ERR_HELLO_REQUIRED, NULL);
    if (nb_args_check(req->args, cmd->args, cmd->arg_count, out) != NB_OK)
        return out->err;
    /* A cancel answers about the wait it interrupted; nothing else does. */
    if (cmd->handler != nb_cmd_cancel)
        s->last_wait_cancelled = 0;
    return cmd->handler(s, req->args, out);
}

char *nb_dispatch(nb_session *s, const char *text, size_t len)
{
    nb_request req;
    nb_outcome out = {0};
    char message[NB_MESSAGE_MAX];
    snprintf(s->current_id, sizeof(s->current_id), "null");
    nb_error err = nb_request_parse(text, len, &req, message, sizeof(message));
    if (!s->caller_allowed) {
        /* Answer every request, parsable or not, with the same refusal. */
        nb_fail(&out, NB_ERR_CALLER_NOT_ALLOWED, NULL);
    } else if (err != NB_OK) {
        nb_fail(&out, err, "%s", message);
    } else {
        nb_log(NB_LOG_INFO, "request %s from %s", req.cmd, req.origin);
        if (nb_id_text(req.id, s->current_id, sizeof(s->current_id)) != 0)
            snprintf(s->current_id, sizeof(s->current_id), "null");
        unsigned long failures_before = nb_json_alloc_failures();
        run_request(s, &req, &out);
        if (out.err == NB_OK && nb_json_alloc_failures() != failures_before) {
            /* Memory ran out while the result was built: a member may be
             * missing. Never send that as a success. */
            cJSON_Delete(out.result);
            out.result = NULL;
            nb_fail(&out, NB_ERR_INTERNAL, "out of memory");
        }
    }
    if (out.err != NB_OK)
        nb_log(NB_LOG_INFO, "reply error %s", nb_error_name(out.err));
    char *reply = nb_reply_serialise(req.id, &out);
    nb_request_free(&req);
    return reply;
}
