/* SPDX-License-Identifier: Apache-2.0 */
/* Dispatch and command handlers on the fake backend. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

#include "dispatch.h"
#include "errors.h"
#include "fake_backend.h"
#include "testutil.h"

#define ORIGIN "https://kamusm.gov.tr"

static fake_backend fake;
static nb_session session;

static void setup(void)
{
    fake_init(&fake);
    nb_session_init(&session, &fake.backend, NULL, 1);
}

static void teardown(void)
{
    nb_session_close(&session);
    ck_assert_int_eq(fake.contexts_open, 0);
    ck_assert_int_eq(fake.cards_open, 0);
    ck_assert_int_eq(fake.transactions_open, 0);
    fake_destroy(&fake);
}

/* Sends a request; returns the parsed reply (caller deletes). */
static cJSON *call(const char *json)
{
    char *reply = nb_dispatch(&session, json, strlen(json));
    ck_assert_ptr_nonnull(reply);
    cJSON *parsed = cJSON_Parse(reply);
    ck_assert_ptr_nonnull(parsed);
    free(reply);
    return parsed;
}

static cJSON *cmd(const char *name, const char *args)
{
    char json[4096];
    snprintf(json, sizeof(json), "{\"id\":7,\"cmd\":\"%s\",\"origin\":\"" ORIGIN "\",\"args\":%s}",
             name, args);
    return call(json);
}

static const char *error_code(const cJSON *reply)
{
    const cJSON *error = cJSON_GetObjectItem(reply, "error");
    return error != NULL ? cJSON_GetObjectItem(error, "code")->valuestring : "ok";
}

static void expect(const char *name, const char *args, const char *code)
{
    cJSON *r = cmd(name, args);
    ck_assert_msg(strcmp(error_code(r), code) == 0, "%s %s: got %s, want %s", name, args,
                  error_code(r), code);
    cJSON_Delete(r);
}

static const cJSON *result(const cJSON *reply, const char *field)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "result"), field);
}

static double test_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void hello(void)
{
    expect("hello", "{\"protocol\":1}", "ok");
}

static int connect_card(void)
{
    cJSON *r = cmd("connect", "{\"reader\":\"Fake Reader 00 00\"}");
    ck_assert_str_eq(error_code(r), "ok");
    int handle = result(r, "handle")->valueint;
    ck_assert_str_eq(result(r, "protocol")->valuestring, "t1");
    ck_assert_str_eq(result(r, "atr")->valuestring, "3B88018066414B49534E4273");
    cJSON_Delete(r);
    return handle;
}

static char *transmit_args(int handle, const char *apdu, const char *extra)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "{\"handle\":%d,\"apdu\":\"%s\"%s}", handle, apdu, extra);
    return buf;
}

START_TEST(hello_comes_first)
{
    expect("list-readers", "{}", "hello-required");
    expect("connect", "{\"reader\":\"Fake Reader 00 00\"}", "hello-required");
    expect("hello", "{\"protocol\":2}", "version-mismatch");
    expect("hello", "{\"protocol\":0}", "version-mismatch");
    expect("hello", "{\"protocol\":-7}", "version-mismatch");
    expect("hello", "{\"protocol\":99999999999}", "version-mismatch"); /* whatever its size */
    expect("hello", "{\"protocol\":1e300}", "version-mismatch");
    expect("hello", "{\"protocol\":1.5}", "bad-request");
    expect("hello", "{}", "bad-request");
    expect("hello", "{\"protocol\":\"1\"}", "bad-request");
    cJSON *r = cmd("hello", "{\"protocol\":1}");
    ck_assert_int_eq(result(r, "protocol")->valueint, 1);
    ck_assert(cJSON_IsArray(result(r, "features")));
    ck_assert_ptr_nonnull(result(r, "host_version"));
    cJSON_Delete(r);
    expect("list-readers", "{}", "ok");
}
END_TEST

