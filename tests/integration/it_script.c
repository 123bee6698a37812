/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
/* Integration: the authority unlock as a signed script, through the real
 * host, pcscd and the virtual NES card. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "authority.h"
#include "backend.h"
#include "errors.h"
#include "hex.h"
#include "hostproc.h"
#include "testutil.h"

static hostproc host;
static EVP_PKEY *authority_key;
static int handle;
static char atr[80];

/* A private trust directory and configuration for the host under test. */
static void make_trust(void)
{
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    char dir[1024], path[4200];
    snprintf(dir, sizeof(dir), "%s/it-script", build);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/trust", dir);
    mkdir(path, 0755);
    authority_key = authority_new_key(0);
    snprintf(path, sizeof(path), "%s/trust/authority.pem", dir);
    ck_assert_int_eq(authority_write_public(authority_key, path), 0);
    chmod(path, 0644);
    char abs[4096]; /* PATH_MAX, as realpath wants */
    ck_assert_ptr_nonnull(realpath(dir, abs));
    snprintf(path, sizeof(path), "%s/nesbridge.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "trust_dir = %s/trust\n", abs);
    fclose(f);
    chmod(path, 0600);
    setenv("NESBRIDGE_CONFIG", path, 1);
}

static void drop_trust(void)
{
    EVP_PKEY_free(authority_key);
}

static void connect_host(void)
{
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
    cJSON *r = host_call(&host, "connect", "{\"reader\":\"" IT_READER "\"}");
    ck_assert_str_eq(reply_code(r), "ok");
    handle = reply_result(r, "handle")->valueint;
    snprintf(atr, sizeof(atr), "%s", reply_result(r, "atr")->valuestring);
    cJSON_Delete(r);
}

static void setup(void)
{
    vcard_control("insert");
    vcard_control("reset-state pin-locked");
    vcard_wait_present(1);
    connect_host();
}

static void teardown(void)
{
    ck_assert_int_eq(host_close(&host, 1000), 0);
}

/* Builds and signs the authority unlock for the card as it is now:
 * get-nonce, GET CHALLENGE, then the script. Returns run-script args
 * (static) without the PIN fields. */
static const char *prepare_unlock(const char *atr_in_script)
{
    char args[128];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    cJSON *r = host_call(&host, "get-nonce", args);
    ck_assert_str_eq(reply_code(r), "ok");
    char nonce[65];
    snprintf(nonce, sizeof(nonce), "%s", reply_result(r, "nonce")->valuestring);
    cJSON_Delete(r);
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"0084000008\"}", handle);
    r = host_call(&host, "transmit", args);
    ck_assert_str_eq(reply_result(r, "sw")->valuestring, "9000");
    uint8_t rnd_ic[8];
    ck_assert_int_eq(nb_hex_decode(reply_result(r, "data")->valuestring, 16, rnd_ic, 8), 8);
    cJSON_Delete(r);
    char json[2048];
    ck_assert_int_eq(authority_unlock_script(nonce, atr_in_script, rnd_ic, 120, json, sizeof(json)), 0);
    char *script_b64, *sig_b64, key_id[65];
    ck_assert_int_eq(authority_sign(authority_key, json, 0, &script_b64, &sig_b64, key_id), 0);
    static char run_args[8192];
    snprintf(run_args, sizeof(run_args), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"",
             handle, script_b64, sig_b64, key_id);
    free(script_b64);
    free(sig_b64);
    return run_args;
}

static cJSON *run_with_pin(const char *prepared, const char *pin)
{
    char args[8300];
    snprintf(args, sizeof(args), "%s,\"new_pin\":\"%s\",\"new_pin_confirm\":\"%s\"}", prepared, pin, pin);
    return host_call(&host, "run-script", args);
}

/* Sends one APDU straight through PC/SC, as any program on this computer
 * could (a page never may); returns the status word. */
