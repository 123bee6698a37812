/* SPDX-License-Identifier: Apache-2.0 */
/* Out of memory is an error, never a success. Every command runs on the
 * fake backend once for each allocation it makes, with exactly that
 * allocation failing. Each time the host must answer (or hand the relay
 * nothing, which then answers internal-error itself), must never answer
 * ok with a member missing, must not leak (valgrind and LeakSanitizer
 * watch this binary), and a signed script must not stop half-way without
 * resetting the card.
 *
 * The binary is linked with --wrap for malloc, calloc and realloc, so the
 * host's own allocations and cJSON's (through nb_json_use_host_allocator)
 * come here. OpenSSL's are its own business and are not failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authority.h"
#include "dispatch.h"
#include "errors.h"
#include "fake_backend.h"
#include "jsonguard.h"
#include "testutil.h"
#include "trust.h"

#define ORIGIN "https://kamusm.gov.tr"
#define ATR_HEX "3B88018066414B49534E4273"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static int injecting;
static long allocations, fail_at;

static int this_one_fails(void)
{
    return injecting && ++allocations == fail_at;
}

void *__wrap_malloc(size_t size)
{
    return this_one_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return this_one_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return this_one_fails() ? NULL : __real_realloc(p, size);
}

static fake_backend fake;
static nb_session session;
static nb_trust_store *store;
static EVP_PKEY *key;

static char *dispatch_text(const char *cmd, const char *args)
{
    char json[8192];
    snprintf(json, sizeof(json), "{\"id\":3,\"cmd\":\"%s\",\"origin\":\"" ORIGIN "\",\"args\":%s}", cmd, args);
    return nb_dispatch(&session, json, strlen(json));
}

/* A request outside the injection: must succeed. Returns the reply. */
static cJSON *prepare(const char *cmd, const char *args)
{
    char *text = dispatch_text(cmd, args);
    ck_assert_ptr_nonnull(text);
    cJSON *reply = cJSON_Parse(text);
    free(text);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok")), "setup %s failed", cmd);
    return reply;
}

static int prepare_handle(void)
{
    cJSON *r = prepare("connect", "{\"reader\":\"Fake Reader 00 00\"}");
    int h = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "handle")->valueint;
    cJSON_Delete(r);
    return h;
}

/* Follows "a.b[0].c" from node; NULL when a part is missing. */
static const cJSON *member(const cJSON *node, const char *path)
{
    char part[64];
    while (node != NULL && *path != '\0') {
        size_t n = strcspn(path, ".[");
        snprintf(part, sizeof(part), "%.*s", (int)n, path);
        if (n > 0)
            node = cJSON_GetObjectItemCaseSensitive(node, part);
        path += n;
        if (*path == '[') {
            node = cJSON_GetArrayItem(node, atoi(path + 1));
            path = strchr(path, ']') + 1;
        }
        if (*path == '.')
            path++;
    }
    return node;
}

typedef struct {
    const char *cmd;
    const char *required; /* comma-separated member paths of a success */
    /* Prepares the session and writes the request's args; NULL: "{}". */
    void (*setup)(char *args, size_t cap);
    int is_script;
} scenario;

static void no_setup(char *args, size_t cap)
{
    snprintf(args, cap, "{}");
}

static void hello_args(char *args, size_t cap)
{
    session.hello_done = 0;
    snprintf(args, cap, "{\"protocol\":1}");
}

static void handle_args(char *args, size_t cap)
{
    snprintf(args, cap, "{\"handle\":%d}", prepare_handle());
}

static void transaction_args(char *args, size_t cap)
{
    int h = prepare_handle();
    snprintf(args, cap, "{\"handle\":%d}", h);
    cJSON_Delete(prepare("begin-transaction", args));
}

static void transmit_args(char *args, size_t cap)
{
    snprintf(args, cap, "{\"handle\":%d,\"apdu\":\"00CA005A00\",\"get_response\":true}", prepare_handle());
}

static void wait_args(char *args, size_t cap)
{
    fake.wait_rv = NB_SCARD_S_SUCCESS;
    fake.wait_event = NB_STATE_EMPTY;
    snprintf(args, cap, "{\"readers\":{\"Fake Reader 00 00\":[\"present\"]},\"timeout_ms\":10}");
}

/* A signed script with an APDU step, a secret step and a new PIN. */
static void script_args(char *args, size_t cap)
{
    int h = prepare_handle();
    char nonce_args[64];
    snprintf(nonce_args, sizeof(nonce_args), "{\"handle\":%d}", h);
    cJSON *r = prepare("get-nonce", nonce_args);
    const char *nonce = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "nonce")->valuestring;
    char when[21], json[2048];
    authority_utc(4000000000L, when);
    snprintf(json, sizeof(json),
             "{\"version\":1,\"nonce\":\"%s\",\"atr\":\"" ATR_HEX "\",\"not_after\":\"%s\",\"steps\":["
             "{\"apdu\":\"00CA005A00\",\"expect\":[\"9000\"]},"
             "{\"apdu\":\"0084000008\",\"expect\":[\"9000\"],\"secret\":true},"
             "{\"new_pin\":{\"apdu_prefix\":\"00240181\",\"min_len\":6,\"max_len\":8,\"charset\":\"digits\","
             "\"confirm\":true,\"pad_to\":8,\"pad_byte\":\"FF\"},\"expect\":[\"9000\"]}]}",
             nonce, when);
    cJSON_Delete(r);
    char *script_b64 = NULL, *sig_b64 = NULL, key_id[65];
    ck_assert_int_eq(authority_sign(key, json, 0, &script_b64, &sig_b64, key_id), 0);
    snprintf(args, cap,
             "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\","
             "\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"}",
             h, script_b64, sig_b64, key_id);
    free(script_b64);
    free(sig_b64);
}