/* A request the JSON checks refuse still gets its id back when the id can
 * be read, so the page's promise settles; null only when it cannot. */
START_TEST(refused_requests_keep_their_id)
{
    const char *cases[][2] = {
        {"{\"id\":41,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"protocol\":1,\"x\":\"a\\u0000b\"}}", "41"},
        {"{\"id\":\"s-42\",\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"a\":[[[[[[[[[1]]]]]]]]]}}", "\"s-42\""},
        {"{\"id\":43,\"cmd\":\"hello\",\"cmd\":\"status\",\"origin\":\"" ORIGIN "\"}", "43"},
        {"{\"id\":\"a\\u0000\",\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\"}", "null"},
        {"{\"id\":1,\"id\":2,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\"}", "null"},
        {"[1,2", "null"},
        /* Not UTF-8: a string id is not taken (its bytes would make the
         * browser refuse the reply), a number still is. */
        {"{\"id\":\"\xC0\xAF\",\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\"}", "null"},
        {"{\"id\":\"s-44\",\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"x\":\"\xFF\"}}", "null"},
        {"{\"id\":44,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"x\":\"\xFF\"}}", "44"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *r = call(cases[i][0]);
        ck_assert_str_eq(error_code(r), "bad-request");
        char *id = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "id"));
        ck_assert_msg(strcmp(id, cases[i][1]) == 0, "case %zu: id %s, want %s", i, id, cases[i][1]);
        free(id);
        cJSON_Delete(r);
    }
}
END_TEST

/* A raw NUL inside a string id would cut it short: "s-45<NUL>x" must not
 * come back as "s-45", which may be another request's id. */
START_TEST(a_raw_nul_keeps_a_string_id_from_being_taken)
{
    static const char text[] = "{\"id\":\"s-45\0x\",\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\"}";
    static const char number[] = "{\"id\":45,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"x\":\"\0\"}";
    const char *texts[] = {text, number};
    const size_t lens[] = {sizeof(text) - 1, sizeof(number) - 1};
    const char *want[] = {"null", "45"};
    for (size_t i = 0; i < 2; i++) {
        char *reply = nb_dispatch(&session, texts[i], lens[i]);
        ck_assert_ptr_nonnull(reply);
        cJSON *r = cJSON_Parse(reply);
        free(reply);
        ck_assert_str_eq(error_code(r), "bad-request");
        char *id = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "id"));
        ck_assert_msg(strcmp(id, want[i]) == 0, "case %zu: id %s, want %s", i, id, want[i]);
        free(id);
        cJSON_Delete(r);
    }
}
END_TEST

START_TEST(envelope_errors)
{
    hello();
    const char *cases[][2] = {
        {"{\"id\":1,\"cmd\":\"list-readers\",\"origin\":\"https://evil.example\"}", "origin-not-allowed"},
        {"{\"id\":1,\"cmd\":\"list-readers\",\"origin\":\"http://kamusm.gov.tr\"}", "origin-not-allowed"},
        {"{\"id\":1,\"cmd\":\"frobnicate\",\"origin\":\"" ORIGIN "\"}", "unknown-command"},
        {"{\"id\":1,\"cmd\":\"list-readers\",\"origin\":\"" ORIGIN "\",\"args\":{\"x\":1}}", "bad-request"},
        {"not json", "bad-request"},
        {"{\"id\":1,\"id\":2,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\"}", "bad-request"},
        {"{\"id\":\"\xC0\xAF\",\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\"}", "bad-request"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *r = call(cases[i][0]);
        ck_assert_msg(strcmp(error_code(r), cases[i][1]) == 0, "%s gave %s", cases[i][0], error_code(r));
        cJSON_Delete(r);
    }
    cJSON *r = call("{\"id\":1,\"id\":2}");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "id")));
    cJSON_Delete(r);
}
END_TEST

