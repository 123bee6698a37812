/* SPDX-License-Identifier: Apache-2.0 */
#include "protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "jsonguard.h"
#include "origin.h"
#include "wipe.h"

int nb_is_whole(double v)
{
    /* From 2^53 on every double is whole; below, a round trip through a
     * 64-bit integer keeps only whole numbers. NaN is not. */
    if (v != v)
        return 0;
    if (v >= 9007199254740992.0 || v <= -9007199254740992.0)
        return 1;
    return (double)(long long)v == v;
}

nb_error nb_fail(nb_outcome *out, nb_error err, const char *fmt, ...)
{
    out->err = err;
    out->message[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->message, sizeof(out->message), fmt, ap);
        va_end(ap);
    }
    return err;
}

nb_error nb_fail_pcsc(nb_outcome *out, uint32_t rv)
{
    nb_fail(out, nb_error_from_pcsc(rv), NULL);
    out->has_pcsc = (rv & NB_HOST_MADE) == 0; /* only what PC/SC really said */
    out->pcsc_rv = rv;
    return out->err;
}

static int id_valid(const cJSON *id)
{
    if (id == NULL)
        return 0;
    if (cJSON_IsString(id))
        return strlen(id->valuestring) <= NB_MAX_ID_STRING;
    if (cJSON_IsNumber(id)) {
        double v = id->valuedouble;
        /* The builtin: mingw-w64's isfinite() macro narrows to float. */
        return __builtin_isfinite(v) && nb_is_whole(v) && v <= NB_MAX_SAFE_INTEGER && v >= -NB_MAX_SAFE_INTEGER;
    }
    return 0;
}

static nb_error envelope_fail(char *message, size_t message_len, nb_error err, const char *text)
{
    snprintf(message, message_len, "%s", text);
    return err;
}

/* The request failed the JSON checks (a NUL, too deep, a key twice...),
 * yet its id may still be read, so that the page's promise settles: the
 * text is parsed leniently (an escaped NUL, which cJSON refuses, read as
 * U+0001 for this purpose only), and the id is taken when there is exactly
 * one valid one. A string id is taken only from text that is UTF-8 with no
 * NUL, raw or escaped: cJSON would cut the id at a NUL, and answer another
 * request's id, and bytes that are not UTF-8 would make the browser refuse
 * the reply, ending the port. */
static void salvage_id(const char *text, size_t len, nb_request *req)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, text, len);
    copy[len] = '\0';
    int string_untrusted = memchr(text, '\0', len) != NULL || !nb_utf8_valid((const unsigned char *)text, len);
    for (char *at = strstr(copy, "\\u0000"); at != NULL; at = strstr(at, "\\u0000")) {
        at[5] = '1';
        string_untrusted = 1;
    }
    cJSON *loose = cJSON_ParseWithLength(copy, len);
    nb_free_wiped(copy); /* the request may carry a new PIN */
    const cJSON *id = cJSON_IsObject(loose) ? cJSON_GetObjectItemCaseSensitive(loose, "id") : NULL;
    size_t ids = 0;
    for (const cJSON *item = loose != NULL ? loose->child : NULL; item != NULL; item = item->next)
        ids += item->string != NULL && strcmp(item->string, "id") == 0;
    if (ids == 1 && id_valid(id) && !(cJSON_IsString(id) && string_untrusted)) {
        req->root = loose;
        req->id = id;
        return;
    }
    cJSON_Delete(loose);
}

nb_error nb_request_parse(const char *text, size_t len, nb_request *req, char *message,
                          size_t message_len)
{
    memset(req, 0, sizeof(*req));
    const char *why = NULL;
    req->root = nb_json_parse_checked(text, len, &why);
    if (req->root == NULL) {
        salvage_id(text, len, req);
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST, why);
    }
    if (!cJSON_IsObject(req->root))
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST,
                             "request must be a JSON object");

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req->root, "id");
    if (id == NULL)
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST, "field id is missing");
    if (!id_valid(id))
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST,
                             "field id must be an integer of at most 2^53-1 or a string of at "
                             "most 128 bytes");
    req->id = id;

    for (const cJSON *item = req->root->child; item != NULL; item = item->next) {
        if (strcmp(item->string, "id") != 0 && strcmp(item->string, "cmd") != 0 &&
            strcmp(item->string, "origin") != 0 && strcmp(item->string, "args") != 0) {
            snprintf(message, message_len, "unknown field in request: %.40s", item->string);
            return NB_ERR_BAD_REQUEST;
        }
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req->root, "cmd");
    if (!cJSON_IsString(cmd) || cmd->valuestring[0] == '\0' ||
        strlen(cmd->valuestring) > NB_MAX_CMD_NAME)
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST,
                             "field cmd must be a command name");
    req->cmd = cmd->valuestring;
    const cJSON *origin = cJSON_GetObjectItemCaseSensitive(req->root, "origin");
    if (!cJSON_IsString(origin) || strlen(origin->valuestring) > NB_MAX_ORIGIN_LEN)
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST,
                             "field origin must be a string");
    req->origin = origin->valuestring;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(req->root, "args");
    if (args != NULL && !cJSON_IsObject(args))
        return envelope_fail(message, message_len, NB_ERR_BAD_REQUEST,
                             "field args must be an object");
    req->args = args;
    return NB_OK;
}

