/* SPDX-License-Identifier: Apache-2.0 */
/* Integration: build/nesbridge-host through real frames, against a real
 * pcscd with the virtual reader and the virtual NES card (make vcard-up). */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostproc.h"
#include "testutil.h"

static hostproc host;

static void setup(void)
{
    vcard_control("insert");
    vcard_control("reset-state fresh");
    vcard_wait_present(1);
    host_start(&host, IT_CHROME_CALLER);
    cJSON *r = host_call(&host, "hello", "{\"protocol\":1}");
    ck_assert_str_eq(reply_code(r), "ok");
    cJSON_Delete(r);
}

static void teardown(void)
{
    ck_assert_int_eq(host_close(&host, 1000), 0);
}

static int connect_card(const char *share)
{
    char args[256];
    snprintf(args, sizeof(args), "{\"reader\":\"" IT_READER "\",\"share\":\"%s\"}", share);
    cJSON *r = host_call(&host, "connect", args);
    ck_assert_str_eq(reply_code(r), "ok");
    ck_assert_str_eq(reply_result(r, "atr")->valuestring, "3B9F968131FE45806755454B41451293318073B3A1806B");
    int handle = reply_result(r, "handle")->valueint;
    cJSON_Delete(r);
    return handle;
}

/* Transmits; returns "SW" or the error code, data copied into data. */
static const char *transmit(int handle, const char *apdu, char *data, size_t cap)
{
    static char result[64];
    char args[512];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"%s\"}", handle, apdu);
    cJSON *r = host_call(&host, "transmit", args);
    if (strcmp(reply_code(r), "ok") == 0) {
        snprintf(result, sizeof(result), "%s", reply_result(r, "sw")->valuestring);
        if (data != NULL)
            snprintf(data, cap, "%s", reply_result(r, "data")->valuestring);
    } else {
        snprintf(result, sizeof(result), "%s", reply_code(r));
    }
    cJSON_Delete(r);
    return result;
}

START_TEST(lists_the_virtual_reader_with_its_atr)
{
    cJSON *r = host_call(&host, "list-readers", NULL);
    ck_assert_str_eq(reply_code(r), "ok");
    const cJSON *readers = reply_result(r, "readers");
    int found = 0;
    const cJSON *reader;
    cJSON_ArrayForEach(reader, readers) {
        if (strcmp(cJSON_GetObjectItem(reader, "name")->valuestring, IT_READER) != 0)
            continue;
        found = 1;
        ck_assert_str_eq(cJSON_GetObjectItem(reader, "atr")->valuestring, "3B9F968131FE45806755454B41451293318073B3A1806B");
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(reader, "pinpad"));
    }
    ck_assert(found);
    cJSON_Delete(r);
}
END_TEST

START_TEST(connect_select_read_disconnect)
{
    int h = connect_card("shared");
    char data[4096];
    ck_assert_str_eq(transmit(h, "00A4040C07504B43532D3135", NULL, 0), "9000");
    ck_assert_str_eq(transmit(h, "00A4020C02C000", NULL, 0), "9000");
    ck_assert_str_eq(transmit(h, "00B0000004", data, sizeof(data)), "9000");
    ck_assert_msg(strncmp(data, "3082", 4) == 0, "EF.CERT does not start a DER sequence: %s", data);
    ck_assert_str_eq(transmit(h, "00CA005A00", data, sizeof(data)), "9000");
    ck_assert_str_eq(data, "4E4230303030303030303031"); /* NB0000000001 */
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    cJSON *r = host_call(&host, "status", args);
    ck_assert_str_eq(reply_result(r, "reader")->valuestring, IT_READER);
    ck_assert_str_eq(reply_result(r, "protocol")->valuestring, "t1");
    cJSON_Delete(r);
    r = host_call(&host, "disconnect", args);
    ck_assert_str_eq(reply_code(r), "ok");
    cJSON_Delete(r);
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "invalid-handle");
}
END_TEST

START_TEST(verify_with_data_is_refused_and_spends_nothing)
{
    int h = connect_card("shared");
    ck_assert_str_eq(transmit(h, "0020008108313131313131FFFF", NULL, 0), "not-allowed");
    ck_assert_str_eq(transmit(h, "002C0381", NULL, 0), "not-allowed");
    ck_assert_str_eq(transmit(h, "0024018108313131313131FFFF", NULL, 0), "not-allowed");
    ck_assert_str_eq(transmit(h, "00200081", NULL, 0), "63C3"); /* tries untouched */
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=3"));
}
END_TEST

