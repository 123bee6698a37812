/* SPDX-License-Identifier: Apache-2.0 */
/* Prints what the host's code says the contract is, as JSON: the command
 * table with each command's argument keys, the error codes, the
 * configuration keys, the limits, and the error code each PC/SC code
 * becomes. tests/js/contract.test.js compares it
 * with docs/protocol.md, the page library's types and the extension. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "dispatch.h"
#include "errors.h"
#include "frame.h"
#include "jsonguard.h"
#include "nonce.h"
#include "pinpad.h"
#include "readers.h"
#include "script.h"
#include "session.h"
#include "trust.h"
#include "watchdog.h"

static const char *type_name(nb_arg_type type)
{
    switch (type) {
    case NB_ARG_STRING:
        return "string";
    case NB_ARG_INTEGER:
        return "integer";
    case NB_ARG_BOOL:
        return "bool";
    case NB_ARG_OBJECT:
        return "object";
    case NB_ARG_ARRAY:
        return "array";
    }
    return "?";
}

static cJSON *commands(void)
{
    cJSON *list = cJSON_CreateArray();
    const nb_command *cmd;
    for (size_t i = 0; (cmd = nb_command_at(i)) != NULL; i++) {
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "name", cmd->name);
        cJSON_AddBoolToObject(entry, "before_hello", cmd->before_hello);
        cJSON *args = cJSON_AddArrayToObject(entry, "args");
        for (size_t j = 0; j < cmd->arg_count; j++) {
            cJSON *arg = cJSON_CreateObject();
            cJSON_AddStringToObject(arg, "name", cmd->args[j].name);
            cJSON_AddStringToObject(arg, "type", type_name(cmd->args[j].type));
            cJSON_AddBoolToObject(arg, "required", cmd->args[j].required);
            cJSON_AddItemToArray(args, arg);
        }
        cJSON_AddItemToArray(list, entry);
    }
    return list;
}

static cJSON *errors(void)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = NB_OK + 1; i < NB_ERROR_COUNT; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(nb_error_name((nb_error)i)));
    return list;
}

static cJSON *config_keys(void)
{
    cJSON *list = cJSON_CreateArray();
    const char *key;
    for (size_t i = 0; (key = nb_config_key(i)) != NULL; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(key));
    return list;
}

static cJSON *limits(void)
{
    static const struct {
        const char *name;
        double value;
    } table[] = {
        {"request_bytes", NB_MAX_REQUEST_BYTES},
        {"reply_bytes", NB_MAX_REPLY_BYTES},
        {"json_depth", NB_JSON_MAX_DEPTH},
        {"json_members", NB_JSON_MAX_MEMBERS},
        {"id_string_bytes", NB_MAX_ID_STRING},
        {"handles", NB_MAX_HANDLES},
        {"reader_name_bytes", NB_MAX_READER_NAME},
        {"readers", NB_MAX_READERS},
        {"wait_timeout_ms", NB_MAX_WAIT_MS},
        {"nonce_lifetime_s", NB_NONCE_LIFETIME},
        {"nonce_slots", NB_NONCE_SLOTS},
        {"script_b64_bytes", NB_SCRIPT_MAX_B64},
        {"signature_b64_bytes", NB_SIGNATURE_MAX_B64},
        {"script_steps", NB_SCRIPT_MAX_STEPS},
        {"step_expect", NB_SCRIPT_MAX_EXPECT},
        {"step_apdu_bytes", NB_SCRIPT_MAX_APDU},
        {"new_pin_min", NB_NEW_PIN_MIN},
        {"new_pin_max", NB_NEW_PIN_MAX},
        {"pinpad_block", NB_PINPAD_MAX_BLOCK},
        {"pinpad_limit_s", NB_PINPAD_LIMIT_MS / 1000},
        {"trusted_keys", NB_TRUST_MAX_KEYS},
        {"allow_origin_lines", NB_MAX_EXTRA_ORIGINS},
        {"config_line_bytes", NB_CONFIG_MAX_LINE - 2}, /* fgets keeps the newline and a NUL */
        {"card_timeout_min_ms", NB_CARD_TIMEOUT_MS_MIN},
        {"card_timeout_max_ms", NB_CARD_TIMEOUT_MS_MAX},
        {"card_timeout_default_ms", NB_CARD_TIMEOUT_MS_DEFAULT},
    };
    cJSON *obj = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        cJSON_AddNumberToObject(obj, table[i].name, table[i].value);
    return obj;
}

/* Every code of PC/SC's range (0x80100001 up) and the error it becomes;
 * the test names them from host/errors.h. */
static cJSON *pcsc(void)
{
    cJSON *obj = cJSON_CreateObject();
    for (uint32_t rv = 0x80100001u; rv < 0x80100070u; rv++) {
        char hex[11];
        snprintf(hex, sizeof(hex), "0x%08X", rv);
        cJSON_AddStringToObject(obj, hex, nb_error_name(nb_error_from_pcsc(rv)));
    }
    return obj;
}

int main(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "commands", commands());
    cJSON_AddItemToObject(root, "errors", errors());
    cJSON_AddItemToObject(root, "config_keys", config_keys());
    cJSON_AddItemToObject(root, "limits", limits());
    cJSON_AddItemToObject(root, "pcsc", pcsc());
    char *text = cJSON_Print(root);
    if (text == NULL)
        return 1;
    puts(text);
    free(text);
    cJSON_Delete(root);
    return 0;
}
