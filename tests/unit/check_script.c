/* SPDX-License-Identifier: Apache-2.0 */
/* Signed scripts on the fake backend: signatures, every refusal, the nonce
 * lifecycle with an injected clock, execution, and PIN wiping. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "authority.h"
#include "base64.h"
#include "dispatch.h"
#include "errors.h"
#include "fake_backend.h"
#include "hex.h"
#include "nonce.h"
#include "script.h"
#include "log.h"
#include "testutil.h"
#include "trust.h"

#define ORIGIN "https://kamusm.gov.tr"
#define ATR_HEX "3B88018066414B49534E4273"

static EVP_PKEY *ec_key, *rsa_key, *stranger_key;
static fake_backend fake;
static nb_session session;
static nb_trust_store *store;
static time_t fake_now = 1800000000;
static int handle;

static time_t test_clock(void)
{
    return fake_now;
}

static void make_keys(void)
{
    ec_key = authority_new_key(0);
    rsa_key = authority_new_key(1);
    stranger_key = authority_new_key(0);
}

static void free_keys(void)
{
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(stranger_key);
}

static cJSON *call(const char *cmd, const char *args)
{
    char *json = malloc(strlen(args) + 256);
    sprintf(json, "{\"id\":1,\"cmd\":\"%s\",\"origin\":\"" ORIGIN "\",\"args\":%s}", cmd, args);
    char *reply = nb_dispatch(&session, json, strlen(json));
    free(json);
    cJSON *parsed = cJSON_Parse(reply);
    free(reply);
    ck_assert_ptr_nonnull(parsed);
    return parsed;
}

static const char *code(const cJSON *reply)
{
    const cJSON *error = cJSON_GetObjectItem(reply, "error");
    return error != NULL ? cJSON_GetObjectItem(error, "code")->valuestring : "ok";
}

static const cJSON *result(const cJSON *reply, const char *field)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "result"), field);
}

static int connect_card(void)
{
    cJSON *r = call("connect", "{\"reader\":\"Fake Reader 00 00\"}");
    int h = result(r, "handle")->valueint;
    cJSON_Delete(r);
    return h;
}

static void setup(void)
{
    fake_init(&fake);
    nb_session_init(&session, &fake.backend, NULL, 1);
    store = nb_trust_load(nb_crypto_direct(), NULL, 0);
    EVP_PKEY_up_ref(ec_key);
    EVP_PKEY_up_ref(rsa_key);
    ck_assert_int_eq(nb_trust_add_key(store, ec_key), 0);
    ck_assert_int_eq(nb_trust_add_key(store, rsa_key), 0);
    session.trust = store;
    session.clock = test_clock;
    fake_now = 1800000000;
    cJSON_Delete(call("hello", "{\"protocol\":1}"));
    handle = connect_card();
}

static void teardown(void)
{
    nb_session_close(&session);
    ck_assert_int_eq(fake.transactions_open, 0);
    nb_trust_free(store);
    fake_destroy(&fake);
}

static void get_nonce(int h, char nonce[65])
{
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    cJSON *r = call("get-nonce", args);
    ck_assert_str_eq(code(r), "ok");
    ck_assert_int_eq(result(r, "expires_in")->valueint, 300);
    snprintf(nonce, 65, "%s", result(r, "nonce")->valuestring);
    ck_assert_uint_eq(strlen(nonce), 64);
    cJSON_Delete(r);
}

/* A script around the given steps JSON, with this session's nonce. */
static char *script_json(const char *nonce, const char *atr, long not_after, const char *steps)
{
    static char json[65536];
    char when[21];
    authority_utc(not_after, when);
    snprintf(json, sizeof(json),
             "{\"version\":1,\"nonce\":\"%s\",\"atr\":\"%s\",\"not_after\":\"%s\",\"steps\":%s}", nonce,
             atr, when, steps);
    return json;
}

/* Signs and runs; extra holds further run-script arguments. */
static cJSON *run(EVP_PKEY *key, const char *json, const char *extra)
{
    char *script_b64 = NULL, *sig_b64 = NULL, key_id[65];
    ck_assert_int_eq(authority_sign(key, json, 0, &script_b64, &sig_b64, key_id), 0);
    char *args = malloc(strlen(script_b64) + strlen(sig_b64) + 512);
    sprintf(args, "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"%s}", handle,
            script_b64, sig_b64, key_id, extra);
    cJSON *r = call("run-script", args);
    free(args);
    free(script_b64);
    free(sig_b64);
    return r;
}

#define SELECT_STEP "{\"apdu\":\"00A4040C07504B43532D3135\",\"expect\":[\"9000\"]}"
#define NEW_PIN_STEP                                                                          \
    "{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"digits\"," \
    "\"confirm\":true,\"pad_to\":8,\"pad_byte\":\"FF\"},\"expect\":[\"9000\"]}"