START_TEST(removal_while_connected)
{
    int h = connect_card("shared");
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "9000");
    vcard_control("remove");
    vcard_wait_present(0);
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "removed-card");
    vcard_control("insert");
    vcard_wait_present(1);
    int h2 = connect_card("shared");
    ck_assert_str_eq(transmit(h2, "00A4000C023F00", NULL, 0), "9000");
}
END_TEST

START_TEST(wait_sees_removal_and_is_cancellable)
{
    /* A wait that nothing ends is cancelled by the page's next request. */
    host_send(&host, "{\"id\":\"w1\",\"cmd\":\"wait-for-change\",\"origin\":\"" IT_ORIGIN "\",\"args\":"
                     "{\"readers\":{\"" IT_READER "\":[\"present\"],\"nesbridge Virtual Reader 00 01\":[\"empty\"],"
                     "\"nesbridge Pinpad Reader 00 00\":[\"present\"]},"
                     "\"timeout_ms\":60000}}");
    usleep(300000);
    double t0 = now_seconds();
    host_send(&host, "{\"id\":\"c1\",\"cmd\":\"cancel\",\"origin\":\"" IT_ORIGIN "\"}");
    cJSON *wait = host_recv(&host, 1000);
    ck_assert_str_eq(reply_code(wait), "system-cancelled");
    cJSON_Delete(wait);
    cJSON_Delete(host_recv(&host, 1000));
    ck_assert_double_lt(now_seconds() - t0, 0.5);

    host_send(&host, "{\"id\":\"w2\",\"cmd\":\"wait-for-change\",\"origin\":\"" IT_ORIGIN "\",\"args\":"
                     "{\"readers\":{\"" IT_READER "\":[\"present\"],\"nesbridge Virtual Reader 00 01\":[\"empty\"],"
                     "\"nesbridge Pinpad Reader 00 00\":[\"present\"]},"
                     "\"timeout_ms\":10000}}");
    usleep(200000);
    vcard_control("remove");
    cJSON *r = host_recv(&host, 5000);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(cJSON_GetObjectItem(r, "id")->valuestring, "w2");
    ck_assert_str_eq(reply_code(r), "ok");
    const cJSON *first = cJSON_GetArrayItem(reply_result(r, "readers"), 0);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(first, "changed")));
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(first, "state"), 0)->valuestring, "empty");
    cJSON_Delete(r);
}
END_TEST

START_TEST(cancelled_wait_reply_order)
{
    host_send(&host, "{\"id\":\"w\",\"cmd\":\"wait-for-change\",\"origin\":\"" IT_ORIGIN "\",\"args\":"
                     "{\"readers\":{\"" IT_READER "\":[\"present\"],\"nesbridge Virtual Reader 00 01\":[\"empty\"],"
                     "\"nesbridge Pinpad Reader 00 00\":[\"present\"]},"
                     "\"timeout_ms\":60000}}");
    usleep(300000);
    host_send(&host, "{\"id\":\"c\",\"cmd\":\"cancel\",\"origin\":\"" IT_ORIGIN "\"}");
    cJSON *wait = host_recv(&host, 1000);
    ck_assert_ptr_nonnull(wait);
    ck_assert_str_eq(cJSON_GetObjectItem(wait, "id")->valuestring, "w");
    ck_assert_str_eq(reply_code(wait), "system-cancelled");
    cJSON *cancel = host_recv(&host, 1000);
    ck_assert(cJSON_IsTrue(reply_result(cancel, "cancelled")));
    cJSON_Delete(wait);
    cJSON_Delete(cancel);
}
END_TEST

START_TEST(eof_releases_card_and_transaction)
{
    int h = connect_card("exclusive");
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    cJSON *r = host_call(&host, "begin-transaction", args);
    ck_assert_str_eq(reply_code(r), "ok");
    cJSON_Delete(r);
    /* A second host is kept out while the first holds the card. */
    hostproc other;
    host_start(&other, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&other, "hello", "{\"protocol\":1}"));
    r = host_call(&other, "connect", "{\"reader\":\"" IT_READER "\"}");
    ck_assert_str_eq(reply_code(r), "sharing-violation");
    cJSON_Delete(r);
    double t0 = now_seconds();
    ck_assert_int_eq(host_close(&host, 1000), 0);
    ck_assert_double_lt(now_seconds() - t0, 1.0);
    r = host_call(&other, "connect", "{\"reader\":\"" IT_READER "\",\"share\":\"exclusive\"}");
    ck_assert_str_eq(reply_code(r), "ok");
    cJSON_Delete(r);
    ck_assert_int_eq(host_close(&other, 1000), 0);
    host_start(&host, IT_CHROME_CALLER); /* for teardown */
}
END_TEST

