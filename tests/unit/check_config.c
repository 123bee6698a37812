/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anchor_fixture.h"
#include "config.h"
#include "testutil.h"

/* A file path in a scratch directory whose ancestors pass the rule of
 * platform.h (anchor_fixture.h); 0 when there is none (said on stderr). */
static char scratch[4096];

static int scratch_file(char *path, size_t size, const char *name)
{
    if (scratch[0] == '\0' && !anchor_scratch("config", scratch, sizeof(scratch)))
        return 0;
    snprintf(path, size, "%s/%s", scratch, name);
    return 1;
}

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
    char path[4200];
    if (!scratch_file(path, sizeof(path), "reads.conf"))
        return;
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
    char path[4200];
    if (!scratch_file(path, sizeof(path), "bad.conf"))
        return;
    nb_config cfg;
    char err[256];
    /* A # after a value is part of it (docs/protocol.md: comments only at
     * the start of a line), so the origin below is malformed. */
    const char *bad[] = {"frobnicate = 1\n", "allow_origin = localhost\n", "log_level = loud\n",
                         "no equals sign\n", "allow_origin = http://a.b/path\n",
                         "allow_origin = http://localhost:1 # the demo\n", "log_level = debug #\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, bad[i], 0600);
        ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), -1);
        ck_assert_uint_eq(cfg.extra_origin_count, 0);
    }
    /* The longest line: 1022 bytes before the newline; one more and the
     * whole file is ignored. */
    char line[1100];
    memset(line, ' ', sizeof(line));
    memcpy(line, "log_level = debug", 17);
    line[1022] = '\n';
    line[1023] = '\0';
    write_file(path, line, 0600);
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), 0);
    nb_config_free(&cfg);
    line[1022] = ' ';
    line[1023] = '\n';
    line[1024] = '\0';
    write_file(path, line, 0600);
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "line too long"));
    write_file(path, "allow_origin = http://localhost:1\n", 0666);
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "may write it"));
    unlink(path);
    /* A missing file is the default configuration. */
    ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.extra_origin_count, 0);
    /* So is no path at all (never a file in the current directory). */
    ck_assert_int_eq(nb_config_load(&cfg, "", err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.extra_origin_count, 0);
}
END_TEST

/* The configuration is planted no more than a key: a link, a file of
 * another user, or a file below a directory others may write is refused,
 * and the host runs with the defaults. */
START_TEST(a_symlinked_file_is_refused)
{
    char real[4200], link[4200];
    if (!scratch_file(real, sizeof(real), "real.conf") || !scratch_file(link, sizeof(link), "link.conf"))
        return;
    write_file(real, "allow_origin = http://localhost:1\n", 0600);
    ck_assert_int_eq(symlink(real, link), 0);
    nb_config cfg;
    char err[4400];
    nb_anchor_why why;
    ck_assert_int_eq(nb_config_load_why(&cfg, link, err, sizeof(err), &why), -1);
    ck_assert_int_eq(why.problem, NB_ANCHOR_LINK);
    ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
    ck_assert_uint_eq(cfg.extra_origin_count, 0);
    ck_assert_int_eq(nb_config_load(&cfg, real, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.extra_origin_count, 1);
    nb_config_free(&cfg);
    unlink(link);
    unlink(real);
}
END_TEST

START_TEST(a_file_below_a_loose_directory_is_refused)
{
    char dir[4200], path[4300];
    if (!scratch_file(dir, sizeof(dir), "loose"))
        return;
    const mode_t modes[] = {0777, 0757, 0775}; /* sticky ones: check_trust */
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        mkdir(dir, 0700);
        ck_assert_int_eq(chmod(dir, modes[i]), 0);
        snprintf(path, sizeof(path), "%s/nesbridge.conf", dir);
        write_file(path, "allow_origin = http://localhost:1\n", 0600);
        nb_config cfg;
        char err[4400];
        nb_anchor_why why;
        ck_assert_int_eq(nb_config_load_why(&cfg, path, err, sizeof(err), &why), -1);
        ck_assert_int_eq(why.problem, NB_ANCHOR_PARENT_WRITABLE);
        ck_assert_str_eq(why.where, dir);
        ck_assert_ptr_nonnull(strstr(err, "others may write a directory above it"));
        ck_assert_int_eq(chmod(dir, 0755), 0);
        ck_assert_int_eq(nb_config_load(&cfg, path, err, sizeof(err)), 0);
        nb_config_free(&cfg);
        unlink(path);
        rmdir(dir);
    }
}
END_TEST

START_TEST(a_file_of_another_user_is_refused)
{
    char path[4200];
    if (!scratch_file(path, sizeof(path), "theirs.conf"))
        return;
    if (geteuid() != 0) {
        fprintf(stderr, "note: not root, cannot give a file to another user; test not run\n");
        return;
    }
    write_file(path, "allow_origin = http://localhost:1\n", 0644);
    ck_assert_int_eq(chown(path, 65534, 65534), 0);
    nb_config cfg;
    char err[4400];
    nb_anchor_why why;
    ck_assert_int_eq(nb_config_load_why(&cfg, path, err, sizeof(err), &why), -1);
    ck_assert_int_eq(why.problem, NB_ANCHOR_OWNER);
    ck_assert_ptr_nonnull(strstr(err, "owned by another user"));
    unlink(path);
}
END_TEST

static void drop_scratch(void)
{
    if (scratch[0] != '\0')
        anchor_remove(scratch);
    scratch[0] = '\0';
}

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, drop_scratch);
    tcase_add_test(tc, reads_settings);
    tcase_add_test(tc, refuses_bad_files);
    tcase_add_test(tc, a_symlinked_file_is_refused);
    tcase_add_test(tc, a_file_below_a_loose_directory_is_refused);
    tcase_add_test(tc, a_file_of_another_user_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(config_suite)