void nb_request_free(nb_request *req)
{
    cJSON_Delete(req->root);
    memset(req, 0, sizeof(*req));
}

static cJSON *reply_envelope(const cJSON *id, int ok)
{
    cJSON *reply = cJSON_CreateObject();
    if (reply == NULL)
        return NULL;
    cJSON *id_copy = id != NULL ? cJSON_Duplicate(id, 0) : cJSON_CreateNull();
    if (id_copy == NULL || !cJSON_AddItemToObject(reply, "id", id_copy)) {
        cJSON_Delete(id_copy);
        cJSON_Delete(reply);
        return NULL;
    }
    /* From here on the reply owns the id. */
    if (cJSON_AddBoolToObject(reply, "ok", ok) == NULL) {
        cJSON_Delete(reply);
        return NULL;
    }
    return reply;
}

static char *error_reply(const cJSON *id, const nb_outcome *outcome)
{
    cJSON *reply = reply_envelope(id, 0);
    cJSON *error = cJSON_AddObjectToObject(reply, "error");
    if (error == NULL) {
        cJSON_Delete(outcome->result);
        cJSON_Delete(reply);
        return NULL;
    }
    const char *message = outcome->message[0] != '\0' ? outcome->message
                                                      : nb_error_message(outcome->err);
    char rv[11];
    snprintf(rv, sizeof(rv), "0x%08X", outcome->pcsc_rv);
    int complete = cJSON_AddStringToObject(error, "code", nb_error_name(outcome->err)) != NULL &&
                   cJSON_AddStringToObject(error, "message", message) != NULL &&
                   (!outcome->has_pcsc || cJSON_AddStringToObject(error, "pcsc", rv) != NULL);
    /* Extra detail for some errors; the reply owns it from here on. */
    if (outcome->result != NULL && !cJSON_AddItemToObject(error, "detail", outcome->result)) {
        cJSON_Delete(outcome->result);
        complete = 0;
    }
    char *text = complete ? cJSON_PrintUnformatted(reply) : NULL;
    cJSON_Delete(reply);
    return text;
}

