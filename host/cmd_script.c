/* SPDX-License-Identifier: Apache-2.0 */
/* Commands that may change a card: get-nonce and run-script. A script
 * runs only when the authority signed it for this card, this handle and
 * this moment (docs/protocol.md, "Signed scripts"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "base64.h"
#include "card_io.h"
#include "cmd_script.h"
#include "crypto_load.h"
#include "hex.h"
#include "log.h"
#include "pinpad.h"
#include "script.h"
#include "transaction.h"
#include "watchdog.h"
#include "wipe.h"


nb_error nb_cmd_get_nonce(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK)
        return out->err;
    uint8_t nonce[NB_NONCE_BYTES];
    if (nb_nonce_issue(&s->nonces, h->id, nb_session_now(s), nonce) != 0)
        return nb_fail(out, NB_ERR_INTERNAL, "no random numbers");
    char hex[2 * NB_NONCE_BYTES + 1];
    nb_hex_encode(nonce, sizeof(nonce), hex);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "nonce", hex);
    cJSON_AddNumberToObject(result, "expires_in", NB_NONCE_LIFETIME);
    out->result = result;
    return NB_OK;
}

/* Verifies, parses and checks a script against this handle; consumes
 * nothing. */
static nb_error admit_script(nb_session *s, const nb_handle *h, const cJSON *args,
                             nb_script *script, nb_outcome *out)
{
    memset(script, 0, sizeof(*script));
    const char *script_b64 = NULL, *signature_b64 = NULL, *key_id = NULL;
    if (nb_arg_string(args, "script", NB_SCRIPT_MAX_B64, NULL, &script_b64, out) != NB_OK ||
        nb_arg_string(args, "key_id", NB_KEY_ID_HEX, NULL, &key_id, out) != NB_OK)
        return out->err;
    const cJSON *sig_item = cJSON_GetObjectItemCaseSensitive(args, "signature");
    signature_b64 = sig_item->valuestring;
    if (strlen(signature_b64) > NB_SIGNATURE_MAX_B64)
        return nb_fail(out, NB_ERR_BAD_SIGNATURE, "signature is too long");
    size_t script_len = 0, sig_len = 0;
    uint8_t *script_bytes = nb_base64_decode(script_b64, strlen(script_b64), &script_len);
    if (script_bytes == NULL)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "argument script must be base64");
    uint8_t *sig = signature_b64[0] != '\0' ? nb_base64_decode(signature_b64, strlen(signature_b64), &sig_len)
                                            : NULL;
    nb_error err;
    if (sig == NULL) {
        err = nb_fail(out, NB_ERR_BAD_SIGNATURE, "signature is missing or not base64");
    } else {
        const nb_trust_store *trust = nb_session_trust(s);
        if (trust == NULL && s->trust_dirs != NULL)
            err = nb_fail(out, NB_ERR_INTERNAL, "%s",
                          nb_crypto_loaded() == NULL ? "cannot load libcrypto to check the signature"
                                                     : "out of memory");
        else if ((err = nb_trust_verify(trust, key_id, script_bytes, script_len, sig, sig_len)) != NB_OK)
            nb_fail(out, err, NULL);
        else
            err = nb_script_parse(script_bytes, script_len, script, out);
    }
    free(sig);
    nb_free_wiped(script_bytes); /* authentication cryptograms, SM APDUs */
    if (err != NB_OK)
        return err;

    time_t now = nb_session_now(s);
    err = nb_nonce_check(&s->nonces, script->nonce, h->id, now);
    if (err == NB_OK && (script->atr_len != h->atr_len || memcmp(script->atr, h->atr, h->atr_len) != 0))
        err = NB_ERR_WRONG_CARD;
    if (err == NB_OK && now > script->not_after)
        err = NB_ERR_SCRIPT_EXPIRED;
    if (err != NB_OK) {
        nb_script_free(script);
        return nb_fail(out, err, NULL);
    }
    return NB_OK;
}

/* One step's entry in the result: its status word, and its data unless
 * the step is secret. NULL when out of memory. */
