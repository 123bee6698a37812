#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

START_TEST(reads_settings)
{
    char path[] = "/tmp/nb-config-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path,
               "# demo\n  allow_origin = http://localhost:8443  \n\nlog_level=debug\n"
               "trust_dir = /etc/nesbridge/trust\n",
               0644);
    nb_config cfg;
    char err[256];
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.extra_origin_count, 1);
    ck_assert_str_eq(cfg.extra_origins[0], "http://localhost:8443");
    ck_assert_str_eq(cfg.log_level, "debug");
    ck_assert_str_eq(cfg.trust_dir, "/etc/nesbridge/trust");
    nb_config_free(&cfg);
    unlink(path);
}
END_TEST

START_TEST(refuses_bad_files)
{
    char path[] = "/tmp/nb-config-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    nb_config cfg;
    char err[256];
    const char *bad[] = {"frobnicate = 1\n", "allow_origin = localhost\n", "log_level = loud\n",
                         "no equals sign\n", "allow_origin = http://a.b/path\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, bad[i], 0600);
        ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), -1);
        ck_assert_uint_eq(cfg.extra_origin_count, 0);
    }
    write_file(path, "allow_origin = http://localhost:1\n", 0666);
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "written by others"));
    unlink(path);
    /* A missing file is the default configuration. */
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.extra_origin_count, 0);
    /* So is no path at all (never a file in the current directory). */
    ck_assert_int_eq(nb_config_load(&cfg, "", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.extra_origin_count, 0);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_settings);
    tcase_add_test(tc, refuses_bad_files);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(config_suite)
