/* SPDX-License-Identifier: Apache-2.0 */
#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "hex.h"
#include "jsonguard.h"
#include "platform.h"
#include "policy.h"
#include "wipe.h"

int nb_parse_utc(const char *text, time_t *out)
{
    int y, mo, d, h, mi, s;
    char z = 0;
    if (strlen(text) != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) != 7 || z != 'Z')
        return -1;
    for (size_t i = 0; i < 19; i++)
        if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (text[i] < '0' || text[i] > '9'))
            return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = nb_timegm(&tm);
    /* timegm normalises 31 February; a round trip catches it. */
    if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d ||
        tm.tm_hour != h || tm.tm_min != mi || tm.tm_sec != s)
        return -1;
    *out = t;
    return 0;
}

static int only_keys(const cJSON *obj, const char *const *keys, size_t n, const char **bad)
{
    for (const cJSON *item = obj->child; item != NULL; item = item->next) {
        size_t i = 0;
        while (i < n && strcmp(keys[i], item->string) != 0)
            i++;
        if (i == n) {
            *bad = item->string;
            return 0;
        }
    }
    return 1;
}

static int parse_pattern(const char *text, nb_sw_pattern *p)
{
    if (strlen(text) != 4)
        return -1;
    p->value = p->mask = 0;
    for (int i = 0; i < 4; i++) {
        char c = text[i];
        unsigned nibble;
        unsigned shift = (unsigned)(12 - 4 * i);
        if (c == '?') {
            continue;
        } else if (c >= '0' && c <= '9') {
            nibble = (unsigned)(c - '0');
        } else if (c >= 'A' && c <= 'F') {
            nibble = (unsigned)(c - 'A' + 10);
        } else if (c >= 'a' && c <= 'f') {
            nibble = (unsigned)(c - 'a' + 10);
        } else {
            return -1;
        }
        p->value = (uint16_t)(p->value | nibble << shift);
        p->mask = (uint16_t)(p->mask | 0xFu << shift);
    }
    return 0;
}

int nb_sw_matches(const nb_step *step, uint16_t sw)
{
    for (size_t i = 0; i < step->expect_count; i++)
        if ((sw & step->expect[i].mask) == step->expect[i].value)
            return 1;
    return 0;
}

static int integer_in(const cJSON *item, unsigned min, unsigned max, unsigned *out)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double v = item->valuedouble;
    /* Range first: converting an out-of-range double is undefined. */
    if (!(v >= (double)min && v <= (double)max) || !nb_is_whole(v))
        return 0;
    *out = (unsigned)v;
    return 1;
}

static nb_error parse_new_pin(const cJSON *spec, nb_step *step, size_t index, nb_outcome *out)
{
    static const char *const keys[] = {"apdu_prefix", "min_len", "max_len", "charset",
                                       "confirm",     "pad_to",  "pad_byte"};
    const char *bad = NULL;
    if (!cJSON_IsObject(spec) || !only_keys(spec, keys, 7, &bad))
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: new_pin has an unknown field %.32s",
                       index, bad != NULL ? bad : "");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(spec, "apdu_prefix");
    const cJSON *charset = cJSON_GetObjectItemCaseSensitive(spec, "charset");
    const cJSON *confirm = cJSON_GetObjectItemCaseSensitive(spec, "confirm");
    const cJSON *pad_to = cJSON_GetObjectItemCaseSensitive(spec, "pad_to");
    const cJSON *pad_byte = cJSON_GetObjectItemCaseSensitive(spec, "pad_byte");
    if (!cJSON_IsString(prefix) ||
        nb_hex_decode(prefix->valuestring, strlen(prefix->valuestring), step->header, 4) != 4)
        return nb_fail(out, NB_ERR_SCRIPT_BAD_APDU, "step %zu: apdu_prefix must be 4 bytes of hex", index);
    if (!integer_in(cJSON_GetObjectItemCaseSensitive(spec, "min_len"), NB_NEW_PIN_MIN, NB_NEW_PIN_MAX,
                    &step->min_len) ||
        !integer_in(cJSON_GetObjectItemCaseSensitive(spec, "max_len"), step->min_len, NB_NEW_PIN_MAX,
                    &step->max_len))
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: min_len/max_len must satisfy %d <= min <= max <= %d",
                       index, NB_NEW_PIN_MIN, NB_NEW_PIN_MAX);
    if (!cJSON_IsString(charset) || strcmp(charset->valuestring, "digits") != 0)
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: charset must be \"digits\"", index);
    if (!cJSON_IsBool(confirm))
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: confirm must be a boolean", index);
    step->confirm = cJSON_IsTrue(confirm);
    step->pad_to = 0;
    if (pad_to != NULL || pad_byte != NULL) {
        if (!integer_in(pad_to, step->max_len, NB_NEW_PIN_MAX, &step->pad_to) ||
            !cJSON_IsString(pad_byte) ||
            nb_hex_decode(pad_byte->valuestring, strlen(pad_byte->valuestring), &step->pad_byte, 1) != 1)
            return nb_fail(out, NB_ERR_SCRIPT_INVALID,
                           "step %zu: pad_to (max_len..%d) and pad_byte (1 byte of hex) go together",
                           index, NB_NEW_PIN_MAX);
    }
    /* The header must make a well-formed command with the longest PIN, so
     * that nothing fails locally after earlier steps ran. */
    uint8_t probe[5 + NB_NEW_PIN_MAX];
    char longest[NB_NEW_PIN_MAX + 1];
    memset(longest, '0', step->max_len);
    longest[step->max_len] = '\0';
    size_t probe_len = nb_new_pin_apdu(step, longest, probe, sizeof(probe));
    nb_apdu parsed;
    const char *why = NULL;
    if (probe_len == 0 || nb_apdu_parse(probe, probe_len, &parsed, &why) != 0 || parsed.cla == 0xFF)
        return nb_fail(out, NB_ERR_SCRIPT_BAD_APDU, "step %zu: apdu_prefix does not make a command APDU", index);
    /* Only success may follow the new PIN: a step that "expects" a refusal
     * (6401, or 63C?) would let a script complete with the card still open
     * to a new PIN. */
    for (size_t i = 0; i < step->expect_count; i++)
        if (step->expect[i].mask != 0xFFFF || step->expect[i].value != 0x9000)
            return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: a new_pin step expects exactly 9000", index);
    step->kind = NB_STEP_NEW_PIN;
    step->secret = 1;
    return NB_OK;
}