START_TEST(foreign_caller_is_refused_always)
{
    session.caller_allowed = 0;
    const char *requests[] = {"{\"id\":1,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"protocol\":1}}",
                              "{\"id\":2,\"cmd\":\"list-readers\",\"origin\":\"" ORIGIN "\"}", "garbage"};
    for (size_t i = 0; i < 3; i++) {
        cJSON *r = call(requests[i]);
        ck_assert_str_eq(error_code(r), "caller-not-allowed");
        cJSON_Delete(r);
    }
    ck_assert_int_eq(fake.establish_calls, 0);
}
END_TEST

START_TEST(list_readers_reports_state_and_pinpad)
{
    hello();
    fake.readers[1] = "Pinpad Reader 01 00";
    fake.reader_count = 2;
    const uint8_t features[] = {0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07, 0x04, 0x42, 0x33, 0x00, 0x07};
    memcpy(fake.features, features, sizeof(features));
    fake.features_len = sizeof(features);
    cJSON *r = cmd("list-readers", "{}");
    const cJSON *readers = result(r, "readers");
    ck_assert_int_eq(cJSON_GetArraySize(readers), 2);
    const cJSON *first = cJSON_GetArrayItem(readers, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "name")->valuestring, "Fake Reader 00 00");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(first, "state"), 0)->valuestring, "present");
    ck_assert_str_eq(cJSON_GetObjectItem(first, "atr")->valuestring, "3B88018066414B49534E4273");
    const cJSON *pinpad = cJSON_GetObjectItem(first, "pinpad");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(pinpad, "verify")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(pinpad, "modify")));
    cJSON_Delete(r);

    fake.card_present = 0;
    fake.features_len = 0;
    r = cmd("list-readers", "{}");
    first = cJSON_GetArrayItem(result(r, "readers"), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(first, "atr")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "pinpad"), "verify")));
    ck_assert(cJSON_IsFalse(result(r, "truncated")));
    cJSON_Delete(r);

    /* A reader the host leaves out (name over 128 bytes, or beyond 15):
     * the list says it is not whole. */
    static char long_name[140];
    memset(long_name, 'R', 129);
    long_name[129] = '\0';
    fake.readers[1] = long_name;
    r = cmd("list-readers", "{}");
    ck_assert_int_eq(cJSON_GetArraySize(result(r, "readers")), 1);
    ck_assert(cJSON_IsTrue(result(r, "truncated")));

    fake.reader_count = 0;
    cJSON_Delete(r);
    r = cmd("list-readers", "{}");
    ck_assert_int_eq(cJSON_GetArraySize(result(r, "readers")), 0);
    cJSON_Delete(r);
}
END_TEST

START_TEST(service_loss_and_recovery)
{
    hello();
    fake.establish_rv = NB_SCARD_E_NO_SERVICE;
    cJSON *r = cmd("list-readers", "{}");
    ck_assert_str_eq(error_code(r), "no-service");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "pcsc")->valuestring,
                     "0x8010001D");
    cJSON_Delete(r);
    fake.establish_rv = NB_SCARD_S_SUCCESS;
    int handle = connect_card();
    /* pcscd goes away: the context and handles are dropped ... */
    fake.list_rv = NB_SCARD_E_NO_SERVICE;
    expect("list-readers", "{}", "no-service");
    ck_assert_int_eq(fake.contexts_open, 0);
    fake.cards_open = 0; /* the dead service took the card handles with it */
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    expect("status", args, "invalid-handle");
    /* ... and the next request establishes a new context. */
    fake.list_rv = NB_SCARD_S_SUCCESS;
    expect("list-readers", "{}", "ok");
    ck_assert_int_eq(fake.establish_calls, 3);
}
END_TEST