START_TEST(foreign_callers_and_bad_frames)
{
    hostproc other;
    host_start(&other, "chrome-extension://abcdefghijklmnopabcdefghijklmnop/");
    cJSON *r = host_call(&other, "hello", "{\"protocol\":1}");
    ck_assert_str_eq(reply_code(r), "caller-not-allowed");
    cJSON_Delete(r);
    ck_assert_int_eq(host_close(&other, 1000), 0);

    uint32_t zero = 0;
    host_send_raw(&host, &zero, 4);
    r = host_recv(&host, 1000);
    ck_assert_str_eq(reply_code(r), "bad-request");
    cJSON_Delete(r);
    host_send(&host, "{\"id\":5,\"cmd\":\"list-readers\",\"origin\":\"https://evil.example\"}");
    r = host_recv(&host, 1000);
    ck_assert_str_eq(reply_code(r), "origin-not-allowed");
    cJSON_Delete(r);
    uint32_t huge = 0xFFFFFFFFu;
    host_send_raw(&host, &huge, 4);
    r = host_recv(&host, 1000);
    ck_assert_str_eq(reply_code(r), "message-too-large");
    cJSON_Delete(r);
    ck_assert_int_eq(host_close(&host, 1000), 1);
    host_start(&host, IT_CHROME_CALLER);
}
END_TEST

START_TEST(command_line)
{
    char cmd[4096];
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-host' --version | grep -q 'nesbridge-host'", build);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-host' >/dev/null 2>&1", build);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-host' --bogus >/dev/null 2>&1", build);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
}
END_TEST

/* Fault: pcscd is killed and restarted while the host runs. */
START_TEST(pcscd_restart_is_survived)
{
    int h = connect_card("shared");
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "sh tests/vcard.sh restart-pcscd '%s'", build);
    /* Between the kill and the restart the host answers no-service... */
    snprintf(cmd, sizeof(cmd), "kill $(cat '%s/vcard-run/pcscd.pid') && sleep 0.3", build);
    ck_assert_int_eq(system(cmd), 0);
    cJSON *r = host_call(&host, "list-readers", NULL);
    ck_assert_str_eq(reply_code(r), "no-service");
    cJSON_Delete(r);
    /* ... and after it, recovers on the next request. */
    snprintf(cmd, sizeof(cmd), "sh tests/vcard.sh restart-pcscd '%s'", build);
    ck_assert_int_eq(system(cmd), 0);
    r = host_call(&host, "list-readers", NULL);
    ck_assert_str_eq(reply_code(r), "ok");
    cJSON_Delete(r);
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "invalid-handle"); /* the old handle died with pcscd */
    int h2 = connect_card("shared");
    ck_assert_str_eq(transmit(h2, "00A4000C023F00", NULL, 0), "9000");
    ck_assert_ptr_nonnull(strstr(vcard_control("status"), "pin_tries=3 puk_tries=10"));
}
END_TEST

/* Fault: another program resets the card under the host's feet. */
START_TEST(reset_by_another_program)
{
    int h = connect_card("shared");
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "9000");
    char cmd[4096];
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    /* pcsc-apdu connects, sends a SELECT and leaves; then a reset. */
    snprintf(cmd, sizeof(cmd), "'%s/tests/pcsc-apdu' '" IT_READER "' 00A4000C023F00 --reset >/dev/null", build);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "reset-card");
    int h2 = connect_card("shared");
    ck_assert_str_eq(transmit(h2, "00A4000C023F00", NULL, 0), "9000");
}
END_TEST

/* Fault: the card leaves while the host holds a transaction. */
START_TEST(removal_during_a_transaction)
{
    int h = connect_card("shared");
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    cJSON *r = host_call(&host, "begin-transaction", args);
    ck_assert_str_eq(reply_code(r), "ok");
    cJSON_Delete(r);
    vcard_control("remove");
    vcard_wait_present(0);
    ck_assert_str_eq(transmit(h, "00A4000C023F00", NULL, 0), "removed-card");
    r = host_call(&host, "end-transaction", args);
    ck_assert_str_eq(reply_code(r), "invalid-handle"); /* the host let the dead handle go */
    cJSON_Delete(r);
    vcard_control("insert");
    vcard_wait_present(1);
    int h2 = connect_card("exclusive"); /* nothing of the old transaction holds the card */
    ck_assert_str_eq(transmit(h2, "00200081", NULL, 0), "63C3");
}
END_TEST

/* Brings a muted card back: vpcd waits for ever for its answer, so the
 * card has to leave the reader and come back. */
static void unmute_card(void)
{
    vcard_control("mute off");
    vcard_control("remove");
    vcard_wait_present(0);
    vcard_control("insert");
    vcard_wait_present(1);
}

