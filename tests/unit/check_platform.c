/* SPDX-License-Identifier: Apache-2.0 */
/* The Unix side of platform.h: input readiness and hang-up on pipes, the
 * input watcher, manifest host paths, file modes, timegm, allocation size.
 * (The Windows side runs under wine: tests/installer/windows.test.js.) */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform.h"
#include "testutil.h"

static volatile int callbacks;

static void count_callback(void *arg)
{
    (void)arg;
    callbacks++;
}

START_TEST(readiness_follows_the_pipe)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert(!nb_input_ready(p[0]));
    ck_assert(!nb_input_hung_up(p[0]));
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert(nb_input_ready(p[0]));
    close(p[1]);
    /* Data still to read: not hung up yet, though the writer is gone. */
    ck_assert(!nb_input_hung_up(p[0]));
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    ck_assert(nb_input_ready(p[0])); /* the read would see the end */
    ck_assert(nb_input_hung_up(p[0]));
    close(p[0]);
}
END_TEST

START_TEST(watch_fires_on_input_and_only_then)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    callbacks = 0;
    nb_input_watch *quiet = nb_input_watch_start(p[0], count_callback, NULL);
    ck_assert_ptr_nonnull(quiet);
    usleep(50000);
    ck_assert_int_eq(nb_input_watch_stop(quiet), 0);
    ck_assert_int_eq(callbacks, 0);

    nb_input_watch *w = nb_input_watch_start(p[0], count_callback, NULL);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    for (int i = 0; i < 100 && callbacks == 0; i++)
        usleep(10000);
    ck_assert_int_eq(nb_input_watch_stop(w), 1);
    ck_assert_int_eq(callbacks, 1);
    ck_assert_int_eq(nb_input_watch_stop(NULL), 0);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(watch_fires_when_the_port_closes)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    callbacks = 0;
    nb_input_watch *w = nb_input_watch_start(p[0], count_callback, NULL);
    close(p[1]);
    for (int i = 0; i < 100 && callbacks == 0; i++)
        usleep(10000);
    ck_assert_int_eq(nb_input_watch_stop(w), 1);
    ck_assert_int_eq(callbacks, 1);
    close(p[0]);
}
END_TEST

START_TEST(manifest_host_paths_must_be_absolute)
{
    char out[64];
    ck_assert(nb_manifest_host_path("/etc/x.json", "/usr/lib/nesbridge/nesbridge-host", out, sizeof(out)));
    ck_assert_str_eq(out, "/usr/lib/nesbridge/nesbridge-host");
    ck_assert(!nb_manifest_host_path("/etc/x.json", "nesbridge-host", out, sizeof(out)));
    ck_assert(!nb_manifest_host_path("/etc/x.json", "", out, sizeof(out)));
    char tiny[8];
    ck_assert(!nb_manifest_host_path("/etc/x.json", "/usr/lib/nesbridge/nesbridge-host", tiny, sizeof(tiny)));
}
END_TEST

START_TEST(only_owner_writable_files_are_trusted)
{
    struct stat st = {.st_mode = S_IFREG | 0644};
    ck_assert(nb_owner_only_writable("/etc/x", &st));
    st.st_mode = S_IFREG | 0664;
    ck_assert(!nb_owner_only_writable("/etc/x", &st));
    st.st_mode = S_IFDIR | 0757;
    ck_assert(!nb_owner_only_writable("/etc/x", &st));
    ck_assert_str_eq(nb_system_config_path(), "/etc/nesbridge/nesbridge.conf");
    ck_assert_str_eq(nb_system_trust_dir(), "/etc/nesbridge/trust.d");
}
END_TEST

START_TEST(timegm_normalises_like_mktime)
{
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 1, .tm_mday = 31, .tm_hour = 12};
    time_t t = nb_timegm(&tm);
    ck_assert_int_eq((long long)t, 1772539200LL); /* 2026-03-03T12:00:00Z */
    ck_assert_int_eq(tm.tm_mon, 2);
    ck_assert_int_eq(tm.tm_mday, 3);
}
END_TEST

START_TEST(alloc_size_covers_the_request)
{
    char *p = malloc(100);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(nb_alloc_size(p), 100);
    free(p);
}
END_TEST

START_TEST(self_path_names_this_program)
{
    char self[4096];
    nb_self_path(self, sizeof(self));
    ck_assert_ptr_nonnull(strstr(self, "check_platform"));
    ck_assert(nb_is_executable(self));
    ck_assert(!nb_is_executable("/nonexistent/program"));
    char tiny[4];
    nb_self_path(tiny, sizeof(tiny));
    ck_assert_uint_lt(strlen(tiny), sizeof(tiny));
}
END_TEST

static Suite *platform_suite(void)
{
    Suite *s = suite_create("platform");
    TCase *tc = tcase_create("posix");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, readiness_follows_the_pipe);
    tcase_add_test(tc, watch_fires_on_input_and_only_then);
    tcase_add_test(tc, watch_fires_when_the_port_closes);
    tcase_add_test(tc, manifest_host_paths_must_be_absolute);
    tcase_add_test(tc, only_owner_writable_files_are_trusted);
    tcase_add_test(tc, timegm_normalises_like_mktime);
    tcase_add_test(tc, alloc_size_covers_the_request);
    tcase_add_test(tc, self_path_names_this_program);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(platform_suite)