START_TEST(both_key_types_and_raw_ecdsa)
{
    EVP_PKEY *keys[] = {ec_key, rsa_key};
    for (int i = 0; i < 2; i++) {
        char nonce[65];
        get_nonce(handle, nonce);
        cJSON *r = run(keys[i], script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"), "");
        ck_assert_str_eq(code(r), "ok");
        ck_assert(cJSON_IsTrue(result(r, "completed")));
        ck_assert(cJSON_IsNull(result(r, "stopped_at")));
        cJSON_Delete(r);
    }
    /* A WebCrypto-style r||s signature verifies too. */
    char nonce[65], *script_b64, *sig_b64, key_id[65];
    get_nonce(handle, nonce);
    ck_assert_int_eq(authority_sign(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"),
                                    1, &script_b64, &sig_b64, key_id), 0);
    char args[4096];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"}",
             handle, script_b64, sig_b64, key_id);
    cJSON *r = call("run-script", args);
    ck_assert_str_eq(code(r), "ok");
    cJSON_Delete(r);
    free(script_b64);
    free(sig_b64);
}
END_TEST

START_TEST(signature_refusals)
{
    char nonce[65], *script_b64, *sig_b64, key_id[65], args[4096];
    get_nonce(handle, nonce);
    const char *json = script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]");
    ck_assert_int_eq(authority_sign(ec_key, json, 0, &script_b64, &sig_b64, key_id), 0);
    /* A flipped byte in the script. */
    char *tampered = strdup(script_b64);
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    snprintf(args, sizeof(args), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"}",
             handle, tampered, sig_b64, key_id);
    cJSON *r = call("run-script", args);
    ck_assert_str_eq(code(r), "bad-signature");
    cJSON_Delete(r);
    /* No signature. */
    snprintf(args, sizeof(args), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"\",\"key_id\":\"%s\"}",
             handle, script_b64, key_id);
    r = call("run-script", args);
    ck_assert_str_eq(code(r), "bad-signature");
    cJSON_Delete(r);
    /* Signature field absent altogether. */
    snprintf(args, sizeof(args), "{\"handle\":%d,\"script\":\"%s\",\"key_id\":\"%s\"}", handle, script_b64, key_id);
    r = call("run-script", args);
    ck_assert_str_eq(code(r), "bad-request");
    cJSON_Delete(r);
    /* A key the host does not trust. */
    cJSON_Delete(r = run(stranger_key, json, ""));
    r = run(stranger_key, json, "");
    ck_assert_str_eq(code(r), "unknown-key");
    cJSON_Delete(r);
    /* The untouched script still runs: refusals did not spend the nonce. */
    snprintf(args, sizeof(args), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"}",
             handle, script_b64, sig_b64, key_id);
    r = call("run-script", args);
    ck_assert_str_eq(code(r), "ok");
    cJSON_Delete(r);
    ck_assert_int_eq(fake.transmit_calls, 1);
    free(tampered);
    free(script_b64);
    free(sig_b64);
}
END_TEST

/* A well-formed script under a trusted key id, with a signature the key
 * really made, but over other bytes: bad-signature, nothing sent. (A
 * tampered script that stops parsing would not show that the signature
 * is checked at all.) */
START_TEST(a_signature_over_other_bytes_is_refused)
{
    char nonce[65], *signed_b64, *sig_b64, *other_b64, *unused_sig, key_id[65], args[8192];
    get_nonce(handle, nonce);
    char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"));
    ck_assert_int_eq(authority_sign(ec_key, json, 0, &signed_b64, &sig_b64, key_id), 0);
    char *other = strdup(script_json(nonce, ATR_HEX, fake_now + 60, "[{\"apdu\":\"00200081\",\"expect\":[\"9000\"]}]"));
    ck_assert_int_eq(authority_sign(ec_key, other, 0, &other_b64, &unused_sig, key_id), 0);
    snprintf(args, sizeof(args), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"}",
             handle, other_b64, sig_b64, key_id);
    cJSON *r = call("run-script", args);
    ck_assert_str_eq(code(r), "bad-signature");
    cJSON_Delete(r);
    ck_assert_str_eq(fake.events, "");
    free(json);
    free(other);
    free(signed_b64);
    free(sig_b64);
    free(other_b64);
    free(unused_sig);
}
END_TEST