static void short_card_timeout(void)
{
    const char *build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    char path[1024];
    snprintf(path, sizeof(path), "%s/it-host.conf", build);
    FILE *f = fopen(path, "w");
    fputs("card_timeout_ms = 1000\n", f);
    fclose(f);
    chmod(path, 0600);
    setenv("NESBRIDGE_CONFIG", path, 1);
}

/* Fault: a card that stops answering. The host answers unresponsive-card
 * within its limit and stops; the card and the next host are fine. */
START_TEST(a_card_that_stops_answering)
{
    ck_assert_int_eq(host_close(&host, 1000), 0);
    short_card_timeout();
    host_start(&host, IT_CHROME_CALLER);
    unsetenv("NESBRIDGE_CONFIG");
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
    int h = connect_card("shared");
    vcard_control("mute on");
    double t0 = now_seconds();
    char args[128];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00A4000C023F00\"}", h);
    cJSON *r = host_call(&host, "transmit", args);
    ck_assert_str_eq(reply_code(r), "unresponsive-card");
    cJSON_Delete(r);
    double waited = now_seconds() - t0;
    ck_assert_double_ge(waited, 1.0);
    ck_assert_double_lt(waited, 2.0);
    ck_assert_int_eq(host_close(&host, 1000), 1);
    unmute_card();
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
    int h2 = connect_card("shared");
    ck_assert_str_eq(transmit(h2, "00200081", NULL, 0), "63C3");
}
END_TEST

/* Fault: the browser closes the port while the card hangs: the host ends
 * within a second even so. */
START_TEST(port_closed_while_the_card_hangs)
{
    int h = connect_card("shared");
    vcard_control("mute on");
    char json[256];
    snprintf(json, sizeof(json), "{\"id\":9,\"cmd\":\"transmit\",\"origin\":\"" IT_ORIGIN "\",\"args\":{\"handle\":%d,\"apdu\":\"00A4000C023F00\"}}", h);
    host_send(&host, json);
    usleep(200000);
    double t0 = now_seconds();
    ck_assert_int_eq(host_close(&host, 1000), 0);
    ck_assert_double_lt(now_seconds() - t0, 1.0);
    unmute_card();
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
}
END_TEST

/* SIGTERM in the middle of a transaction: the card is free afterwards
 * (pcscd lets go of a dead client's transaction and handles). */
START_TEST(sigterm_during_a_transaction)
{
    int h = connect_card("exclusive");
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    cJSON_Delete(host_call(&host, "begin-transaction", args));
    kill(host.pid, SIGTERM);
    ck_assert_int_eq(host_close(&host, 1000), 128 + SIGTERM);
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
    int h2 = connect_card("exclusive");
    ck_assert_str_eq(transmit(h2, "00A4000C023F00", NULL, 0), "9000");
}
END_TEST

/* SIGPIPE: the browser stops reading; the host's write fails, it does not
 * die of the signal, and it ends cleanly with status 1. */
START_TEST(sigpipe_is_an_error_not_a_death)
{
    connect_card("shared");
    close(host.from_host);
    host.from_host = open("/dev/null", O_RDONLY);
    host_send(&host, "{\"id\":1,\"cmd\":\"list-readers\",\"origin\":\"" IT_ORIGIN "\"}");
    int status = 0;
    double deadline = now_seconds() + 1.0;
    pid_t r = 0;
    while (now_seconds() < deadline && (r = waitpid(host.pid, &status, WNOHANG)) == 0)
        usleep(5000);
    ck_assert_int_eq(r, host.pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 1);
    close(host.to_host);
    close(host.from_host);
    host_start(&host, IT_CHROME_CALLER); /* for teardown */
}
END_TEST

static Suite *host_suite(void)
{
    Suite *s = suite_create("host-integration");
    TCase *tc = tcase_create("pcscd+vcard");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lists_the_virtual_reader_with_its_atr);
    tcase_add_test(tc, connect_select_read_disconnect);
    tcase_add_test(tc, verify_with_data_is_refused_and_spends_nothing);
    tcase_add_test(tc, removal_while_connected);
    tcase_add_test(tc, wait_sees_removal_and_is_cancellable);
    tcase_add_test(tc, cancelled_wait_reply_order);
    tcase_add_test(tc, eof_releases_card_and_transaction);
    tcase_add_test(tc, foreign_callers_and_bad_frames);
    tcase_add_test(tc, command_line);
    tcase_add_test(tc, pcscd_restart_is_survived);
    tcase_add_test(tc, reset_by_another_program);
    tcase_add_test(tc, removal_during_a_transaction);
    tcase_add_test(tc, a_card_that_stops_answering);
    tcase_add_test(tc, port_closed_while_the_card_hangs);
    tcase_add_test(tc, sigterm_during_a_transaction);
    tcase_add_test(tc, sigpipe_is_an_error_not_a_death);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(host_suite)
