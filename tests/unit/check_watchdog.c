/* SPDX-License-Identifier: Apache-2.0 */
/* The watchdog (watchdog.c), each case in a forked child because it ends
 * the process: an exchange that never returns gets unresponsive-card and
 * exit status 1 after the limit; a closed port ends the host at once,
 * except while a signed script runs; and it guards more than transmit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "fake_backend.h"
#include "frame.h"
#include "protocol.h"
#include "testutil.h"
#include "watchdog.h"

#define LIMIT_MS 200u

typedef struct {
    pid_t pid;
    int to_child;   /* the child's input: closing it is the port closing */
    int from_child; /* the child's output: the watchdog's frame */
} child;

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Forks; the child runs body(in_fd, out_fd) and must not return. */
static child start(void (*body)(int in_fd, int out_fd))
{
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    child c = {fork(), in[1], out[0]};
    ck_assert_int_ge(c.pid, 0);
    if (c.pid == 0) {
        close(in[1]);
        close(out[0]);
        body(in[0], out[1]);
        _exit(99); /* the watchdog should have ended it */
    }
    close(in[0]);
    close(out[1]);
    return c;
}

/* Waits for the child to end (at most 5 s); returns its exit status. */
static int finish(child *c, double *took)
{
    double t0 = seconds();
    int status = 0;
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (seconds() - t0 > 5) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            ck_abort_msg("the watchdog never fired");
        }
        usleep(5000);
    }
    *took = seconds() - t0;
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void exchange_that_never_returns(int in_fd, int out_fd)
{
    nb_watchdog_start(in_fd, out_fd, LIMIT_MS);
    nb_watchdog_enter("17", 0);
    for (;;)
        pause();
}

START_TEST(a_stuck_exchange_gets_unresponsive_card)
{
    child c = start(exchange_that_never_returns);
    double took = 0;
    ck_assert_int_eq(finish(&c, &took), 1);
    ck_assert_double_ge(took, LIMIT_MS / 1000.0 - 0.05);
    ck_assert_double_lt(took, 2.0);
    char *body = NULL;
    size_t len = 0;
    uint32_t declared = 0;
    ck_assert_int_eq(nb_frame_read(c.from_child, &body, &len, &declared), NB_FRAME_OK);
    ck_assert_ptr_nonnull(strstr(body, "\"id\":17"));
    ck_assert_ptr_nonnull(strstr(body, "\"code\":\"unresponsive-card\""));
    ck_assert_ptr_null(strstr(body, "pcsc")); /* PC/SC itself said nothing */
    free(body);
    close(c.to_child);
    close(c.from_child);
}
END_TEST

/* The widest id a request may carry: 128 bytes JSON writes as \\u00XX. */
static char widest_id[NB_ID_TEXT_MAX];

static void widest_id_make(void)
{
    size_t o = 0;
    widest_id[o++] = '"';
    for (int i = 0; i < NB_MAX_ID_STRING; i++, o += 6)
        memcpy(widest_id + o, "\\u001f", 6);
    widest_id[o++] = '"';
    widest_id[o] = '\0';
}

static void stuck_with_the_widest_id(int in_fd, int out_fd)
{
    nb_watchdog_start(in_fd, out_fd, LIMIT_MS);
    nb_watchdog_enter(widest_id, 0);
    for (;;)
        pause();
}

START_TEST(the_answer_carries_the_widest_id)
{
    widest_id_make();
    child c = start(stuck_with_the_widest_id);
    double took = 0;
    ck_assert_int_eq(finish(&c, &took), 1);
    char *body = NULL;
    size_t len = 0;
    uint32_t declared = 0;
    ck_assert_int_eq(nb_frame_read(c.from_child, &body, &len, &declared), NB_FRAME_OK);
    ck_assert_ptr_nonnull(strstr(body, widest_id));
    ck_assert_ptr_nonnull(strstr(body, "\"code\":\"unresponsive-card\""));
    free(body);
    close(c.to_child);
    close(c.from_child);
}
END_TEST

START_TEST(a_closed_port_ends_the_host_at_once)
{
    child c = start(exchange_that_never_returns);
    close(c.to_child);
    double took = 0;
    ck_assert_int_eq(finish(&c, &took), 0);
    ck_assert_double_lt(took, LIMIT_MS / 1000.0); /* before the limit */
    close(c.from_child);
}
END_TEST

static void script_that_hangs(int in_fd, int out_fd)
{
    nb_watchdog_start(in_fd, out_fd, LIMIT_MS);
    nb_watchdog_finish_first(1);
    nb_watchdog_enter("18", 0);
    for (;;)
        pause();
}

/* A signed script finishes even when the port closes; a card that hangs
 * still ends it at the limit. */
START_TEST(a_script_outlives_the_port_but_not_the_limit)
{
    child c = start(script_that_hangs);
    close(c.to_child);
    double took = 0;
    ck_assert_int_eq(finish(&c, &took), 1);
    ck_assert_double_ge(took, LIMIT_MS / 1000.0 - 0.05);
    close(c.from_child);
}
END_TEST

static fake_backend fake;
static nb_session session;

static void status_that_hangs(int in_fd, int out_fd)
{
    fake_init(&fake);
    nb_session_init(&session, &fake.backend, NULL, 1);
    nb_watchdog_start(in_fd, out_fd, LIMIT_MS);
    const char *hello = "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"https://kamusm.gov.tr\",\"args\":{\"protocol\":1}}";
    free(nb_dispatch(&session, hello, strlen(hello)));
    const char *connect = "{\"id\":2,\"cmd\":\"connect\",\"origin\":\"https://kamusm.gov.tr\","
                          "\"args\":{\"reader\":\"Fake Reader 00 00\"}}";
    char *reply = nb_dispatch(&session, connect, strlen(connect));
    const char *at = strstr(reply, "\"handle\":");
    int handle = at != NULL ? atoi(at + 9) : 0;
    free(reply);
    char status[256];
    snprintf(status, sizeof(status),
             "{\"id\":3,\"cmd\":\"status\",\"origin\":\"https://kamusm.gov.tr\",\"args\":{\"handle\":%d}}", handle);
    fake.hang_status = 1;
    free(nb_dispatch(&session, status, strlen(status)));
}

/* Not only transmit: a status call that hangs in the reader is bounded
 * too (as are connect, transactions, control and disconnect). */
START_TEST(it_guards_status_too)
{
    child c = start(status_that_hangs);
    double took = 0;
    ck_assert_int_eq(finish(&c, &took), 1);
    char *body = NULL;
    size_t len = 0;
    uint32_t declared = 0;
    ck_assert_int_eq(nb_frame_read(c.from_child, &body, &len, &declared), NB_FRAME_OK);
    ck_assert_ptr_nonnull(strstr(body, "\"id\":3"));
    ck_assert_ptr_nonnull(strstr(body, "unresponsive-card"));
    free(body);
    close(c.to_child);
    close(c.from_child);
}
END_TEST

static Suite *watchdog_suite(void)
{
    Suite *s = suite_create("watchdog");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, a_stuck_exchange_gets_unresponsive_card);
    tcase_add_test(tc, the_answer_carries_the_widest_id);
    tcase_add_test(tc, a_closed_port_ends_the_host_at_once);
    tcase_add_test(tc, a_script_outlives_the_port_but_not_the_limit);
    tcase_add_test(tc, it_guards_status_too);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(watchdog_suite)
