/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets never reach the log: APDU data of secret commands is withheld. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static char *read_all(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(secret_apdus_show_header_only)
{
    char path[] = "/tmp/nb-log-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ck_assert_int_eq(nb_log_open("debug", path), 0);
    const uint8_t verify[] = {0x00, 0x20, 0x00, 0x81, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF};
    const uint8_t select[] = {0x00, 0xA4, 0x04, 0x0C, 0x02, 0x50, 0x15};
    const uint8_t secret_resp[] = {0xAB, 0xCD, 0xEF, 0x01, 0x90, 0x00};
    nb_log_apdu("card <", verify, sizeof(verify), 1);
    nb_log_apdu("card <", select, sizeof(select), 0);
    nb_log_response("card >", secret_resp, sizeof(secret_resp), 1);
    nb_log_close();
    const char *text = read_all(path);
    ck_assert_ptr_nonnull(strstr(text, "00200081 [data withheld]\n"));
    ck_assert_ptr_null(strstr(text, "313233343536"));
    ck_assert_ptr_nonnull(strstr(text, "00A4040C025015"));
    ck_assert_ptr_nonnull(strstr(text, "card > [data withheld] SW 9000\n"));
    ck_assert_ptr_null(strstr(text, "ABCDEF"));
    unlink(path);
}
END_TEST

/* The line of a secret command or response is the same whatever its
 * length: a 4-digit and an 8-digit new PIN look alike. */
START_TEST(secret_lengths_never_show)
{
    char path[] = "/tmp/nb-log-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ck_assert_int_eq(nb_log_open("debug", path), 0);
    const uint8_t short_pin[] = {0x00, 0x24, 0x01, 0x81, 0x04, '1', '2', '3', '4'};
    const uint8_t long_pin[] = {0x00, 0x24, 0x01, 0x81, 0x08, '1', '2', '3', '4', '5', '6', '7', '8'};
    const uint8_t short_resp[] = {0x01, 0x90, 0x00};
    const uint8_t long_resp[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x90, 0x00};
    nb_log_apdu("card <", short_pin, sizeof(short_pin), 1);
    nb_log_apdu("card <", long_pin, sizeof(long_pin), 1);
    nb_log_response("card >", short_resp, sizeof(short_resp), 1);
    nb_log_response("card >", long_resp, sizeof(long_resp), 1);
    nb_log_close();
    char *text = read_all(path);
    /* Four lines; without their time stamps, pairwise equal. */
    char *lines[4];
    char *save = NULL;
    for (int i = 0; i < 4; i++) {
        char *line = strtok_r(i == 0 ? text : NULL, "\n", &save);
        ck_assert_ptr_nonnull(line);
        lines[i] = strchr(line, ']');
        ck_assert_ptr_nonnull(lines[i]);
    }
    ck_assert_str_eq(lines[0], lines[1]);
    ck_assert_str_eq(lines[2], lines[3]);
    ck_assert_str_eq(lines[0], "] card < 00240181 [data withheld]");
    ck_assert_str_eq(lines[2], "] card > [data withheld] SW 9000");
    for (int i = 0; i < 4; i++)
        ck_assert_msg(strstr(lines[i], "bytes") == NULL && strstr(lines[i], "(") == NULL, "a length shows: %s", lines[i]);
    unlink(path);
}
END_TEST

/* The log file: created 0600, appended to, never through a symbolic link
 * (refused with a message on stderr; the host then logs to stderr). */
START_TEST(log_file_is_private_and_never_a_link)
{
    char dir[] = "/tmp/nb-logdir-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128], link[128], target[128], errs[128];
    snprintf(path, sizeof(path), "%s/host.log", dir);
    snprintf(link, sizeof(link), "%s/link.log", dir);
    snprintf(target, sizeof(target), "%s/victim", dir);
    snprintf(errs, sizeof(errs), "%s/stderr", dir);
    mode_t old = umask(0);
    ck_assert_int_eq(nb_log_open("info", path), 0);
    umask(old);
    nb_log(NB_LOG_INFO, "one");
    nb_log_close();
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(nb_log_open("info", path), 0);
    nb_log(NB_LOG_INFO, "two");
    nb_log_close();
    const char *text = read_all(path);
    ck_assert_ptr_nonnull(strstr(text, "one"));
    ck_assert_ptr_nonnull(strstr(text, "two"));

    FILE *victim = fopen(target, "w");
    ck_assert_ptr_nonnull(victim);
    fclose(victim);
    ck_assert_int_eq(symlink(target, link), 0);
    fflush(stderr);
    int saved = dup(2);
    int err_fd = open(errs, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(err_fd, 0);
    dup2(err_fd, 2);
    int rc = nb_log_open("info", link);
    nb_log(NB_LOG_INFO, "three");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(err_fd);
    nb_log_close();
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_size, 0); /* nothing written through the link */
    text = read_all(errs);
    ck_assert_ptr_nonnull(strstr(text, "symbolic link"));
    ck_assert_ptr_nonnull(strstr(text, "three")); /* logged to stderr instead */
    unlink(link);
    unlink(target);
    unlink(errs);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(off_by_default)
{
    ck_assert_int_eq(nb_log_open(NULL, NULL), 0);
    ck_assert(!nb_log_enabled(NB_LOG_ERROR));
    ck_assert_int_eq(nb_log_open("info", NULL), 0);
    ck_assert(nb_log_enabled(NB_LOG_INFO));
    ck_assert(!nb_log_enabled(NB_LOG_DEBUG));
    nb_log_close();
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, secret_apdus_show_header_only);
    tcase_add_test(tc, secret_lengths_never_show);
    tcase_add_test(tc, log_file_is_private_and_never_a_link);
    tcase_add_test(tc, off_by_default);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(log_suite)
