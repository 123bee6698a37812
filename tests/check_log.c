/* Secrets never reach the log: APDU data of secret commands is withheld. */
#include <stdio.h>
#include <string.h>
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
    ck_assert_ptr_nonnull(strstr(text, "00200081 [data withheld] (13 bytes)"));
    ck_assert_ptr_null(strstr(text, "313233343536"));
    ck_assert_ptr_nonnull(strstr(text, "00A4040C025015"));
    ck_assert_ptr_nonnull(strstr(text, "SW 9000"));
    ck_assert_ptr_null(strstr(text, "ABCDEF"));
    unlink(path);
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
    tcase_add_test(tc, off_by_default);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(log_suite)