START_TEST(connect_arguments)
{
    hello();
    expect("connect", "{}", "bad-request");
    expect("connect", "{\"reader\":\"\"}", "bad-request");
    expect("connect", "{\"reader\":\"Fake\\nReader\"}", "bad-request");
    expect("connect", "{\"reader\":5}", "bad-request");
    expect("connect", "{\"reader\":\"Fake Reader 00 00\",\"share\":\"direct\"}", "bad-request");
    expect("connect", "{\"reader\":\"Fake Reader 00 00\",\"protocols\":[\"t2\"]}", "bad-request");
    expect("connect", "{\"reader\":\"Fake Reader 00 00\",\"protocols\":[]}", "bad-request");
    expect("connect", "{\"reader\":\"No Such Reader\"}", "unknown-reader");
    fake.card_present = 0;
    expect("connect", "{\"reader\":\"Fake Reader 00 00\"}", "no-smartcard");
    fake.card_present = 1;
    fake.connect_rv = NB_SCARD_E_SHARING_VIOLATION;
    expect("connect", "{\"reader\":\"Fake Reader 00 00\",\"share\":\"exclusive\"}", "sharing-violation");
    fake.connect_rv = NB_SCARD_S_SUCCESS;
    expect("connect", "{\"reader\":\"Fake Reader 00 00\",\"share\":\"exclusive\",\"protocols\":[\"t1\"]}", "ok");
}
END_TEST

START_TEST(handles_are_checked)
{
    hello();
    expect("status", "{\"handle\":12345}", "invalid-handle");
    expect("status", "{\"handle\":0}", "bad-request");
    expect("status", "{\"handle\":-4}", "bad-request");
    expect("status", "{\"handle\":1.5}", "bad-request");
    expect("status", "{\"handle\":\"1\"}", "bad-request");
    expect("transmit", "{\"handle\":99,\"apdu\":\"00A40000\"}", "invalid-handle");
    for (int i = 0; i < NB_MAX_HANDLES; i++)
        connect_card();
    expect("connect", "{\"reader\":\"Fake Reader 00 00\"}", "too-many-handles");
}
END_TEST

START_TEST(transmit_and_policy)
{
    hello();
    int h = connect_card();
    cJSON *r = cmd("transmit", transmit_args(h, "00A4040C07504B43532D3135", ""));
    ck_assert_str_eq(result(r, "sw")->valuestring, "9000");
    ck_assert_str_eq(result(r, "data")->valuestring, "");
    cJSON_Delete(r);
    int sent = fake.transmit_calls;
    expect("transmit", transmit_args(h, "0020008108313233343536FFFF", ""), "not-allowed");
    expect("transmit", transmit_args(h, "002400811031323334353637383132333435363738", ""), "not-allowed");
    expect("transmit", transmit_args(h, "002C0381", ""), "not-allowed");
    expect("transmit", transmit_args(h, "00D6000001AA", ""), "not-allowed");
    expect("transmit", transmit_args(h, "80A4000C023F00", ""), "not-allowed");
    expect("transmit", transmit_args(h, "00A4000C053F00", ""), "bad-request");
    expect("transmit", transmit_args(h, "00A4000", ""), "bad-request");
    expect("transmit", transmit_args(h, "00A4zz00", ""), "bad-request");
    expect("transmit", transmit_args(h, "00A4", ""), "bad-request");
    expect("transmit", transmit_args(h, "", ""), "bad-request");
    expect("transmit", transmit_args(h, "00A40000", ",\"get_response\":\"yes\""), "bad-request");
    ck_assert_int_eq(fake.transmit_calls, sent); /* nothing refused reached the card */
    expect("transmit", transmit_args(h, "00200081", ""), "ok");
    ck_assert_int_eq(fake.transmit_calls, sent + 1);
    fake.transmit_rv = NB_SCARD_W_RESET_CARD;
    expect("transmit", transmit_args(h, "00A40000", ""), "reset-card");
    fake.transmit_rv = NB_SCARD_W_REMOVED_CARD;
    expect("transmit", transmit_args(h, "00A40000", ""), "removed-card");
    char gone[64];
    snprintf(gone, sizeof(gone), "{\"handle\":%d}", h);
    expect("status", gone, "invalid-handle"); /* a removed card's handle is let go */
    ck_assert_int_eq(fake.cards_open, 0);
    h = connect_card();
    fake.transmit_rv = NB_SCARD_E_INVALID_HANDLE;
    expect("transmit", transmit_args(h, "00A40000", ""), "invalid-handle");
    fake.transmit_rv = NB_SCARD_S_SUCCESS;
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    expect("status", args, "invalid-handle"); /* forgotten after PC/SC disowned it */
    fake.cards_open--;
}
END_TEST