START_TEST(nonce_refusals)
{
    char nonce[65];
    get_nonce(handle, nonce);
    const char *json = script_json(nonce, ATR_HEX, fake_now + 600, "[" SELECT_STEP "]");
    char *copy = strdup(json);
    cJSON *r = run(ec_key, copy, "");
    ck_assert_str_eq(code(r), "ok");
    cJSON_Delete(r);
    r = run(ec_key, copy, ""); /* replay */
    ck_assert_str_eq(code(r), "nonce-replayed");
    cJSON_Delete(r);
    free(copy);
    r = run(ec_key, script_json("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", ATR_HEX,
                                fake_now + 600, "[" SELECT_STEP "]"), "");
    ck_assert_str_eq(code(r), "nonce-replayed"); /* never issued */
    cJSON_Delete(r);
    /* Expired after 5 minutes. */
    get_nonce(handle, nonce);
    fake_now += 301;
    r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 600, "[" SELECT_STEP "]"), "");
    ck_assert_str_eq(code(r), "nonce-expired");
    cJSON_Delete(r);
    /* Issued for another handle. */
    int other = connect_card();
    get_nonce(other, nonce);
    r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 600, "[" SELECT_STEP "]"), "");
    ck_assert_str_eq(code(r), "nonce-wrong-handle");
    cJSON_Delete(r);
    /* A disconnected handle's nonces die with it. */
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", other);
    cJSON_Delete(call("disconnect", args));
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    ck_assert_int_eq(fake.transmit_calls, 1);
}
END_TEST

START_TEST(script_refusals)
{
    const struct {
        const char *steps;
        const char *atr;
        long valid_for;
        const char *code;
    } cases[] = {
        {"[" SELECT_STEP "]", "3B8801", 60, "wrong-card"},
        {"[" SELECT_STEP "]", ATR_HEX, -1, "script-expired"},
        {"[{\"apdu\":\"00A4\",\"expect\":[\"9000\"]}]", ATR_HEX, 60, "script-bad-apdu"},
        {"[{\"apdu\":\"00A4000C053F00\",\"expect\":[\"9000\"]}]", ATR_HEX, 60, "script-bad-apdu"},
        {"[{\"apdu\":\"zz\",\"expect\":[\"9000\"]}]", ATR_HEX, 60, "script-bad-apdu"},
        {"[{\"apdu\":\"00A40000\",\"expect\":[\"9000\"],\"extra\":1}]", ATR_HEX, 60, "script-invalid"},
        {"[{\"apdu\":\"00A40000\",\"expect\":[]}]", ATR_HEX, 60, "script-invalid"},
        {"[{\"apdu\":\"00A40000\",\"expect\":[\"90\"]}]", ATR_HEX, 60, "script-invalid"},
        {"[{\"apdu\":\"00A40000\",\"expect\":[\"9000\"],\"secret\":\"yes\"}]", ATR_HEX, 60, "script-invalid"},
        {"[{\"expect\":[\"9000\"]}]", ATR_HEX, 60, "script-invalid"},
        {"[]", ATR_HEX, 60, "script-invalid"},
        {"[" NEW_PIN_STEP "," NEW_PIN_STEP "]", ATR_HEX, 60, "script-invalid"},
        {"[{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":2,\"max_len\":8,\"charset\":\"digits\",\"confirm\":true},\"expect\":[\"9000\"]}]",
         ATR_HEX, 60, "script-invalid"},
        {"[{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"alnum\",\"confirm\":true},\"expect\":[\"9000\"]}]",
         ATR_HEX, 60, "script-invalid"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char nonce[65];
        get_nonce(handle, nonce);
        cJSON *r = run(ec_key, script_json(nonce, cases[i].atr, fake_now + cases[i].valid_for, cases[i].steps), "");
        ck_assert_msg(strcmp(code(r), cases[i].code) == 0, "case %zu: got %s, want %s", i, code(r), cases[i].code);
        cJSON_Delete(r);
    }
    /* Too many steps. */
    size_t n = NB_SCRIPT_MAX_STEPS + 1;
    char *steps = malloc(n * (sizeof(SELECT_STEP) + 1) + 3);
    strcpy(steps, "[");
    for (size_t i = 0; i < n; i++) {
        strcat(steps, i ? "," : "");
        strcat(steps, SELECT_STEP);
    }
    strcat(steps, "]");
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, steps), "");
    ck_assert_str_eq(code(r), "script-too-long");
    cJSON_Delete(r);
    free(steps);
    /* Unknown top-level field, other version, bad time. */
    const char *bad_scripts[] = {
        "{\"version\":1,\"nonce\":\"@\",\"atr\":\"" ATR_HEX "\",\"not_after\":\"2099-01-01T00:00:00Z\",\"steps\":[" SELECT_STEP "],\"origin\":\"x\"}",
        "{\"version\":2,\"nonce\":\"@\",\"atr\":\"" ATR_HEX "\",\"not_after\":\"2099-01-01T00:00:00Z\",\"steps\":[" SELECT_STEP "]}",
        "{\"version\":1,\"nonce\":\"@\",\"atr\":\"" ATR_HEX "\",\"not_after\":\"2099-02-30T00:00:00Z\",\"steps\":[" SELECT_STEP "]}",
        "{\"version\":1,\"nonce\":\"@\",\"atr\":\"" ATR_HEX "\",\"not_after\":\"2099-01-01 00:00:00\",\"steps\":[" SELECT_STEP "]}",
    };
    for (size_t i = 0; i < 4; i++) {
        get_nonce(handle, nonce);
        /* '@' stands for the nonce. */
        char json[1024];
        const char *at = strchr(bad_scripts[i], '@');
        snprintf(json, sizeof(json), "%.*s%s%s", (int)(at - bad_scripts[i]), bad_scripts[i], nonce, at + 1);
        r = run(ec_key, json, "");
        ck_assert_msg(strcmp(code(r), "script-invalid") == 0, "bad script %zu: %s", i, code(r));
        cJSON_Delete(r);
    }
    ck_assert_int_eq(fake.transmit_calls, 0);
}
END_TEST

