/* `make demo` for now: drives build/nesbridge-host over native-messaging
 * frames as the extension will, against pcscd and the virtual NES card,
 * and prints each step with its timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostproc.h"
#include "testutil.h"

static hostproc host;
static double started;

static cJSON *step(const char *title, const char *cmd, const char *args)
{
    double t0 = now_seconds();
    cJSON *r = host_call(&host, cmd, args);
    char *text = cJSON_PrintUnformatted(r);
    printf("demo: [%7.1f ms] %-34s %s -> %s\n", (now_seconds() - t0) * 1000.0, title, cmd, text);
    free(text);
    return r;
}

/* A Check test, so that the shared helpers' assertions report properly. */
START_TEST(demo)
{
    started = now_seconds();
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(step("handshake", "hello", "{\"protocol\":1}"));
    cJSON_Delete(step("find the reader and card", "list-readers", NULL));
    cJSON *r = step("connect to the card", "connect", "{\"reader\":\"" IT_READER "\"}");
    const cJSON *handle = reply_result(r, "handle");
    ck_assert_msg(handle != NULL, "no card; is the virtual card up?");
    char args[256];
    int h = handle->valueint;
    cJSON_Delete(r);
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00A4040C07504B43532D3135\"}", h);
    cJSON_Delete(step("select the PKCS-15 application", "transmit", args));
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00CA005A00\"}", h);
    cJSON_Delete(step("read the card serial", "transmit", args));
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00200081\"}", h);
    cJSON_Delete(step("remaining PIN tries (63Cx)", "transmit", args));
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"0020008108313233343536FFFF\"}", h);
    r = step("a page may not send a PIN", "transmit", args);
    int refused = strcmp(reply_code(r), "not-allowed") == 0;
    cJSON_Delete(r);
    snprintf(args, sizeof(args), "{\"handle\":%d}", h);
    cJSON_Delete(step("release the card", "disconnect", args));
    int code = host_close(&host, 1000);
    printf("demo: host exited with %d after the port closed; total %.1f ms\n", code,
           (now_seconds() - started) * 1000.0);
    printf("demo: the browser extension, demo site and signed unlock scripts come in later issues\n");
    ck_assert_int_eq(code, 0);
    ck_assert(refused);
}
END_TEST

static Suite *demo_suite(void)
{
    Suite *s = suite_create("demo");
    TCase *tc = tcase_create("host+pcscd+vcard");
    tcase_add_test(tc, demo);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(demo_suite)