static unsigned send_directly(const uint8_t *cmd, size_t cmd_len)
{
    const nb_backend *b = nb_pcsc_backend();
    nb_context ctx;
    nb_card card;
    uint32_t proto;
    ck_assert_uint_eq(b->establish(b->self, &ctx), NB_SCARD_S_SUCCESS);
    ck_assert_uint_eq(b->connect(b->self, ctx, IT_READER, NB_SHARE_SHARED, NB_PROTOCOL_T1, &card, &proto),
                      NB_SCARD_S_SUCCESS);
    uint8_t resp[8];
    size_t len = sizeof(resp);
    ck_assert_uint_eq(b->transmit(b->self, card, proto, cmd, cmd_len, resp, &len), NB_SCARD_S_SUCCESS);
    b->disconnect(b->self, card, NB_LEAVE_CARD);
    b->release(b->self, ctx);
    return (unsigned)(resp[len - 2] << 8 | resp[len - 1]);
}

/* VERIFY of a PIN field: proves the new PIN. */
static unsigned verify_directly(const char *pin_field_hex)
{
    uint8_t cmd[13] = {0x00, 0x20, 0x00, 0x81, 0x08};
    nb_hex_decode(pin_field_hex, 16, cmd + 5, 8);
    return send_directly(cmd, sizeof(cmd));
}

START_TEST(authority_unlock_of_a_locked_card)
{
    const char *prepared = prepare_unlock(atr);
    char saved[8192];
    snprintf(saved, sizeof(saved), "%s", prepared);
    double t0 = now_seconds();
    cJSON *r = run_with_pin(saved, "654321");
    double ms = (now_seconds() - t0) * 1000.0;
    ck_assert_str_eq(reply_code(r), "ok");
    ck_assert(cJSON_IsTrue(reply_result(r, "completed")));
    const cJSON *steps = reply_result(r, "steps");
    ck_assert_int_eq(cJSON_GetArraySize(steps), 3);
    for (int i = 0; i < 3; i++)
        ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, i), "data")));
    cJSON_Delete(r);
    printf("signed unlock script: %.2f ms host-side\n", ms);
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=3 puk_tries=10 new_pin_required=0"));
    ck_assert_uint_eq(verify_directly("363534333231FFFF"), 0x9000);
    /* The same signed script again: refused, nothing sent. */
    r = run_with_pin(saved, "111111");
    ck_assert_str_eq(reply_code(r), "nonce-replayed");
    cJSON_Delete(r);
    ck_assert_uint_eq(verify_directly("363534333231FFFF"), 0x9000);
}
END_TEST

START_TEST(a_script_for_another_card_is_refused)
{
    cJSON *r = run_with_pin(prepare_unlock("3B8F8001804F0CA000000306030001000000006A"), "654321");
    ck_assert_str_eq(reply_code(r), "wrong-card");
    cJSON_Delete(r);
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=0"));
}
END_TEST

/* What another program on this computer tries the moment an unlock is
 * cut off: set a PIN of its own without the old one. Returns its SW. */
static unsigned attacker_sets_pin(void)
{
    static const uint8_t cmd[] = {0x00, 0x24, 0x01, 0x81, 0x08, '1', '1', '1', '1', '1', '1', '1', '1'};
    return send_directly(cmd, sizeof(cmd));
}

/* Whether attacker_sets_pin, from another process, gets any answer from
 * the card within the time given (it is killed after). */