/* Answers 6982 to VERIFY, data AABB + 9000 to GET CHALLENGE, 9000 else. */
static size_t picky_card(const uint8_t *cmd, size_t len, uint8_t *resp, void *arg)
{
    (void)len;
    (void)arg;
    if (cmd[1] == 0x20) {
        memcpy(resp, "\x69\x82", 2);
        return 2;
    }
    if (cmd[1] == 0x84) {
        memcpy(resp, "\xAA\xBB\x90\x00", 4);
        return 4;
    }
    memcpy(resp, "\x90\x00", 2);
    return 2;
}

START_TEST(execution_stops_and_withholds)
{
    fake.responder = picky_card;
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60,
                                       "[{\"apdu\":\"0084000002\",\"expect\":[\"9000\"]},"
                                       "{\"apdu\":\"0084000002\",\"expect\":[\"9000\"],\"secret\":true},"
                                       "{\"apdu\":\"0020008108313233343536FFFF\",\"expect\":[\"9000\",\"63C?\"],\"secret\":true},"
                                       SELECT_STEP "]"), "");
    ck_assert_str_eq(code(r), "ok");
    ck_assert(cJSON_IsFalse(result(r, "completed")));
    ck_assert_int_eq(result(r, "stopped_at")->valueint, 2);
    const cJSON *steps = result(r, "steps");
    ck_assert_int_eq(cJSON_GetArraySize(steps), 3);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 0), "data")->valuestring, "AABB");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 1), "data")));
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 2), "sw")->valuestring, "6982");
    ck_assert_int_eq(fake.transmit_calls, 3);
    ck_assert_int_eq(fake.transactions_open, 0);
    cJSON_Delete(r);
}
END_TEST

START_TEST(card_removed_mid_script)
{
    fake.transmit_rv = NB_SCARD_W_REMOVED_CARD;
    fake.transmit_fail_after = 1;
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "," SELECT_STEP "," SELECT_STEP "]"), "");
    ck_assert_str_eq(code(r), "removed-card");
    const cJSON *detail = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "detail");
    ck_assert_int_eq(cJSON_GetObjectItem(detail, "stopped_at")->valueint, 1);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(detail, "steps")), 1);
    ck_assert_int_eq(fake.transactions_open, 0);
    cJSON_Delete(r);
    /* The card is gone: the handle was let go, as for transmit. */
    ck_assert_int_eq(fake.cards_open, 0);
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    r = call("status", args);
    ck_assert_str_eq(code(r), "invalid-handle");
    cJSON_Delete(r);
}
END_TEST

