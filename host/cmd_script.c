/* Commands that may change a card: get-nonce and run-script. A script
 * runs only when the authority signed it for this card, this handle and
 * this moment (docs/protocol.md, "Signed scripts"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu.h"
#include "base64.h"
#include "dispatch.h"
#include "hex.h"
#include "log.h"
#include "pinpad.h"
#include "script.h"

#define MAX_SCRIPT_B64 (200u * 1024u)
#define MAX_SIGNATURE_B64 1024u

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
    if (nb_arg_string(args, "script", MAX_SCRIPT_B64, NULL, &script_b64, out) != NB_OK ||
        nb_arg_string(args, "key_id", NB_KEY_ID_HEX, NULL, &key_id, out) != NB_OK)
        return out->err;
    const cJSON *sig_item = cJSON_GetObjectItemCaseSensitive(args, "signature");
    signature_b64 = sig_item->valuestring;
    if (strlen(signature_b64) > MAX_SIGNATURE_B64)
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
        err = nb_trust_verify(s->trust, key_id, script_bytes, script_len, sig, sig_len);
        if (err != NB_OK)
            nb_fail(out, err, NULL);
        else
            err = nb_script_parse(script_bytes, script_len, script, out);
    }
    free(sig);
    free(script_bytes);
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

static cJSON *step_entry(const nb_step *step, const uint8_t *resp, size_t resp_len)
{
    cJSON *entry = cJSON_CreateObject();
    char sw[5];
    nb_hex_encode(resp + resp_len - 2, 2, sw);
    cJSON_AddStringToObject(entry, "sw", sw);
    if (step->secret) {
        cJSON_AddNullToObject(entry, "data"); /* withheld */
    } else {
        char *hex = malloc(2 * (resp_len - 2) + 1);
        if (hex != NULL) {
            nb_hex_encode(resp, resp_len - 2, hex);
            cJSON_AddStringToObject(entry, "data", hex);
            free(hex);
        }
    }
    return entry;
}

/* Where the new PIN comes from: typed in the extension, or on a pinpad. */
typedef struct {
    const char *typed;
    int pinpad;
    uint32_t modify_code; /* FEATURE_MODIFY_PIN_DIRECT control code */
} pin_source;

/* Asks the reader for its PIN-modify control code. */
static nb_error find_pinpad(nb_session *s, nb_handle *h, uint32_t *code, nb_outcome *out)
{
    uint8_t tlv[256];
    size_t len = sizeof(tlv);
    uint32_t rv = s->backend->control(s->backend->self, h->card, NB_IOCTL_GET_FEATURE_REQUEST, NULL,
                                      0, tlv, &len);
    if (rv != NB_SCARD_S_SUCCESS || !nb_pinpad_feature(tlv, len, NB_FEATURE_MODIFY_PIN_DIRECT, code))
        return nb_fail(out, NB_ERR_UNSUPPORTED_FEATURE, "this reader has no PIN-modify pinpad");
    return NB_OK;
}

/* The reader collects the new PIN and sends the APDU itself. */
static uint32_t pinpad_step(nb_session *s, nb_handle *h, const nb_step *step, uint32_t code,
                            uint8_t *resp, size_t *resp_len)
{
    uint8_t modify[64];
    size_t n = nb_pinpad_modify_structure(step, modify, sizeof(modify));
    if (n == 0)
        return NB_SCARD_E_INVALID_PARAMETER;
    nb_log(NB_LOG_INFO, "new PIN entry on the pinpad");
    uint32_t rv = s->backend->control(s->backend->self, h->card, code, modify, n, resp, resp_len);
    if (rv == NB_SCARD_S_SUCCESS && *resp_len < 2)
        rv = NB_SCARD_E_COMM_DATA_LOST;
    return rv;
}

/* Sends one step; fills the response. The PIN APDU lives in the session
 * and is wiped as soon as it has been sent. */
static uint32_t send_step(nb_session *s, nb_handle *h, const nb_step *step, const pin_source *pin,
                          uint8_t *resp, size_t *resp_len)
{
    if (step->kind == NB_STEP_APDU)
        return nb_card_transmit(s, h, step->apdu, step->apdu_len, step->secret, resp, resp_len);
    if (pin->pinpad)
        return pinpad_step(s, h, step, pin->modify_code, resp, resp_len);
    size_t n = nb_new_pin_apdu(step, pin->typed, s->pin_apdu, sizeof(s->pin_apdu));
    uint32_t rv = n == 0 ? NB_SCARD_E_INVALID_PARAMETER
                         : nb_card_transmit(s, h, s->pin_apdu, n, 1, resp, resp_len);
    OPENSSL_cleanse(s->pin_apdu, sizeof(s->pin_apdu));
    return rv;
}