static const scenario scenarios[] = {
    {"hello", "protocol,host_version,features[4]", hello_args, 0},
    {"list-readers", "truncated,readers[0].name,readers[0].state[0],readers[0].atr,readers[0].pinpad.verify,readers[0].pinpad.modify",
     no_setup, 0},
    {"wait-for-change", "readers_changed,readers[0].name,readers[0].state[0],readers[0].atr,readers[0].changed",
     wait_args, 0},
    {"cancel", "cancelled", no_setup, 0},
    {"connect", "handle,protocol,atr", NULL, 0},
    {"status", "reader,state[0],protocol,atr,in_transaction", handle_args, 0},
    {"begin-transaction", "", handle_args, 0},
    {"end-transaction", "", transaction_args, 0},
    {"transmit", "data,sw", transmit_args, 0},
    {"get-nonce", "nonce,expires_in", handle_args, 0},
    {"disconnect", "", handle_args, 0},
    {"run-script", "completed,stopped_at,steps[0].sw,steps[0].data,steps[1].data,steps[2].sw", script_args, 1},
};

static void fresh_session(void)
{
    fake_init(&fake);
    nb_session_init(&session, &fake.backend, NULL, 1);
    session.trust = store;
    cJSON_Delete(prepare("hello", "{\"protocol\":1}"));
}

static void end_session(void)
{
    nb_session_close(&session);
    ck_assert_int_eq(fake.transactions_open, 0);
    ck_assert_int_eq(fake.cards_open, 0);
    fake_destroy(&fake);
}

static void check_success(const scenario *sc, const cJSON *reply, long n)
{
    const cJSON *result = cJSON_GetObjectItem(reply, "result");
    ck_assert_msg(cJSON_IsObject(result), "%s, allocation %ld failed: ok without a result", sc->cmd, n);
    char paths[256];
    snprintf(paths, sizeof(paths), "%s", sc->required);
    for (char *path = strtok(paths, ","); path != NULL; path = strtok(NULL, ","))
        ck_assert_msg(member(result, path) != NULL, "%s, allocation %ld failed: ok without %s", sc->cmd, n,
                      path);
}

/* Runs the scenario with allocation n failing; returns 1 while n was
 * within the command's allocations. */
static int run_failing(const scenario *sc, long n)
{
    fresh_session();
    char args[8192] = "{\"reader\":\"Fake Reader 00 00\"}";
    if (sc->setup != NULL)
        sc->setup(args, sizeof(args));
    fake.events[0] = '\0';
    allocations = 0;
    fail_at = n;
    injecting = 1;
    char *text = dispatch_text(sc->cmd, args);
    injecting = 0;
    int reached = allocations >= n;
    if (text != NULL) {
        cJSON *reply = cJSON_Parse(text);
        ck_assert_ptr_nonnull(reply);
        if (cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok")))
            check_success(sc, reply, n);
        else
            ck_assert_msg(reached, "%s failed with no allocation failing", sc->cmd);
        if (sc->is_script && strstr(fake.events, "T") != NULL) {
            /* Once the card was touched, the script ends with a reset,
             * whether it ran to its end (the page may still hear
             * internal-error if the reply could not be built) or not: it
             * held secrets. */
            ck_assert_msg(strcmp(fake.events + strlen(fake.events) - 2, "E1") == 0,
                          "allocation %ld: script stopped half-way without a reset (%s)", n, fake.events);
        }
        cJSON_Delete(reply);
        free(text);
    } else {
        ck_assert_msg(reached, "%s: no reply with no allocation failing", sc->cmd);
    }
    end_session();
    return reached;
}

START_TEST(every_command_with_each_allocation_failing)
{
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        long n = 1;
        while (run_failing(&scenarios[i], n))
            n++;
        fprintf(stderr, "%s%s %ld", i == 0 ? "allocations failed in turn:" : ",", scenarios[i].cmd, n - 1);
        ck_assert_msg(n > 1, "%s allocated nothing: is the allocator wrapped?", scenarios[i].cmd);
    }
    fprintf(stderr, "\n");
}
END_TEST

static void setup(void)
{
    nb_json_use_host_allocator();
    key = authority_new_key(0);
    store = nb_trust_load(nb_crypto_direct(), NULL, 0);
    EVP_PKEY_up_ref(key);
    ck_assert_int_eq(nb_trust_add_key(store, key), 0);
}

static void teardown(void)
{
    nb_trust_free(store);
    EVP_PKEY_free(key);
}

static Suite *oom_suite(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_command_with_each_allocation_failing);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(oom_suite)