static cJSON *step_entry(const nb_step *step, uint16_t sw, const uint8_t *data, size_t data_len)
{
    cJSON *entry = cJSON_CreateObject();
    char sw_hex[5];
    uint8_t sw_bytes[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
    nb_hex_encode(sw_bytes, 2, sw_hex);
    char *hex = step->secret ? NULL : malloc(2 * data_len + 1);
    if (hex != NULL)
        nb_hex_encode(data, data_len, hex);
    int ok = entry != NULL && cJSON_AddStringToObject(entry, "sw", sw_hex) != NULL &&
             (step->secret ? cJSON_AddNullToObject(entry, "data") != NULL /* withheld */
                           : hex != NULL && cJSON_AddStringToObject(entry, "data", hex) != NULL);
    nb_free_wiped(hex);
    if (!ok) {
        cJSON_Delete(entry);
        return NULL;
    }
    return entry;
}

/* Where the new PIN comes from: typed in the extension, or on a pinpad. */
typedef struct {
    const char *typed;
    int pinpad;
    uint32_t modify_code; /* FEATURE_MODIFY_PIN_DIRECT control code */
    uint8_t modify[64];   /* the PIN_MODIFY_STRUCTURE, built before anything is sent */
    size_t modify_len;
} pin_source;

/* Asks the reader for its PIN-modify control code. */
static nb_error find_pinpad(nb_session *s, nb_handle *h, uint32_t *code, nb_outcome *out)
{
    uint8_t tlv[256];
    size_t len = sizeof(tlv);
    nb_watchdog_enter(s->current_id, 0);
    uint32_t rv = s->backend->control(s->backend->self, h->card, NB_IOCTL_GET_FEATURE_REQUEST, NULL,
                                      0, tlv, &len);
    nb_watchdog_leave();
    if (rv != NB_SCARD_S_SUCCESS || !nb_pinpad_feature(tlv, len, NB_FEATURE_MODIFY_PIN_DIRECT, code))
        return nb_fail(out, NB_ERR_UNSUPPORTED_FEATURE, "this reader has no PIN-modify pinpad");
    return NB_OK;
}

/* The last checks, none of which touches the card: the new PIN's
 * arguments, or the pinpad and a PIN_MODIFY_STRUCTURE it can carry. */
static nb_error admit_pin(nb_session *s, nb_handle *h, const cJSON *args, const nb_script *script,
                          pin_source *pin, nb_outcome *out)
{
    const char *new_pin = NULL, *confirmation = NULL;
    if (nb_arg_string(args, "new_pin", NB_NEW_PIN_MAX, NULL, &new_pin, out) != NB_OK ||
        nb_arg_string(args, "new_pin_confirm", NB_NEW_PIN_MAX, NULL, &confirmation, out) != NB_OK)
        return nb_fail(out, NB_ERR_PIN_FORMAT, NULL); /* never echo the PIN's faults in detail */
    pin->typed = new_pin;
    pin->pinpad = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "pinpad"));
    const nb_step *step = script->new_pin_step;
    if (step == NULL && (new_pin != NULL || confirmation != NULL || pin->pinpad))
        return nb_fail(out, NB_ERR_BAD_REQUEST, "this script asks for no new PIN");
    if (step == NULL)
        return NB_OK;
    if (!pin->pinpad) {
        nb_error refused = nb_new_pin_check(step, new_pin, confirmation);
        return refused == NB_OK ? NB_OK : nb_fail(out, refused, NULL);
    }
    if (new_pin != NULL || confirmation != NULL)
        return nb_fail(out, NB_ERR_BAD_REQUEST, "a PIN typed on the pinpad comes with no new_pin");
    pin->modify_len = nb_pinpad_modify_structure(step, pin->modify, sizeof(pin->modify));
    if (pin->modify_len == 0)
        return nb_fail(out, NB_ERR_SCRIPT_INVALID,
                       "a pinpad needs the new_pin step's pad_to, from max_len to %d", NB_PINPAD_MAX_BLOCK);
    return find_pinpad(s, h, &pin->modify_code, out);
}

/* The reader collects the new PIN and sends the APDU itself; its entry is
 * bounded by its own timeouts, not the card's. */
static uint32_t pinpad_step(nb_session *s, nb_handle *h, const pin_source *pin, uint8_t *resp,
                            size_t *resp_len, uint16_t *sw)
{
    nb_log(NB_LOG_INFO, "new PIN entry on the pinpad");
    nb_watchdog_enter(s->current_id, NB_PINPAD_LIMIT_MS);
    uint32_t rv = s->backend->control(s->backend->self, h->card, pin->modify_code, pin->modify,
                                      pin->modify_len, resp, resp_len);
    nb_watchdog_leave();
    if (rv == NB_SCARD_S_SUCCESS && *resp_len < 2)
        rv = NB_HOST_MADE_CODE(NB_SCARD_E_COMM_DATA_LOST);
    if (rv == NB_SCARD_S_SUCCESS) {
        *sw = (uint16_t)(resp[*resp_len - 2] << 8 | resp[*resp_len - 1]);
        *resp_len -= 2;
    }
    return rv;
}

