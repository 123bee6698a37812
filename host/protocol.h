/* SPDX-License-Identifier: Apache-2.0 */
/* Protocol v1 messages: the request envelope, argument checks by exact key
 * sets and types, and reply serialisation. See docs/protocol.md. */
#ifndef NB_PROTOCOL_H
#define NB_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "platform.h"

#define NB_PROTOCOL_VERSION 1
#define NB_MAX_ID_STRING 128
/* An id as JSON text: a string id of control bytes prints as \u00XX each,
 * plus the quotes and the NUL. */
#define NB_ID_TEXT_MAX (6 * NB_MAX_ID_STRING + 3)
#define NB_MAX_CMD_NAME 32
#define NB_MAX_SAFE_INTEGER 9007199254740991.0 /* 2^53 - 1 */
#define NB_MESSAGE_MAX 256

typedef struct {
    cJSON *root;        /* owned */
    const cJSON *id;    /* NULL until a valid id was found */
    const char *cmd;
    const char *origin;
    const cJSON *args;  /* an object (possibly empty) */
} nb_request;

/* The result of handling one request. */
typedef struct {
    nb_error err;
    char message[NB_MESSAGE_MAX]; /* empty: the table's message */
    int has_pcsc;
    uint32_t pcsc_rv;
    cJSON *result; /* on success; owned */
} nb_outcome;

/* Parses and checks the envelope. On failure returns the error and fills
 * message; req->id is set whenever the id itself was valid. The caller
 * frees with nb_request_free in every case. */
nb_error nb_request_parse(const char *text, size_t len, nb_request *req, char *message,
                          size_t message_len);
void nb_request_free(nb_request *req);

/* Serialises a reply for the outcome, echoing id (NULL: "id": null). Never
 * returns a reply over the frame limit: an oversized result becomes a
 * message-too-large error. Returns malloc'd text, NULL only on no memory. */
char *nb_reply_serialise(const cJSON *id, nb_outcome *outcome);

/* A request's id as JSON text ("null" for NULL) into out; -1 when it does
 * not fit (cap at least 24). */
int nb_id_text(const cJSON *id, char *out, size_t cap);

/* Sets an error outcome; fmt may be NULL for the table's message. */
/* Whether a finite JSON number is a whole number. (Without floor(): the
 * host needs nothing from libm, one library fewer to load at start.) */
int nb_is_whole(double v);

nb_error nb_fail(nb_outcome *out, nb_error err, const char *fmt, ...)
    NB_PRINTF_LIKE(3, 4);
/* Sets an error outcome from a PC/SC return code. */
nb_error nb_fail_pcsc(nb_outcome *out, uint32_t rv);

/* Argument specs: exact key set, type, required or not. */
typedef enum { NB_ARG_STRING, NB_ARG_INTEGER, NB_ARG_BOOL, NB_ARG_OBJECT, NB_ARG_ARRAY } nb_arg_type;
typedef struct {
    const char *name;
    nb_arg_type type;
    int required;
} nb_arg_spec;

/* Checks args against spec: no unknown key, every required key present,
 * each of the right type. */
nb_error nb_args_check(const cJSON *args, const nb_arg_spec *spec, size_t count, nb_outcome *out);

/* Reads an integer member in [min, max]; absent members give def. */
nb_error nb_arg_integer(const cJSON *args, const char *name, double min, double max, double def,
                        double *value, nb_outcome *out);
/* Reads a string member of 1..max_len bytes with no control characters;
 * absent members give def (may be NULL). */
nb_error nb_arg_string(const cJSON *args, const char *name, size_t max_len, const char *def,
                       const char **value, nb_outcome *out);
/* Reads a handle id and checks its range (not whether it exists). */
nb_error nb_arg_handle(const cJSON *args, uint32_t *id, nb_outcome *out);

#endif