/* A card that answers 61 04 then gives the data, and 6C 02 to a wrong Le. */
static size_t chatty_card(const uint8_t *cmd, size_t len, uint8_t *resp, void *arg)
{
    (void)arg;
    if (cmd[1] == 0xC0) {
        memcpy(resp, "\xDE\xAD\xBE\xEF\x90\x00", 6);
        return 6;
    }
    if (cmd[1] == 0xCA && cmd[len - 1] != 0x02) {
        memcpy(resp, "\x6C\x02", 2);
        return 2;
    }
    if (cmd[1] == 0xCA) {
        memcpy(resp, "\x12\x34\x90\x00", 4);
        return 4;
    }
    memcpy(resp, "\x61\x04", 2);
    return 2;
}

START_TEST(get_response_is_followed_on_request)
{
    hello();
    int h = connect_card();
    fake.responder = chatty_card;
    cJSON *r = cmd("transmit", transmit_args(h, "00A4040007504B43532D3135", ""));
    ck_assert_str_eq(result(r, "sw")->valuestring, "6104");
    cJSON_Delete(r);
    r = cmd("transmit", transmit_args(h, "00A4040007504B43532D3135", ",\"get_response\":true"));
    ck_assert_str_eq(result(r, "sw")->valuestring, "9000");
    ck_assert_str_eq(result(r, "data")->valuestring, "DEADBEEF");
    ck_assert_uint_eq(fake.last_apdu[1], 0xC0);
    ck_assert_uint_eq(fake.last_apdu[4], 0x04);
    cJSON_Delete(r);
    r = cmd("transmit", transmit_args(h, "00CA005A00", ",\"get_response\":true"));
    ck_assert_str_eq(result(r, "sw")->valuestring, "9000");
    ck_assert_str_eq(result(r, "data")->valuestring, "1234");
    cJSON_Delete(r);
}
END_TEST

START_TEST(transactions)
{
    hello();
    int h = connect_card();
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    expect("end-transaction", args, "not-transacted");
    expect("begin-transaction", args, "ok");
    ck_assert_int_eq(fake.transactions_open, 1);
    expect("begin-transaction", args, "sharing-violation");
    expect("end-transaction", args, "ok");
    ck_assert_int_eq(fake.transactions_open, 0);
    expect("begin-transaction", args, "ok");
    snprintf(args, sizeof(args), "{\"handle\":%d,\"disposition\":\"eject\"}", h);
    expect("disconnect", args, "bad-request");
    snprintf(args, sizeof(args), "{\"handle\":%d,\"disposition\":\"reset\"}", h);
    expect("disconnect", args, "ok");
    ck_assert_int_eq(fake.transactions_open, 0);
    ck_assert_int_eq(fake.cards_open, 0);
    expect("disconnect", args, "invalid-handle");
}
END_TEST

/* PC/SC would make a second begin on a card this host already holds wait
 * for ever (another handle) or nest it (the same one): both answer
 * sharing-violation at once, without asking PC/SC. */
