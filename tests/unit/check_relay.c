/* SPDX-License-Identifier: Apache-2.0 */
/* The relay loop over pipes, on the fake backend. */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_backend.h"
#include "frame.h"
#include "relay.h"
#include "testutil.h"

#define ORIGIN "https://kamusm.gov.tr"

typedef struct {
    fake_backend fake;
    nb_session session;
    int to_host[2], from_host[2];
    pthread_t thread;
    int exit_code;
} harness;

static void *run(void *p)
{
    harness *h = p;
    h->exit_code = nb_relay_run(&h->session, h->to_host[0], h->from_host[1]);
    close(h->from_host[1]);
    return NULL;
}

static void start(harness *h)
{
    memset(h, 0, sizeof(*h));
    fake_init(&h->fake);
    nb_session_init(&h->session, &h->fake.backend, NULL, 1);
    ck_assert_int_eq(pipe(h->to_host), 0);
    ck_assert_int_eq(pipe(h->from_host), 0);
    pthread_create(&h->thread, NULL, run, h);
}

static int finish(harness *h)
{
    close(h->to_host[1]);
    pthread_join(h->thread, NULL);
    close(h->to_host[0]);
    close(h->from_host[0]);
    ck_assert_int_eq(h->fake.contexts_open, 0);
    ck_assert_int_eq(h->fake.cards_open, 0);
    fake_destroy(&h->fake);
    return h->exit_code;
}

static void send_raw(harness *h, uint32_t declared, const char *body, size_t len)
{
    ck_assert_uint_eq(nb_write_exact(h->to_host[1], &declared, 4), 4);
    ck_assert_uint_eq(nb_write_exact(h->to_host[1], body, len), len);
}

static void send_json(harness *h, const char *json)
{
    send_raw(h, (uint32_t)strlen(json), json, strlen(json));
}

/* Reads one reply and returns its error code ("ok" on success). */
static char *read_reply(harness *h)
{
    char *body;
    size_t len;
    uint32_t declared;
    ck_assert_int_eq(nb_frame_read(h->from_host[0], &body, &len, &declared), NB_FRAME_OK);
    return body;
}

static void expect_reply_contains(harness *h, const char *needle)
{
    char *body = read_reply(h);
    ck_assert_msg(strstr(body, needle) != NULL, "reply %s lacks %s", body, needle);
    free(body);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(eof_exits_cleanly)
{
    harness h;
    start(&h);
    send_json(&h, "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"protocol\":1}}");
    expect_reply_contains(&h, "\"ok\":true");
    send_json(&h, "{\"id\":2,\"cmd\":\"connect\",\"origin\":\"" ORIGIN "\",\"args\":{\"reader\":\"Fake Reader 00 00\"}}");
    expect_reply_contains(&h, "\"handle\"");
    ck_assert_int_eq(finish(&h), 0); /* finish checks the card was released */
}
END_TEST

START_TEST(empty_frame_is_answered_and_survived)
{
    harness h;
    start(&h);
    send_raw(&h, 0, "", 0);
    expect_reply_contains(&h, "\"id\":null,\"ok\":false,\"error\":{\"code\":\"bad-request\"");
    send_json(&h, "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"protocol\":1}}");
    expect_reply_contains(&h, "\"ok\":true");
    ck_assert_int_eq(finish(&h), 0);
}
END_TEST

START_TEST(oversized_frame_ends_the_session)
{
    harness h;
    start(&h);
    send_raw(&h, 0xFFFFFFFFu, "{}", 2);
    expect_reply_contains(&h, "message-too-large");
    ck_assert_int_eq(finish(&h), 1);
}
END_TEST

START_TEST(truncated_frame_ends_the_session)
{
    harness h;
    start(&h);
    send_raw(&h, 100, "{\"id\":1", 7);
    close(h.to_host[1]);
    h.to_host[1] = -1;
    expect_reply_contains(&h, "truncated frame");
    pthread_join(h.thread, NULL);
    ck_assert_int_eq(h.exit_code, 1);
    close(h.to_host[0]);
    close(h.from_host[0]);
    fake_destroy(&h.fake);
}
END_TEST

START_TEST(a_new_request_cancels_a_wait)
{
    harness h;
    start(&h);
    h.fake.block_waits = 1;
    send_json(&h, "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"protocol\":1}}");
    expect_reply_contains(&h, "\"ok\":true");
    send_json(&h, "{\"id\":2,\"cmd\":\"wait-for-change\",\"origin\":\"" ORIGIN "\",\"args\":"
                  "{\"readers\":{\"Fake Reader 00 00\":[\"present\"]},\"timeout_ms\":60000}}");
    usleep(100000);
    double t0 = seconds();
    send_json(&h, "{\"id\":3,\"cmd\":\"cancel\",\"origin\":\"" ORIGIN "\"}");
    expect_reply_contains(&h, "{\"id\":2,\"ok\":false,\"error\":{\"code\":\"system-cancelled\"");
    expect_reply_contains(&h, "{\"id\":3,\"ok\":true,\"result\":{\"cancelled\":true}}");
    ck_assert_double_lt(seconds() - t0, 0.2);
    ck_assert_int_ge(h.fake.cancel_calls, 1);
    ck_assert_int_eq(finish(&h), 0);
}
END_TEST

START_TEST(eof_during_a_wait_exits_fast)
{
    harness h;
    start(&h);
    h.fake.block_waits = 1;
    send_json(&h, "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"" ORIGIN "\",\"args\":{\"protocol\":1}}");
    expect_reply_contains(&h, "\"ok\":true");
    send_json(&h, "{\"id\":2,\"cmd\":\"wait-for-change\",\"origin\":\"" ORIGIN "\",\"args\":"
                  "{\"readers\":{\"Fake Reader 00 00\":[\"present\"]},\"timeout_ms\":60000}}");
    usleep(100000);
    double t0 = seconds();
    ck_assert_int_eq(finish(&h), 0);
    ck_assert_double_lt(seconds() - t0, 1.0);
}
END_TEST

static Suite *relay_suite(void)
{
    Suite *s = suite_create("relay");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, eof_exits_cleanly);
    tcase_add_test(tc, empty_frame_is_answered_and_survived);
    tcase_add_test(tc, oversized_frame_ends_the_session);
    tcase_add_test(tc, truncated_frame_ends_the_session);
    tcase_add_test(tc, a_new_request_cancels_a_wait);
    tcase_add_test(tc, eof_during_a_wait_exits_fast);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(relay_suite)