int nb_id_text(const cJSON *id, char *out, size_t cap)
{
    if (cap < 24)
        return -1;
    if (id == NULL || !cJSON_IsNumber(id)) {
        char *text = id != NULL ? cJSON_PrintUnformatted(id) : NULL;
        int fits = text != NULL && strlen(text) < cap;
        snprintf(out, cap, "%s", fits ? text : "null");
        nb_free_wiped(text);
        return id == NULL || fits ? 0 : -1;
    }
    /* A valid numeric id is a whole number within +-(2^53-1) (id_valid):
     * written by hand, cJSON's %g-and-check costs more than the rest of a
     * transmit's reply. */
    long long v = (long long)id->valuedouble;
    char digits[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    size_t o = 0;
    if (v < 0)
        out[o++] = '-';
    while (n > 0)
        out[o++] = digits[--n];
    out[o] = '\0';
    return 0;
}

/* {"id":ID,"ok":true,"result":RESULT}, put together from the id's text and
 * the printed result. */
static char *success_reply(const cJSON *id, cJSON *result)
{
    char id_text[NB_ID_TEXT_MAX];
    char *result_text = result != NULL ? cJSON_PrintUnformatted(result) : NULL;
    if (result_text == NULL || nb_id_text(id, id_text, sizeof(id_text)) != 0) {
        nb_free_wiped(result_text);
        return NULL;
    }
    static const char head[] = "{\"id\":", middle[] = ",\"ok\":true,\"result\":";
    size_t id_len = strlen(id_text), result_len = strlen(result_text);
    size_t total = sizeof(head) - 1 + id_len + sizeof(middle) - 1 + result_len + 1;
    char *text = malloc(total + 1);
    if (text != NULL) {
        char *p = text;
        memcpy(p, head, sizeof(head) - 1);
        p += sizeof(head) - 1;
        memcpy(p, id_text, id_len);
        p += id_len;
        memcpy(p, middle, sizeof(middle) - 1);
        p += sizeof(middle) - 1;
        memcpy(p, result_text, result_len);
        p += result_len;
        *p++ = '}';
        *p = '\0';
    }
    nb_free_wiped(result_text); /* card data */
    return text;
}

char *nb_reply_serialise(const cJSON *id, nb_outcome *outcome)
{
    char *text = NULL;
    if (outcome->err != NB_OK) {
        text = error_reply(id, outcome);
        outcome->result = NULL; /* owned by the deleted reply */
    } else {
        cJSON *result = outcome->result != NULL ? outcome->result : cJSON_CreateObject();
        outcome->result = NULL;
        text = success_reply(id, result);
        cJSON_Delete(result);
    }
    if (text != NULL && strlen(text) > NB_MAX_REPLY_BYTES) {
        nb_free_wiped(text); /* card data */
        nb_outcome too_large = {0};
        nb_fail(&too_large, NB_ERR_MESSAGE_TOO_LARGE, "the reply would exceed 1 MiB");
        text = error_reply(id, &too_large);
    }
    return text;
}

static int type_matches(const cJSON *item, nb_arg_type type)
{
    switch (type) {
    case NB_ARG_STRING:
        return cJSON_IsString(item);
    case NB_ARG_INTEGER:
        return cJSON_IsNumber(item);
    case NB_ARG_BOOL:
        return cJSON_IsBool(item);
    case NB_ARG_OBJECT:
        return cJSON_IsObject(item);
    case NB_ARG_ARRAY:
        return cJSON_IsArray(item);
    }
    return 0;
}

static const char *type_name(nb_arg_type type)
{
    switch (type) {
    case NB_ARG_STRING:
        return "a string";
    case NB_ARG_INTEGER:
        return "an integer";
    case NB_ARG_BOOL:
        return "a boolean";
    case NB_ARG_OBJECT:
        return "an object";
    case NB_ARG_ARRAY:
        return "an array";
    }
    return "?";
}

nb_error nb_args_check(const cJSON *args, const nb_arg_spec *spec, size_t count, nb_outcome *out)
{
    if (args != NULL) {
        for (const cJSON *item = args->child; item != NULL; item = item->next) {
            size_t i = 0;
            while (i < count && strcmp(spec[i].name, item->string) != 0)
                i++;
            if (i == count)
                return nb_fail(out, NB_ERR_BAD_REQUEST, "unknown argument: %.40s", item->string);
            if (!type_matches(item, spec[i].type))
                return nb_fail(out, NB_ERR_BAD_REQUEST, "argument %s must be %s", spec[i].name,
                               type_name(spec[i].type));
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (spec[i].required && cJSON_GetObjectItemCaseSensitive(args, spec[i].name) == NULL)
            return nb_fail(out, NB_ERR_BAD_REQUEST, "argument %s is missing", spec[i].name);
    }
    return NB_OK;
}

nb_error nb_arg_integer(const cJSON *args, const char *name, double min, double max, double def,
                        double *value, nb_outcome *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(args, name);
    if (item == NULL) {
        *value = def;
        return NB_OK;
    }
    double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || !nb_is_whole(v) || v < min || v > max)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument %s must be an integer from %.0f to %.0f",
                       name, min, max);
    *value = v;
    return NB_OK;
}

nb_error nb_arg_string(const cJSON *args, const char *name, size_t max_len, const char *def,
                       const char **value, nb_outcome *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(args, name);
    if (item == NULL) {
        *value = def;
        return NB_OK;
    }
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    size_t len = s != NULL ? strlen(s) : 0;
    if (s == NULL || len == 0 || len > max_len)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument %s must be a string of 1 to %zu bytes",
                       name, max_len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return nb_fail(out, NB_ERR_BAD_REQUEST, "argument %s contains a control character",
                           name);
    *value = s;
    return NB_OK;
}

nb_error nb_arg_handle(const cJSON *args, uint32_t *id, nb_outcome *out)
{
    double v = 0;
    nb_error err = nb_arg_integer(args, "handle", 1, 2147483647.0, 0, &v, out);
    if (err != NB_OK)
        return err;
    *id = (uint32_t)v;
    return NB_OK;
}