START_TEST(new_pin_checks_and_wiping)
{
    char nonce[65];
    get_nonce(handle, nonce);
    char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 60, "[" NEW_PIN_STEP "]"));
    const struct {
        const char *extra, *code;
    } refusals[] = {
        {"", "pin-required"},
        {",\"new_pin\":\"12345\",\"new_pin_confirm\":\"12345\"", "pin-format"},
        {",\"new_pin\":\"123456789\",\"new_pin_confirm\":\"123456789\"", "pin-format"},
        {",\"new_pin\":\"12a456\",\"new_pin_confirm\":\"12a456\"", "pin-format"},
        {",\"new_pin\":\"654321\",\"new_pin_confirm\":\"654322\"", "pin-mismatch"},
        {",\"new_pin\":\"654321\"", "pin-mismatch"},
        {",\"new_pin\":654321,\"new_pin_confirm\":\"654321\"", "bad-request"},
    };
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        cJSON *r = run(ec_key, json, refusals[i].extra);
        ck_assert_msg(strcmp(code(r), refusals[i].code) == 0, "case %zu: %s", i, code(r));
        char *text = cJSON_PrintUnformatted(r);
        ck_assert_ptr_null(strstr(text, "12345")); /* a PIN never comes back */
        ck_assert_ptr_null(strstr(text, "654321"));
        free(text);
        cJSON_Delete(r);
    }
    ck_assert_int_eq(fake.transmit_calls, 0);
    /* The same script, still unspent, with a good PIN. */
    cJSON *r = run(ec_key, json, ",\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"");
    ck_assert_str_eq(code(r), "ok");
    ck_assert(cJSON_IsTrue(result(r, "completed")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(result(r, "steps"), 0), "data")));
    cJSON_Delete(r);
    const uint8_t want[] = {0x00, 0x24, 0x01, 0x81, 0x08, '6', '5', '4', '3', '2', '1', 0xFF, 0xFF};
    ck_assert_uint_eq(fake.last_apdu_len, sizeof(want));
    ck_assert_int_eq(memcmp(fake.last_apdu, want, sizeof(want)), 0);
    /* The host's own copy of the PIN APDU is gone. */
    static const uint8_t zeros[sizeof(session.pin_apdu)] = {0};
    ck_assert_int_eq(memcmp(session.pin_apdu, zeros, sizeof(zeros)), 0);
    /* A script without a PIN step refuses a PIN. */
    get_nonce(handle, nonce);
    r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"),
            ",\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"");
    ck_assert_str_eq(code(r), "bad-request");
    cJSON_Delete(r);
    free(json);
}
END_TEST

START_TEST(new_pin_on_a_pinpad)
{
    char nonce[65];
    get_nonce(handle, nonce);
    char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 60, "[" NEW_PIN_STEP "]"));
    /* No pinpad on this reader. */
    cJSON *r = run(ec_key, json, ",\"pinpad\":true");
    ck_assert_str_eq(code(r), "unsupported-feature");
    cJSON_Delete(r);
    const uint8_t features[] = {0x07, 0x04, 0x42, 0x33, 0x00, 0x07};
    memcpy(fake.features, features, sizeof(features));
    fake.features_len = sizeof(features);
    fake.pinpad_code = 0x42330007;
    r = run(ec_key, json, ",\"pinpad\":true,\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"");
    ck_assert_str_eq(code(r), "bad-request");
    cJSON_Delete(r);
    r = run(ec_key, json, ",\"pinpad\":true");
    ck_assert_str_eq(code(r), "ok");
    ck_assert(cJSON_IsTrue(result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_int_eq(fake.transmit_calls, 0); /* the reader sent the APDU itself */
    const uint8_t want[] = {60, 60, 0x82, 8, 0, 0, 0, 8, 6, 0x01, 0x02, 0x02, 0x1F, 0x04, 0, 1, 2, 0, 0, 0,
                            13, 0, 0, 0, 0x00, 0x24, 0x01, 0x81, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                            0xFF, 0xFF};
    ck_assert_uint_eq(fake.last_control_len, sizeof(want));
    ck_assert_int_eq(memcmp(fake.last_control, want, sizeof(want)), 0);
    free(json);
}
END_TEST

/* Every check that can fail without the card runs before the first APDU,
 * the signature first: a forged script with a bad PIN is bad-signature. */
START_TEST(the_signature_is_checked_first)
{
    char nonce[65];
    get_nonce(handle, nonce);
    char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 60, "[" NEW_PIN_STEP "]"));
    cJSON *r = run(stranger_key, json, ",\"new_pin\":\"12345678901234567\",\"new_pin_confirm\":\"1\"");
    ck_assert_str_eq(code(r), "unknown-key");
    cJSON_Delete(r);
    free(json);
    ck_assert_str_eq(fake.events, "");
}
END_TEST

#define PINPAD_STEP(pad)                                                                      \
    "[" SELECT_STEP ",{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,"     \
    "\"charset\":\"digits\",\"confirm\":true" pad "},\"expect\":[\"9000\"]}]"

static void give_a_pinpad(void)
{
    const uint8_t features[] = {0x07, 0x04, 0x42, 0x33, 0x00, 0x07};
    memcpy(fake.features, features, sizeof(features));
    fake.features_len = sizeof(features);
    fake.pinpad_code = 0x42330007;
}

/* A pinpad step whose field the PIN_MODIFY structure cannot carry (no
 * pad_to, or over 15 bytes: bmPINBlockString has four bits for it) is
 * refused before anything reaches the card, and the nonce stays good. */