static int attacker_gets_through_within(double seconds)
{
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(attacker_sets_pin() == 0x9000 ? 2 : 1);
    double deadline = now_seconds() + seconds;
    int status = 0;
    while (now_seconds() < deadline) {
        if (waitpid(child, &status, WNOHANG) == child)
            return 1;
        usleep(10000);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return 0;
}

/* After an interrupted unlock: the card is blocked as before, nobody can
 * set a PIN without a new authority script, and a fresh unlock works. */
static void card_as_before_and_unlockable(void)
{
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=0 puk_tries=10 new_pin_required=0"));
    ck_assert_uint_eq(attacker_sets_pin(), 0x6985);
    ck_assert_uint_eq(verify_directly("3131313131313131"), 0x6983);
    connect_host();
    cJSON *r = run_with_pin(prepare_unlock(atr), "24680135");
    ck_assert_str_eq(reply_code(r), "ok");
    ck_assert(cJSON_IsTrue(reply_result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_uint_eq(verify_directly("3234363830313335"), 0x9000);
}

static void reinsert_card(void)
{
    vcard_control("remove");
    vcard_wait_present(0);
    vcard_control("insert");
    vcard_wait_present(1);
}

/* Interruption: the card pulled right after the protected RESET RETRY
 * COUNTER, before its answer reaches the host. */
START_TEST(card_pulled_after_the_protected_step)
{
    const char *prepared = prepare_unlock(atr);
    vcard_control("remove-after 2");
    cJSON *r = run_with_pin(prepared, "654321");
    ck_assert_str_eq(reply_code(r), "removed-card");
    const cJSON *detail = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "detail");
    ck_assert_int_eq(cJSON_GetObjectItem(detail, "stopped_at")->valueint, 1);
    cJSON_Delete(r);
    vcard_wait_present(0);
    vcard_control("insert");
    vcard_wait_present(1);
    ck_assert_int_eq(host_close(&host, 1000), 0);
    card_as_before_and_unlockable();
}
END_TEST

/* Interruption: the card stops answering right after the protected step;
 * the watchdog ends the host, which held the transaction. */
START_TEST(card_timeout_after_the_protected_step)
{
    ck_assert_int_eq(host_close(&host, 1000), 0);
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    char conf[1024], saved_conf[1024];
    snprintf(saved_conf, sizeof(saved_conf), "%s", getenv("NESBRIDGE_CONFIG"));
    snprintf(conf, sizeof(conf), "%s/it-script/short.conf", build);
    FILE *f = fopen(conf, "w");
    fprintf(f, "card_timeout_ms = 1000\n");
    FILE *orig = fopen(saved_conf, "r");
    char line[1200];
    while (fgets(line, sizeof(line), orig) != NULL)
        fputs(line, f);
    fclose(orig);
    fclose(f);
    chmod(conf, 0600);
    setenv("NESBRIDGE_CONFIG", conf, 1);
    connect_host();
    setenv("NESBRIDGE_CONFIG", saved_conf, 1);
    const char *prepared = prepare_unlock(atr);
    vcard_control("mute-after 2");
    cJSON *r = run_with_pin(prepared, "654321");
    ck_assert_str_eq(reply_code(r), "unresponsive-card");
    cJSON_Delete(r);
    ck_assert_int_eq(host_close(&host, 2000), 1);
    /* The card never saw the new PIN, so it still holds the one-command
     * permission; but the reader waits for ever on the answer, so nothing
     * else reaches the card. Only pulling it ends the wait, and with it
     * the permission. */
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "new_pin_required=1"));
    ck_assert_msg(!attacker_gets_through_within(1.0), "another program reached the card meanwhile");
    vcard_control("mute off");
    reinsert_card();
    card_as_before_and_unlockable();
}
END_TEST

/* The browser closes the port while a script runs (the holder closed the
 * tab): the host finishes the script, then exits. The PIN the holder
 * typed is set; the card is never left half-way. */
START_TEST(port_closed_during_the_script)
{
    const char *prepared = prepare_unlock(atr);
    char args[8300], json[8600];
    snprintf(args, sizeof(args), "%s,\"new_pin\":\"97531864\",\"new_pin_confirm\":\"97531864\"}", prepared);
    snprintf(json, sizeof(json), "{\"id\":5,\"cmd\":\"run-script\",\"origin\":\"" IT_ORIGIN "\",\"args\":%s}", args);
    vcard_control("slow 300"); /* each APDU takes 300 ms: the port closes mid-script */
    host_send(&host, json);
    double t0 = now_seconds();
    ck_assert_int_eq(host_close(&host, 5000), 0);
    double took = now_seconds() - t0;
    vcard_control("slow 0");
    ck_assert_double_ge(took, 0.6); /* it waited for the script */
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=3 puk_tries=10 new_pin_required=0"));
    ck_assert_uint_eq(verify_directly("3937353331383634"), 0x9000);
    ck_assert_uint_eq(attacker_sets_pin(), 0x6985);
    connect_host();
}
END_TEST