/* Sends one step and completes its answer (61xx) inside the script, under
 * the step's secrecy: nothing of a secret answer is left on the card for a
 * later GET RESPONSE. The new PIN's APDU is built in the session and wiped
 * as soon as it has been sent. */
static uint32_t run_step(nb_session *s, nb_handle *h, const nb_step *step, const pin_source *pin,
                         uint8_t *data, size_t *data_len, uint16_t *sw)
{
    if (step->kind == NB_STEP_NEW_PIN && pin->pinpad)
        return pinpad_step(s, h, pin, data, data_len, sw);
    uint8_t *apdu = step->apdu;
    size_t apdu_len = step->apdu_len;
    if (step->kind == NB_STEP_NEW_PIN) {
        apdu = s->pin_apdu;
        apdu_len = nb_new_pin_apdu(step, pin->typed, s->pin_apdu, sizeof(s->pin_apdu));
    }
    nb_apdu parsed;
    const char *why = NULL;
    uint32_t rv = NB_HOST_MADE_CODE(NB_SCARD_E_INVALID_PARAMETER);
    if (apdu_len > 0 && nb_apdu_parse(apdu, apdu_len, &parsed, &why) == 0)
        rv = nb_card_exchange(s, h, apdu, apdu_len, &parsed, NB_FOLLOW_61, step->secret, data,
                              data_len, sw);
    nb_wipe(s->pin_apdu, sizeof(s->pin_apdu));
    return rv;
}

/* A pinpad's answer that the step did not expect, as the page should hear
 * it. */
static nb_error pin_entry_error(const nb_step *step, uint16_t sw)
{
    if (step->kind != NB_STEP_NEW_PIN)
        return NB_OK;
    return sw == NB_SW_PINPAD_CANCELLED ? NB_ERR_PIN_CANCELLED
           : sw == NB_SW_PINPAD_TIMEOUT ? NB_ERR_PIN_TIMEOUT
                                        : NB_OK;
}

typedef struct {
    cJSON *steps;
    int completed;
    long stopped_at;
    uint32_t rv;     /* a PC/SC failure mid-script, else success */
    nb_error reason; /* an error the page gets with the result as detail */
} run_state;

/* Runs the steps in order, stopping at the first failure or unexpected
 * status word. Returns -1 when out of memory. */
static int run_steps(nb_session *s, nb_handle *h, const nb_script *script, const pin_source *pin,
                     uint8_t *data, run_state *run)
{
    for (size_t i = 0; i < script->step_count; i++) {
        const nb_step *step = &script->steps[i];
        size_t data_len = NB_MAX_RESPONSE_DATA; /* capacity in, length out */
        uint16_t sw = 0;
        run->stopped_at = (long)i;
        run->rv = run_step(s, h, step, pin, data, &data_len, &sw);
        if (run->rv != NB_SCARD_S_SUCCESS)
            return 0;
        cJSON *entry = step_entry(step, sw, data, data_len);
        nb_wipe(data, data_len);
        if (entry == NULL || !cJSON_AddItemToArray(run->steps, entry)) {
            cJSON_Delete(entry);
            return -1;
        }
        if (!nb_sw_matches(step, sw)) {
            nb_log(NB_LOG_INFO, "script stopped at step %zu: SW %04X not expected", i, sw);
            run->reason = pin_entry_error(step, sw);
            return 0;
        }
    }
    run->completed = 1;
    run->stopped_at = -1;
    return 0;
}

/* The reply: the result, or the error with the result as its detail. */
static nb_error finish(nb_session *s, nb_handle *h, run_state *run, nb_outcome *out)
{
    cJSON *result = cJSON_CreateObject();
    if (result == NULL || cJSON_AddBoolToObject(result, "completed", run->completed) == NULL ||
        (run->stopped_at >= 0 ? cJSON_AddNumberToObject(result, "stopped_at", (double)run->stopped_at)
                              : cJSON_AddNullToObject(result, "stopped_at")) == NULL ||
        !cJSON_AddItemToObject(result, "steps", run->steps)) {
        cJSON_Delete(result);
        cJSON_Delete(run->steps);
        return nb_fail(out, NB_ERR_INTERNAL, "out of memory after the script ran");
    }
    if (run->rv != NB_SCARD_S_SUCCESS) {
        /* removed-card, reset-card, ...: the detail says where it stopped. */
        nb_card_fail(s, h, out, run->rv);
    } else if (run->reason != NB_OK) {
        nb_fail(out, run->reason, NULL);
    }
    out->result = result;
    return out->err;
}