START_TEST(a_pinpad_step_the_reader_cannot_do_is_refused_first)
{
    give_a_pinpad();
    const char *pads[] = {"", ",\"pad_to\":16,\"pad_byte\":\"FF\""};
    for (size_t i = 0; i < 2; i++) {
        char nonce[65];
        get_nonce(handle, nonce);
        char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 60, i == 0 ? PINPAD_STEP("")
                                                                          : PINPAD_STEP(",\"pad_to\":16,\"pad_byte\":\"FF\"")));
        cJSON *r = run(ec_key, json, ",\"pinpad\":true");
        ck_assert_msg(strcmp(code(r), "script-invalid") == 0, "pad %s: %s", pads[i], code(r));
        cJSON_Delete(r);
        ck_assert_str_eq(fake.events, "");
        free(json);
    }
    /* 15 fits: bmPINBlockString 0x0F, and the APDU template's Lc 15. */
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, PINPAD_STEP(",\"pad_to\":15,\"pad_byte\":\"FF\"")),
                   ",\"pinpad\":true");
    ck_assert_str_eq(code(r), "ok");
    cJSON_Delete(r);
    ck_assert_uint_eq(fake.last_control[3], 0x0F);
    ck_assert_uint_eq(fake.last_control[28], 15);
}
END_TEST

/* The holder cancels on the pinpad, or does not type: the page hears
 * pin-cancelled or pin-timeout, and the transaction ends with a reset so
 * that nothing the script opened on the card survives. */
START_TEST(pinpad_cancel_and_timeout_reset_the_card)
{
    give_a_pinpad();
    const struct {
        uint16_t sw;
        const char *code;
    } cases[] = {{0x6401, "pin-cancelled"}, {0x6400, "pin-timeout"}};
    for (size_t i = 0; i < 2; i++) {
        fake.pinpad_sw = cases[i].sw;
        fake.events[0] = '\0';
        char nonce[65];
        get_nonce(handle, nonce);
        cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, PINPAD_STEP(",\"pad_to\":8,\"pad_byte\":\"FF\"")),
                       ",\"pinpad\":true");
        ck_assert_str_eq(code(r), cases[i].code);
        const cJSON *detail = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "detail");
        ck_assert_int_eq(cJSON_GetObjectItem(detail, "stopped_at")->valueint, 1);
        cJSON_Delete(r);
        ck_assert_str_eq(fake.events, "BTA4CE1");
    }
}
END_TEST

/* A script that does not complete ends its transaction with a reset; one
 * that completes leaves the card as it is. */