static nb_error parse_step(const cJSON *item, nb_step *step, size_t index, nb_outcome *out)
{
    static const char *const keys[] = {"apdu", "new_pin", "expect", "secret"};
    const char *bad = NULL;
    if (!cJSON_IsObject(item) || !only_keys(item, keys, 4, &bad))
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu has an unknown field %.32s", index,
                       bad != NULL ? bad : "");
    const cJSON *apdu = cJSON_GetObjectItemCaseSensitive(item, "apdu");
    const cJSON *new_pin = cJSON_GetObjectItemCaseSensitive(item, "new_pin");
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(item, "expect");
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(item, "secret");
    if ((apdu == NULL) == (new_pin == NULL))
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu needs exactly one of apdu and new_pin", index);
    if (!cJSON_IsArray(expect) || cJSON_GetArraySize(expect) < 1 ||
        cJSON_GetArraySize(expect) > NB_SCRIPT_MAX_EXPECT)
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: expect must list 1 to %d status words",
                       index, NB_SCRIPT_MAX_EXPECT);
    const cJSON *pattern;
    cJSON_ArrayForEach(pattern, expect) {
        if (!cJSON_IsString(pattern) ||
            parse_pattern(pattern->valuestring, &step->expect[step->expect_count]) != 0)
            return nb_fail(out, NB_ERR_SCRIPT_INVALID,
                           "step %zu: expect entries are 4 hex digits or ?, like \"63C?\"", index);
        step->expect_count++;
    }
    if (secret != NULL && !cJSON_IsBool(secret))
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: secret must be a boolean", index);
    if (new_pin != NULL) {
        if (secret != NULL && !cJSON_IsTrue(secret))
            return nb_fail(out, NB_ERR_SCRIPT_INVALID, "step %zu: a new_pin step is always secret", index);
        return parse_new_pin(new_pin, step, index, out);
    }
    step->kind = NB_STEP_APDU;
    size_t hex_len = cJSON_IsString(apdu) ? strlen(apdu->valuestring) : 0;
    uint8_t bytes[NB_SCRIPT_MAX_APDU];
    long n = hex_len > 0 ? nb_hex_decode(apdu->valuestring, hex_len, bytes, sizeof(bytes)) : -1;
    nb_apdu parsed;
    const char *why = "not hex";
    nb_error err = NB_OK;
    if (n < 0 || nb_apdu_parse(bytes, (size_t)n, &parsed, &why) != 0) {
        err = nb_fail(out, NB_ERR_SCRIPT_BAD_APDU, "step %zu: apdu: %s", index,
                      n < 0 ? "must be hex of at most 1024 bytes" : why);
    } else if ((step->apdu = malloc((size_t)n)) == NULL) {
        err = nb_fail(out, NB_ERR_INTERNAL, NULL);
    } else {
        /* The script may mark a step secret; it cannot unmark what the
         * policy classes as secret (VERIFY, PIN changes, authentication,
         * secure messaging). */
        step->secret = cJSON_IsTrue(secret) || nb_policy_data_is_secret(&parsed);
        memcpy(step->apdu, bytes, (size_t)n);
        step->apdu_len = (size_t)n;
    }
    nb_wipe(bytes, sizeof(bytes)); /* it may have held a PUK or a key */
    return err;
}