START_TEST(a_second_transaction_answers_at_once)
{
    hello();
    int first = connect_card(), second = connect_card();
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", first);
    expect("begin-transaction", args, "ok");
    expect("begin-transaction", args, "sharing-violation");
    snprintf(args, sizeof(args), "{\"handle\":%d}", second);
    expect("begin-transaction", args, "sharing-violation");
    ck_assert_int_eq(fake.begin_calls, 1);
    snprintf(args, sizeof(args), "{\"handle\":%d}", first);
    expect("end-transaction", args, "ok");
    snprintf(args, sizeof(args), "{\"handle\":%d}", second);
    expect("begin-transaction", args, "ok");
    expect("end-transaction", args, "ok");
}
END_TEST

static void release_blocked_begin(void)
{
    pthread_mutex_lock(&fake.lock);
    fake.begin_release = 1;
    pthread_cond_broadcast(&fake.cond);
    pthread_mutex_unlock(&fake.lock);
    /* The abandoned wait gets the card, then lets go of it at once. */
    for (int i = 0; i < 500 && strstr(fake.events, "BE0") == NULL; i++)
        usleep(2000);
    ck_assert_ptr_nonnull(strstr(fake.events, "BE0"));
}

/* Another program holds the card: the wait is bounded by card_timeout_ms,
 * and the host answers other requests afterwards. */
START_TEST(a_blocked_transaction_is_bounded)
{
    nb_config config = {.card_timeout_ms = 200};
    session.config = &config;
    hello();
    int h = connect_card();
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    fake.begin_blocks = 1;
    double t0 = test_seconds();
    expect("begin-transaction", args, "sharing-violation");
    double waited = test_seconds() - t0;
    ck_assert_double_ge(waited, 0.19);
    ck_assert_double_lt(waited, 1.0);
    expect("status", args, "ok");
    /* The wait given up on still goes on: no second one piles up. */
    t0 = test_seconds();
    expect("begin-transaction", args, "sharing-violation");
    ck_assert_double_lt(test_seconds() - t0, 0.1);
    ck_assert_int_eq(fake.begin_calls, 1);
    release_blocked_begin();
    /* Once it has let go, a begin works again. */
    for (int i = 0; i < 500 && strstr(fake.events, "BE0") == NULL; i++)
        usleep(2000);
    usleep(20000);
    fake.begin_blocks = 0;
    expect("begin-transaction", args, "ok");
    expect("end-transaction", args, "ok");
    ck_assert_int_eq(fake.transactions_open, 0);
    session.config = NULL;
}
END_TEST

static int input_checks;
static int input_after_three(void *arg)
{
    (void)arg;
    return ++input_checks > 3;
}

/* While it waits, the host still watches its input: a request (here a
 * cancel) or a closed port ends the wait with system-cancelled. */
START_TEST(a_blocked_transaction_yields_to_input)
{
    hello();
    int h = connect_card();
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    fake.begin_blocks = 1;
    input_checks = 0;
    session.wait_hooks.input_pending = input_after_three;
    double t0 = test_seconds();
    expect("begin-transaction", args, "system-cancelled");
    ck_assert_double_lt(test_seconds() - t0, 1.0);
    session.wait_hooks.input_pending = NULL;
    cJSON *r = cmd("cancel", "{}");
    ck_assert(cJSON_IsTrue(result(r, "cancelled")));
    cJSON_Delete(r);
    release_blocked_begin();
}
END_TEST

START_TEST(close_releases_everything)
{
    hello();
    int h = connect_card();
    connect_card();
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    expect("begin-transaction", args, "ok");
    nb_session_close(&session);
    ck_assert_int_eq(fake.transactions_open, 0);
    ck_assert_int_eq(fake.cards_open, 0);
    ck_assert_int_eq(fake.contexts_open, 0);
}
END_TEST