/* nesbridge-sign, as the authority would run it, makes scripts the host
 * accepts, and checks them as the host does. */
START_TEST(signing_tool_round_trip)
{
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    char key_path[1024], script_path[1024], signed_path[1024], cmd[4096];
    snprintf(key_path, sizeof(key_path), "%s/it-script/authority.key", build);
    snprintf(script_path, sizeof(script_path), "%s/it-script/script.json", build);
    snprintf(signed_path, sizeof(signed_path), "%s/it-script/signed.json", build);
    FILE *f = fopen(key_path, "w");
    ck_assert_int_eq(PEM_write_PrivateKey(f, authority_key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    chmod(key_path, 0600);

    char args[128];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    cJSON *r = host_call(&host, "get-nonce", args);
    char when[21];
    authority_utc((long)time(NULL) + 60, when);
    f = fopen(script_path, "w");
    fprintf(f, "{\"version\":1,\"nonce\":\"%s\",\"atr\":\"%s\",\"not_after\":\"%s\",\"steps\":["
               "{\"apdu\":\"00A4040C07504B43532D3135\",\"expect\":[\"9000\"]},"
               "{\"apdu\":\"00CA005A00\",\"expect\":[\"9000\"]}]}",
            reply_result(r, "nonce")->valuestring, atr, when);
    fclose(f);
    cJSON_Delete(r);
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-sign' --key '%s' --in '%s' > '%s'", build, key_path, script_path,
             signed_path);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-sign' --verify --pub '%s/it-script/trust/authority.pem' --in '%s' >/dev/null",
             build, build, signed_path);
    ck_assert_int_eq(system(cmd), 0);

    f = fopen(signed_path, "r");
    char text[8192];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *signed_script = cJSON_Parse(text);
    ck_assert_ptr_nonnull(signed_script);
    char run[8192];
    snprintf(run, sizeof(run), "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"}", handle,
             cJSON_GetObjectItem(signed_script, "script")->valuestring,
             cJSON_GetObjectItem(signed_script, "signature")->valuestring,
             cJSON_GetObjectItem(signed_script, "key_id")->valuestring);
    cJSON_Delete(signed_script);
    r = host_call(&host, "run-script", run);
    ck_assert_str_eq(reply_code(r), "ok");
    ck_assert(cJSON_IsTrue(reply_result(r, "completed")));
    const cJSON *serial_step = cJSON_GetArrayItem(reply_result(r, "steps"), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(serial_step, "data")->valuestring, "4E4230303030303030303031");
    cJSON_Delete(r);
    unlink(key_path);
}
END_TEST

/* True when the file holds the bytes anywhere. */
static int file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    size_t n = fread(data, 1, (size_t)size, f);
    fclose(f);
    int found = memmem(data, n, needle, len) != NULL;
    free(data);
    return found;
}

/* The whole unlock with logging at its most verbose; then the host's log,
 * its replies, pcscd's and the card's logs, and a core dump of the running
 * host are searched for the new PIN, the PUK and the keys. */