START_TEST(an_incomplete_script_resets_the_card)
{
    fake.responder = picky_card;
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60,
                                       "[" SELECT_STEP ",{\"apdu\":\"00200081\",\"expect\":[\"9000\"]}]"), "");
    ck_assert(cJSON_IsFalse(result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_str_eq(fake.events, "BTA4T20E1");
    fake.events[0] = '\0';
    get_nonce(handle, nonce);
    r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"), "");
    ck_assert(cJSON_IsTrue(result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_str_eq(fake.events, "BTA4E0");
}
END_TEST

/* Another program holds the card: the script waits at most the card
 * timeout, nothing is sent, and the nonce is not spent. */
START_TEST(a_held_card_spends_no_nonce)
{
    nb_config config = {.card_timeout_ms = 150};
    session.config = &config;
    fake.begin_blocks = 1;
    char nonce[65];
    get_nonce(handle, nonce);
    char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"));
    cJSON *r = run(ec_key, json, "");
    ck_assert_str_eq(code(r), "sharing-violation");
    cJSON_Delete(r);
    ck_assert_int_eq(fake.transmit_calls, 0);
    pthread_mutex_lock(&fake.lock);
    fake.begin_release = 1;
    pthread_cond_broadcast(&fake.cond);
    pthread_mutex_unlock(&fake.lock);
    for (int i = 0; i < 500 && strstr(fake.events, "BE0") == NULL; i++)
        usleep(2000);
    usleep(20000); /* the helper forgets its wait right after letting go */
    fake.begin_blocks = 0;
    r = run(ec_key, json, "");
    ck_assert_str_eq(code(r), "ok");
    cJSON_Delete(r);
    free(json);
    session.config = NULL;
}
END_TEST

/* A VERIFY of the PUK that the script leaves unmarked is secret all the
 * same: the policy classes it so. Its data is withheld from the result and
 * from the debug log, and so is the data a secret step's 61xx leaves: the
 * script fetches it itself (GET RESPONSE inside its transaction). */
static size_t card_with_more_data(const uint8_t *cmd, size_t len, uint8_t *resp, void *arg)
{
    (void)len;
    (void)arg;
    if (cmd[1] == 0x88) {
        memcpy(resp, "\x61\x04", 2);
        return 2;
    }
    if (cmd[1] == 0xC0) {
        memcpy(resp, "\xC0\xFF\xEE\x42\x90\x00", 6);
        return 6;
    }
    memcpy(resp, "\x90\x00", 2);
    return 2;
}

static int log_holds(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    return strstr(text, needle) != NULL;
}

START_TEST(secret_steps_by_policy_and_their_follow_ups)
{
    fake.responder = card_with_more_data;
    char log_dir[] = "build/tests/script-log-XXXXXX", log_path[128];
    ck_assert_ptr_nonnull(mkdtemp(log_dir));
    snprintf(log_path, sizeof(log_path), "%s/host.log", log_dir);
    ck_assert_int_eq(nb_log_open("debug", log_path), 0);
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60,
                                       "[{\"apdu\":\"0020008208A1A2A3A4A5A6A7A8\",\"expect\":[\"9000\"],\"secret\":false},"
                                       "{\"apdu\":\"0088000008B1B2B3B4B5B6B7B800\",\"expect\":[\"9000\"]}]"), "");
    nb_log_close();
    ck_assert_str_eq(code(r), "ok");
    ck_assert(cJSON_IsTrue(result(r, "completed")));
    const cJSON *steps = result(r, "steps");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 0), "data")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 1), "data")));
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 1), "sw")->valuestring, "9000");
    cJSON_Delete(r);
    /* GET RESPONSE ran inside the transaction, before it ended (with a
     * reset: the script held secrets). */
    ck_assert_str_eq(fake.events, "BT20T88TC0E1");
    ck_assert(log_holds(log_path, "[data withheld]"));
    ck_assert(!log_holds(log_path, "A1A2A3A4"));
    ck_assert(!log_holds(log_path, "B1B2B3B4"));
    ck_assert(!log_holds(log_path, "C0FFEE42"));
    /* The same VERIFY through transmit: refused, and never logged. */
    ck_assert_int_eq(nb_log_open("debug", log_path), 0);
    char args[128];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"0020008208A1A2A3A4A5A6A7A8\"}", handle);
    r = call("transmit", args);
    nb_log_close();
    ck_assert_str_eq(code(r), "not-allowed");
    cJSON_Delete(r);
    ck_assert(!log_holds(log_path, "A1A2A3A4"));
    unlink(log_path);
    rmdir(log_dir);
}
END_TEST

/* The new PIN step may expect nothing but 9000 (a script "completing" on a
 * pinpad's 6401 would leave the card open to a new PIN), and its header
 * must make a command APDU; both refused before anything is sent. A
 * completed script that held secrets ends with a reset too. */