START_TEST(wait_for_change)
{
    hello();
    expect("wait-for-change", "{\"readers\":{},\"timeout_ms\":-1}", "bad-request");
    expect("wait-for-change", "{\"readers\":[],\"timeout_ms\":10}", "bad-request");
    expect("wait-for-change", "{\"readers\":{\"Fake Reader 00 00\":[\"bogus\"]},\"timeout_ms\":10}", "bad-request");
    expect("wait-for-change", "{\"readers\":{\"Fake Reader 00 00\":\"present\"},\"timeout_ms\":10}", "bad-request");
    /* The page does not know this reader: answered at once. */
    cJSON *r = cmd("wait-for-change", "{\"readers\":{},\"timeout_ms\":60000}");
    ck_assert(cJSON_IsTrue(result(r, "readers_changed")));
    cJSON_Delete(r);
    /* The page thinks the reader is empty but a card is in: at once. */
    r = cmd("wait-for-change", "{\"readers\":{\"Fake Reader 00 00\":[\"empty\"]},\"timeout_ms\":60000}");
    ck_assert_str_eq(error_code(r), "ok");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(result(r, "readers"), 0), "changed")));
    cJSON_Delete(r);
    /* Nothing changes: timeout. */
    expect("wait-for-change", "{\"readers\":{\"Fake Reader 00 00\":[\"present\"]},\"timeout_ms\":300}", "timeout");
    /* The card is removed during the wait. */
    fake.wait_rv = NB_SCARD_S_SUCCESS;
    fake.wait_event = NB_STATE_EMPTY;
    r = cmd("wait-for-change", "{\"readers\":{\"Fake Reader 00 00\":[\"present\"]},\"timeout_ms\":300}");
    const cJSON *entry = cJSON_GetArrayItem(result(r, "readers"), 0);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(entry, "changed")));
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(entry, "state"), 0)->valuestring, "empty");
    cJSON_Delete(r);
    r = cmd("cancel", "{}");
    ck_assert(cJSON_IsFalse(result(r, "cancelled")));
    cJSON_Delete(r);
}
END_TEST

static size_t silent_card(const uint8_t *cmd, size_t len, uint8_t *resp, void *arg)
{
    (void)cmd;
    (void)len;
    (void)resp;
    (void)arg;
    return 0; /* what vpcd gives when the card vanished mid-command */
}

START_TEST(lost_exchange_is_classified)
{
    hello();
    int h = connect_card();
    fake.responder = silent_card;
    /* Still in the reader: the card does not answer. */
    expect("transmit", transmit_args(h, "00A40000", ""), "unresponsive-card");
    fake.responder = NULL;
    fake.transmit_rv = NB_SCARD_E_NOT_TRANSACTED;
    expect("transmit", transmit_args(h, "00A40000", ""), "unresponsive-card");
    /* Gone from the reader: removed (and the handle let go). */
    fake.transmit_rv = NB_SCARD_S_SUCCESS;
    fake.responder = silent_card;
    fake.card_present = 0;
    expect("transmit", transmit_args(h, "00A40000", ""), "removed-card");
}
END_TEST

static Suite *dispatch_suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hello_comes_first);
    tcase_add_test(tc, refused_requests_keep_their_id);
    tcase_add_test(tc, a_raw_nul_keeps_a_string_id_from_being_taken);
    tcase_add_test(tc, envelope_errors);
    tcase_add_test(tc, foreign_caller_is_refused_always);
    tcase_add_test(tc, list_readers_reports_state_and_pinpad);
    tcase_add_test(tc, service_loss_and_recovery);
    tcase_add_test(tc, connect_arguments);
    tcase_add_test(tc, handles_are_checked);
    tcase_add_test(tc, transmit_and_policy);
    tcase_add_test(tc, get_response_is_followed_on_request);
    tcase_add_test(tc, transactions);
    tcase_add_test(tc, a_second_transaction_answers_at_once);
    tcase_add_test(tc, a_blocked_transaction_is_bounded);
    tcase_add_test(tc, a_blocked_transaction_yields_to_input);
    tcase_add_test(tc, close_releases_everything);
    tcase_add_test(tc, wait_for_change);
    tcase_add_test(tc, lost_exchange_is_classified);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(dispatch_suite)