START_TEST(secrets_stay_secret)
{
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    char log_path[1024], core_prefix[1024], core_path[1100], cmd[4096];
    snprintf(log_path, sizeof(log_path), "%s/it-script/secrets.log", build);
    snprintf(core_prefix, sizeof(core_prefix), "%s/it-script/host-core", build);
    unlink(log_path);
    ck_assert_int_eq(host_close(&host, 1000), 0);
    setenv("NESBRIDGE_LOG", "debug", 1);
    setenv("NESBRIDGE_LOG_FILE", log_path, 1);
    connect_host();
    unsetenv("NESBRIDGE_LOG");
    unsetenv("NESBRIDGE_LOG_FILE");

    const char *prepared = prepare_unlock(atr);
    char args[8300];
    snprintf(args, sizeof(args), "%s,\"new_pin\":\"86420975\",\"new_pin_confirm\":\"86420975\"}", prepared);
    cJSON *r = host_call(&host, "run-script", args);
    ck_assert(cJSON_IsTrue(reply_result(r, "completed")));
    char *reply_text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    ck_assert_ptr_null(strstr(reply_text, "86420975"));
    ck_assert_ptr_null(strstr(reply_text, "3836343230393735"));
    free(reply_text);
    /* Snapshot the host's memory while it still runs (not under ASan: its
     * terabytes of reserved shadow memory make a core dump endless). */
    int dump = getenv("NB_SANITIZED") == NULL;
    snprintf(core_path, sizeof(core_path), "%s.%d", core_prefix, (int)host.pid);
    if (dump) {
        snprintf(cmd, sizeof(cmd), "gcore -o '%s' %d >/dev/null 2>&1", core_prefix, (int)host.pid);
        ck_assert_int_eq(system(cmd), 0);
    }
    ck_assert_uint_eq(verify_directly("3836343230393735"), 0x9000);

    static const char pin[] = "86420975", pin_hex[] = "3836343230393735";
    static const char puk_hex[] = "3132333435363738";
    static const char admin_hex[] = "A94911A6E90E8E645D097F3135C0356A", master_hex[] = "4E4553425249444745444D4F4B455931";
    static const uint8_t admin[] = {0xA9, 0x49, 0x11, 0xA6, 0xE9, 0x0E, 0x8E, 0x64, 0x5D, 0x09, 0x7F, 0x31, 0x35, 0xC0, 0x35, 0x6A};
    char pcscd_log[1024], vcard_log[1024];
    snprintf(pcscd_log, sizeof(pcscd_log), "%s/vcard-run/pcscd.log", build);
    snprintf(vcard_log, sizeof(vcard_log), "%s/vcard-run/vcard.log", build);
    const char *logs[] = {log_path, pcscd_log, vcard_log};
    ck_assert_msg(file_contains(log_path, "run-script", 10), "the debug log was written");
    ck_assert_msg(file_contains(log_path, "[data withheld]", 15), "secret APDUs are logged without data");
    for (size_t i = 0; i < 3; i++) {
        ck_assert_msg(!file_contains(logs[i], pin, 8), "PIN in %s", logs[i]);
        ck_assert_msg(!file_contains(logs[i], pin_hex, 16), "PIN (hex) in %s", logs[i]);
        ck_assert_msg(!file_contains(logs[i], puk_hex, 16), "PUK in %s", logs[i]);
        ck_assert_msg(!file_contains(logs[i], admin_hex, 32), "admin key in %s", logs[i]);
        ck_assert_msg(!file_contains(logs[i], master_hex, 32), "master key in %s", logs[i]);
    }
    if (dump) {
        ck_assert_msg(!file_contains(core_path, pin, 8), "the new PIN lingers in the host's memory");
        ck_assert_msg(!file_contains(core_path, admin, sizeof(admin)), "an admin key in the host's memory");
        unlink(core_path);
    }
}
END_TEST

static Suite *script_suite(void)
{
    Suite *s = suite_create("script-integration");
    TCase *tc = tcase_create("host+pcscd+vcard");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, make_trust, drop_trust);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, authority_unlock_of_a_locked_card);
    tcase_add_test(tc, a_script_for_another_card_is_refused);
    tcase_add_test(tc, card_pulled_after_the_protected_step);
    tcase_add_test(tc, card_timeout_after_the_protected_step);
    tcase_add_test(tc, port_closed_during_the_script);
    tcase_add_test(tc, signing_tool_round_trip);
    tcase_add_test(tc, secrets_stay_secret);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(script_suite)