nb_error nb_script_parse(const uint8_t *bytes, size_t len, nb_script *script, nb_outcome *out)
{
    memset(script, 0, sizeof(*script));
    const char *why = NULL;
    cJSON *root = nb_json_parse_checked((const char *)bytes, len, &why);
    if (root == NULL)
        return nb_fail(out, NB_ERR_SCRIPT_INVALID, "script: %s", why);
    static const char *const keys[] = {"version", "nonce", "atr", "not_after", "steps"};
    const char *bad = NULL;
    nb_error err = NB_OK;
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(root, "nonce");
    const cJSON *atr = cJSON_GetObjectItemCaseSensitive(root, "atr");
    const cJSON *not_after = cJSON_GetObjectItemCaseSensitive(root, "not_after");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
    long atr_len = -1;
    if (!cJSON_IsObject(root) || !only_keys(root, keys, 5, &bad)) {
        err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "script has an unknown field %.32s", bad != NULL ? bad : "");
    } else if (!cJSON_IsNumber(version) || version->valuedouble != NB_SCRIPT_VERSION) {
        err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "script version must be %d", NB_SCRIPT_VERSION);
    } else if (!cJSON_IsString(nonce) || strlen(nonce->valuestring) != 2 * NB_NONCE_BYTES ||
               nb_hex_decode(nonce->valuestring, 2 * NB_NONCE_BYTES, script->nonce, NB_NONCE_BYTES) < 0) {
        err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "script nonce must be 64 hex digits");
    } else if (!cJSON_IsString(atr) ||
               (atr_len = nb_hex_decode(atr->valuestring, strlen(atr->valuestring), script->atr,
                                        NB_MAX_ATR)) < 2) {
        err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "script atr must be the card's ATR in hex");
    } else if (!cJSON_IsString(not_after) || nb_parse_utc(not_after->valuestring, &script->not_after) != 0) {
        err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "script not_after must be YYYY-MM-DDTHH:MM:SSZ");
    } else if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) < 1) {
        err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "script steps must be a non-empty array");
    } else if (cJSON_GetArraySize(steps) > NB_SCRIPT_MAX_STEPS) {
        err = nb_fail(out, NB_ERR_SCRIPT_TOO_LONG, "a script has at most %d steps", NB_SCRIPT_MAX_STEPS);
    }
    if (err == NB_OK) {
        script->atr_len = (size_t)atr_len;
        size_t n = (size_t)cJSON_GetArraySize(steps);
        script->steps = calloc(n, sizeof(nb_step));
        if (script->steps == NULL) {
            cJSON_Delete(root);
            return nb_fail(out, NB_ERR_INTERNAL, NULL);
        }
        const cJSON *item = steps->child;
        for (size_t i = 0; err == NB_OK && i < n && item != NULL; i++, item = item->next) {
            script->step_count = i + 1;
            err = parse_step(item, &script->steps[i], i, out);
            if (err == NB_OK && script->steps[i].kind == NB_STEP_NEW_PIN) {
                if (script->new_pin_step != NULL)
                    err = nb_fail(out, NB_ERR_SCRIPT_INVALID, "a script may ask for one new PIN only");
                script->new_pin_step = &script->steps[i];
            }
        }
    }
    cJSON_Delete(root);
    if (err != NB_OK)
        nb_script_free(script);
    return err;
}

void nb_script_free(nb_script *script)
{
    for (size_t i = 0; i < script->step_count; i++)
        nb_free_wiped(script->steps[i].apdu);
    nb_free_wiped(script->steps); /* their headers and PIN rules */
    memset(script, 0, sizeof(*script));
}

nb_error nb_new_pin_check(const nb_step *step, const char *pin, const char *confirmation)
{
    if (pin == NULL)
        return NB_ERR_PIN_REQUIRED;
    size_t len = strlen(pin);
    if (len < step->min_len || len > step->max_len)
        return NB_ERR_PIN_FORMAT;
    for (size_t i = 0; i < len; i++)
        if (pin[i] < '0' || pin[i] > '9')
            return NB_ERR_PIN_FORMAT;
    if (step->confirm) {
        if (confirmation == NULL || strlen(confirmation) != len ||
            !nb_equal_secret(pin, confirmation, len))
            return NB_ERR_PIN_MISMATCH;
    }
    return NB_OK;
}

size_t nb_new_pin_apdu(const nb_step *step, const char *pin, uint8_t *out, size_t cap)
{
    size_t len = strlen(pin);
    size_t field = step->pad_to > len ? step->pad_to : len;
    if (5 + field > cap)
        return 0;
    memcpy(out, step->header, 4);
    out[4] = (uint8_t)field;
    memcpy(out + 5, pin, len);
    memset(out + 5 + len, step->pad_byte, field - len);
    return 5 + field;
}