static int script_held_secrets(const nb_script *script)
{
    for (size_t i = 0; i < script->step_count; i++)
        if (script->steps[i].secret)
            return 1;
    return 0;
}

/* Runs an admitted script inside one transaction, from its first APDU to
 * its last. Once the first APDU is out the nonce is spent and the script
 * runs to its end even if the port closes. A script that does not
 * complete ends its transaction with a card reset, so that nothing it
 * opened on the card (an authenticated session, the permission to set a
 * new PIN) outlives it. */
static nb_error execute(nb_session *s, nb_handle *h, const nb_script *script, const pin_source *pin,
                        nb_outcome *out)
{
    run_state run = {.steps = cJSON_CreateArray(), .stopped_at = -1};
    nb_io_buffers *io = nb_session_io(s);
    if (run.steps == NULL || io == NULL) {
        cJSON_Delete(run.steps);
        return nb_fail(out, NB_ERR_INTERNAL, "out of memory; nothing was sent");
    }
    uint8_t *data = io->data;
    int own_transaction = !h->in_transaction; /* or inside the page's own */
    uint32_t rv = own_transaction ? nb_transaction_begin(s, h, nb_card_timeout_ms(s)) : NB_SCARD_S_SUCCESS;
    nb_error late = NB_OK;
    if (rv == NB_SCARD_S_SUCCESS) {
        /* The wait for the card may have taken a while: the nonce and the
         * time must still hold now. */
        time_t now = nb_session_now(s);
        late = nb_nonce_check(&s->nonces, script->nonce, h->id, now);
        if (late == NB_OK && now > script->not_after)
            late = NB_ERR_SCRIPT_EXPIRED;
        if (late != NB_OK && own_transaction)
            s->backend->end_transaction(s->backend->self, h->card, NB_LEAVE_CARD);
    }
    if (rv != NB_SCARD_S_SUCCESS || late != NB_OK) {
        cJSON_Delete(run.steps);
        return late != NB_OK ? nb_fail(out, late, NULL) : nb_transaction_refused(s, h, rv, out);
    }
    nb_nonce_consume(&s->nonces, script->nonce);
    nb_log(NB_LOG_INFO, "running a signed script of %zu steps on handle %u", script->step_count, h->id);
    nb_watchdog_finish_first(1);
    int oom = run_steps(s, h, script, pin, data, &run) != 0;
    nb_watchdog_finish_first(0);
    nb_wipe(data, NB_MAX_RESPONSE_DATA); /* a step that failed half-way left its answer */
    /* A script that held secrets (an authenticated session, the card's
     * permission to set a new PIN) ends with a reset even when it
     * completed: nothing it opened outlives it, whatever its expect lists
     * allowed. So does one that did not complete. */
    int reset = oom || !run.completed || script_held_secrets(script);
    if (reset || own_transaction) {
        const nb_backend *b = s->backend;
        nb_watchdog_enter(s->current_id, 0);
        b->end_transaction(b->self, h->card, reset ? NB_RESET_CARD : NB_LEAVE_CARD);
        nb_watchdog_leave();
        h->in_transaction = 0;
    }
    if (oom) {
        cJSON_Delete(run.steps);
        return nb_fail(out, NB_ERR_INTERNAL, "out of memory; the script was stopped and the card reset");
    }
    return finish(s, h, &run, out);
}

nb_error nb_cmd_run_script(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK)
        return out->err;
    nb_script script;
    pin_source pin;
    memset(&pin, 0, sizeof(pin));
    /* Signature, form, nonce, card, time, then the PIN: all before the
     * first APDU. */
    nb_error err = admit_script(s, h, args, &script, out);
    if (err != NB_OK)
        return err;
    err = admit_pin(s, h, args, &script, &pin, out);
    if (err == NB_OK)
        err = execute(s, h, &script, &pin, out);
    nb_wipe(&pin, sizeof(pin));
    nb_script_free(&script);
    return err;
}