static nb_error execute(nb_session *s, nb_handle *h, const nb_script *script, const pin_source *pin,
                        nb_outcome *out)
{
    const nb_backend *b = s->backend;
    uint32_t rv = b->begin_transaction(b->self, h->card);
    if (rv != NB_SCARD_S_SUCCESS) {
        nb_session_note_rv(s, rv);
        return nb_fail_pcsc(out, rv);
    }
    cJSON *steps = cJSON_CreateArray();
    uint8_t *resp = malloc(NB_RESPONSE_MAX_BYTES);
    int completed = 1;
    long stopped_at = -1;
    for (size_t i = 0; resp != NULL && i < script->step_count; i++) {
        const nb_step *step = &script->steps[i];
        size_t resp_len = NB_RESPONSE_MAX_BYTES;
        rv = send_step(s, h, step, pin, resp, &resp_len);
        if (rv != NB_SCARD_S_SUCCESS) {
            stopped_at = (long)i;
            break;
        }
        cJSON_AddItemToArray(steps, step_entry(step, resp, resp_len));
        uint16_t sw = (uint16_t)(resp[resp_len - 2] << 8 | resp[resp_len - 1]);
        OPENSSL_cleanse(resp, resp_len);
        if (!nb_sw_matches(step, sw)) {
            completed = 0;
            stopped_at = (long)i;
            nb_log(NB_LOG_INFO, "script stopped at step %zu: SW %04X not expected", i, sw);
            break;
        }
    }
    free(resp);
    /* The transaction ends whatever happened; LEAVE keeps the card's state. */
    b->end_transaction(b->self, h->card, NB_LEAVE_CARD);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddBoolToObject(result, "completed", completed && rv == NB_SCARD_S_SUCCESS);
    if (stopped_at >= 0)
        cJSON_AddNumberToObject(result, "stopped_at", (double)stopped_at);
    else
        cJSON_AddNullToObject(result, "stopped_at");
    cJSON_AddItemToObject(result, "steps", steps);
    if (rv != NB_SCARD_S_SUCCESS) {
        /* removed-card, reset-card, ...: the detail says where it stopped. */
        nb_session_note_rv(s, rv);
        nb_fail_pcsc(out, rv);
        out->result = result;
        return out->err;
    }
    out->result = result;
    return NB_OK;
}

nb_error nb_cmd_run_script(nb_session *s, const cJSON *args, nb_outcome *out)
{
    nb_handle *h = NULL;
    if (nb_find_handle(s, args, &h, out) != NB_OK)
        return out->err;
    const char *new_pin = NULL, *confirmation = NULL;
    if (nb_arg_string(args, "new_pin", NB_NEW_PIN_MAX, NULL, &new_pin, out) != NB_OK ||
        nb_arg_string(args, "new_pin_confirm", NB_NEW_PIN_MAX, NULL, &confirmation, out) != NB_OK)
        return nb_fail(out, NB_ERR_PIN_FORMAT, NULL); /* never echo the PIN's faults in detail */
    pin_source pin = {.typed = new_pin, .pinpad = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "pinpad"))};
    nb_script script;
    nb_error admitted = admit_script(s, h, args, &script, out);
    if (admitted != NB_OK)
        return admitted;
    nb_error err = NB_OK;
    if (script.new_pin_step == NULL && (new_pin != NULL || confirmation != NULL || pin.pinpad))
        err = nb_fail(out, NB_ERR_BAD_REQUEST, "this script asks for no new PIN");
    else if (pin.pinpad && (new_pin != NULL || confirmation != NULL))
        err = nb_fail(out, NB_ERR_BAD_REQUEST, "a PIN typed on the pinpad comes with no new_pin");
    else if (pin.pinpad)
        err = find_pinpad(s, h, &pin.modify_code, out);
    else if (script.new_pin_step != NULL)
        err = nb_new_pin_check(script.new_pin_step, new_pin, confirmation);
    if (err != NB_OK) {
        nb_script_free(&script);
        return out->err == err ? err : nb_fail(out, err, NULL);
    }
    /* From here on the nonce is spent, whatever the card says. */
    nb_nonce_consume(&s->nonces, script.nonce);
    nb_log(NB_LOG_INFO, "running a signed script of %zu steps on handle %u", script.step_count, h->id);
    err = execute(s, h, &script, &pin, out);
    nb_script_free(&script);
    return err;
}