START_TEST(new_pin_steps_are_held_to_success)
{
    const char *steps[] = {
        "[" SELECT_STEP ",{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"digits\","
        "\"confirm\":true,\"pad_to\":8,\"pad_byte\":\"FF\"},\"expect\":[\"9000\",\"6401\"]}]",
        "[" SELECT_STEP ",{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"digits\","
        "\"confirm\":true,\"pad_to\":8,\"pad_byte\":\"FF\"},\"expect\":[\"90??\"]}]",
        "[" SELECT_STEP ",{\"new_pin\":{\"apdu_prefix\":\"FF240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"digits\","
        "\"confirm\":true,\"pad_to\":8,\"pad_byte\":\"FF\"},\"expect\":[\"9000\"]}]",
    };
    const char *codes[] = {"script-invalid", "script-invalid", "script-bad-apdu"};
    for (size_t i = 0; i < 3; i++) {
        char nonce[65];
        get_nonce(handle, nonce);
        cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, steps[i]),
                       ",\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"");
        ck_assert_msg(strcmp(code(r), codes[i]) == 0, "case %zu: %s", i, code(r));
        cJSON_Delete(r);
        ck_assert_str_eq(fake.events, "");
    }
    char nonce[65];
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "," NEW_PIN_STEP "]"),
                   ",\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"");
    ck_assert(cJSON_IsTrue(result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_str_eq(fake.events, "BTA4T24E1");
}
END_TEST

/* A script may run inside the page's own transaction: completed without
 * secrets, the page keeps it; stopped, it ends with a reset. */
START_TEST(a_script_inside_the_pages_transaction)
{
    char args[64], nonce[65];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    cJSON_Delete(call("begin-transaction", args));
    fake.events[0] = '\0';
    get_nonce(handle, nonce);
    cJSON *r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP "]"), "");
    ck_assert(cJSON_IsTrue(result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_str_eq(fake.events, "TA4");
    ck_assert_int_eq(fake.transactions_open, 1);
    r = call("status", args);
    ck_assert(cJSON_IsTrue(result(r, "in_transaction")));
    cJSON_Delete(r);
    fake.responder = picky_card;
    get_nonce(handle, nonce);
    r = run(ec_key, script_json(nonce, ATR_HEX, fake_now + 60, "[" SELECT_STEP ",{\"apdu\":\"00200081\",\"expect\":[\"9000\"]}]"), "");
    ck_assert(cJSON_IsFalse(result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_str_eq(fake.events, "TA4TA4T20E1");
    ck_assert_int_eq(fake.transactions_open, 0);
    r = call("status", args);
    ck_assert(cJSON_IsFalse(result(r, "in_transaction")));
    cJSON_Delete(r);
}
END_TEST

static void *late_release(void *arg)
{
    (void)arg;
    usleep(50000);
    pthread_mutex_lock(&fake.lock);
    fake_now += NB_NONCE_LIFETIME + 1; /* the nonce ages while the card is held */
    fake.begin_release = 1;
    pthread_cond_broadcast(&fake.cond);
    pthread_mutex_unlock(&fake.lock);
    return NULL;
}

/* The wait for the card can be long: the nonce and the time are checked
 * again once the card is held, and nothing is sent when they lapsed. */
START_TEST(a_nonce_that_lapsed_while_waiting_is_refused)
{
    fake.begin_blocks = 1;
    char nonce[65];
    get_nonce(handle, nonce);
    char *json = strdup(script_json(nonce, ATR_HEX, fake_now + 3600, "[" SELECT_STEP "]"));
    pthread_t releaser;
    ck_assert_int_eq(pthread_create(&releaser, NULL, late_release, NULL), 0);
    cJSON *r = run(ec_key, json, "");
    pthread_join(releaser, NULL);
    ck_assert_str_eq(code(r), "nonce-expired");
    cJSON_Delete(r);
    ck_assert_int_eq(fake.transmit_calls, 0);
    ck_assert_str_eq(fake.events, "BE0");
    free(json);
}
END_TEST

START_TEST(trust_store_rules)
{
    nb_trust_store *s = nb_trust_load(nb_crypto_direct(), NULL, 0);
    EVP_PKEY *weak_rsa = EVP_RSA_gen(2048);
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    ck_assert_int_eq(nb_trust_add_key(s, weak_rsa), -1);
    ck_assert_int_eq(nb_trust_add_key(s, p384), -1);
    ck_assert_uint_eq(nb_trust_count(s), 0);
    EVP_PKEY_free(weak_rsa);
    EVP_PKEY_free(p384);
    /* Keys from a directory; a group-writable file is ignored. */
    char dir[] = "/tmp/nb-trust-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/a.pem", dir);
    ck_assert_int_eq(authority_write_public(ec_key, path), 0);
    chmod(path, 0644);
    snprintf(path, sizeof(path), "%s/b.pem", dir);
    ck_assert_int_eq(authority_write_public(rsa_key, path), 0);
    chmod(path, 0664);
    const char *dirs[] = {dir, "/nonexistent"};
    nb_trust_store *loaded = nb_trust_load(nb_crypto_direct(), dirs, 2);
    ck_assert_uint_eq(nb_trust_count(loaded), 1);
    nb_trust_free(loaded);
    unlink(path);
    snprintf(path, sizeof(path), "%s/a.pem", dir);
    unlink(path);
    rmdir(dir);
    nb_trust_free(s);
}
END_TEST

static Suite *script_suite(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, make_keys, free_keys);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, both_key_types_and_raw_ecdsa);
    tcase_add_test(tc, signature_refusals);
    tcase_add_test(tc, nonce_refusals);
    tcase_add_test(tc, script_refusals);
    tcase_add_test(tc, execution_stops_and_withholds);
    tcase_add_test(tc, card_removed_mid_script);
    tcase_add_test(tc, new_pin_checks_and_wiping);
    tcase_add_test(tc, new_pin_on_a_pinpad);
    tcase_add_test(tc, the_signature_is_checked_first);
    tcase_add_test(tc, new_pin_steps_are_held_to_success);
    tcase_add_test(tc, a_script_inside_the_pages_transaction);
    tcase_add_test(tc, a_nonce_that_lapsed_while_waiting_is_refused);
    tcase_add_test(tc, a_signature_over_other_bytes_is_refused);
    tcase_add_test(tc, a_pinpad_step_the_reader_cannot_do_is_refused_first);
    tcase_add_test(tc, pinpad_cancel_and_timeout_reset_the_card);
    tcase_add_test(tc, an_incomplete_script_resets_the_card);
    tcase_add_test(tc, a_held_card_spends_no_nonce);
    tcase_add_test(tc, secret_steps_by_policy_and_their_follow_ups);
    tcase_add_test(tc, trust_store_rules);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(script_suite)
