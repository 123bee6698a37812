/* SPDX-License-Identifier: Apache-2.0 */
/* The trust store cannot be planted: key files and trust directories count
 * only when they and every directory above them are owned by root or this
 * user and writable by no one else, and never through a symbolic link
 * (platform.h, nb_anchor_*). Tests that need another user (uid 65534)
 * run as root only and say so otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "anchor_fixture.h"
#include "authority.h"
#include "platform.h"
#include "testutil.h"
#include "trust.h"

#define OTHER_UID 65534 /* nobody */

static char base[4096];
static int have_base;
static EVP_PKEY *key;

static void setup(void)
{
    have_base = anchor_scratch("trust", base, sizeof(base));
    key = authority_new_key(0);
}

static void teardown(void)
{
    if (have_base)
        anchor_remove(base);
    EVP_PKEY_free(key);
}

/* base/<rel>, made with mode (a directory). */
static void make_dir(char *out, size_t size, const char *rel, mode_t mode)
{
    snprintf(out, size, "%s/%s", base, rel);
    ck_assert_int_eq(mkdir(out, 0700), 0);
    ck_assert_int_eq(chmod(out, mode), 0);
}

static void make_key(const char *dir, const char *name, mode_t mode)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_int_eq(authority_write_public(key, path), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

typedef struct {
    int count;
    nb_anchor_why last;
    char path[4096];
} refusals;

static void note(void *arg, const char *path, const nb_anchor_why *why)
{
    refusals *r = arg;
    r->count++;
    r->last = *why;
    snprintf(r->path, sizeof(r->path), "%s", path);
}

/* Keys loaded from dir; what was refused in r. */
static size_t load(const char *dir, refusals *r)
{
    memset(r, 0, sizeof(*r));
    const char *dirs[] = {dir};
    nb_trust_store *s = nb_trust_load_reporting(nb_crypto_direct(), dirs, 1, note, r);
    size_t n = nb_trust_count(s);
    nb_trust_free(s);
    return n;
}

static int as_root(void)
{
    if (geteuid() == 0)
        return 1;
    fprintf(stderr, "note: not root, cannot give a file to another user; test not run\n");
    return 0;
}

START_TEST(a_safe_directory_loads)
{
    if (!have_base)
        return;
    char dir[4200];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_key(dir, "a.pem", 0644);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 1);
    ck_assert_int_eq(r.count, 0);
    /* A relative path to it works the same. */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(base), 0);
    ck_assert_uint_eq(load("trust", &r), 1);
    ck_assert_uint_eq(load("./trust/", &r), 1);
    ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(key_file_of_another_user_is_ignored)
{
    if (!have_base || !as_root())
        return;
    char dir[4200], path[4300];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_key(dir, "a.pem", 0644);
    snprintf(path, sizeof(path), "%s/a.pem", dir);
    ck_assert_int_eq(chown(path, OTHER_UID, OTHER_UID), 0);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_OWNER);
    ck_assert_str_eq(r.path, path);
}
END_TEST

START_TEST(trust_dir_of_another_user_is_ignored)
{
    if (!have_base || !as_root())
        return;
    char dir[4200];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_key(dir, "a.pem", 0644);
    ck_assert_int_eq(chown(dir, OTHER_UID, OTHER_UID), 0);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_OWNER);
    ck_assert_str_eq(r.path, dir);
}
END_TEST

START_TEST(a_directory_above_owned_by_another_user_is_refused)
{
    if (!have_base || !as_root())
        return;
    char top[4200], dir[4200];
    make_dir(top, sizeof(top), "theirs", 0755);
    make_dir(dir, sizeof(dir), "theirs/trust", 0755);
    make_key(dir, "a.pem", 0644);
    ck_assert_int_eq(chown(top, OTHER_UID, OTHER_UID), 0);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_PARENT_OWNER);
    ck_assert_str_eq(r.last.where, top);
}
END_TEST

/* World-writable, group-writable, and sticky world-writable (as /tmp):
 * each refuses everything below it, though the key and its directory
 * themselves are fine. */
START_TEST(a_writable_directory_above_is_refused)
{
    if (!have_base)
        return;
    const mode_t modes[] = {0777, 0775, 0757, 0770};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char top[4200], dir[4200], rel[64];
        snprintf(rel, sizeof(rel), "loose%zu", i);
        make_dir(top, sizeof(top), rel, modes[i]);
        snprintf(rel, sizeof(rel), "loose%zu/trust", i);
        make_dir(dir, sizeof(dir), rel, 0755);
        make_key(dir, "a.pem", 0644);
        refusals r;
        ck_assert_msg(load(dir, &r) == 0, "mode %o above was accepted", (unsigned)modes[i]);
        ck_assert_int_eq(r.last.problem, NB_ANCHOR_PARENT_WRITABLE);
        ck_assert_str_eq(r.last.where, top);
        /* Made tight again, it is fine. */
        ck_assert_int_eq(chmod(top, 0755), 0);
        ck_assert_uint_eq(load(dir, &r), 1);
    }
}
END_TEST

/* A sticky directory above, open to all like /tmp, does not refuse what
 * root or this user owns below it: nobody else can rename or remove it
 * there (shown as nobody when run as root). It refuses what another user
 * owns, and a sticky trust directory itself is still refused. */
START_TEST(a_sticky_directory_above_keeps_our_entries_ours)
{
    if (!have_base)
        return;
    char top[4200], dir[4200];
    make_dir(top, sizeof(top), "sticky", 01777);
    make_dir(dir, sizeof(dir), "sticky/trust", 0755);
    make_key(dir, "a.pem", 0644);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 1);
    ck_assert_int_eq(chmod(dir, 01777), 0);
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_WRITABLE);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    if (!as_root())
        return;
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        char moved[4300];
        snprintf(moved, sizeof(moved), "%s/moved", top);
        if (setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0 || access(top, W_OK | X_OK) != 0)
            _exit(2);
        _exit(rename(dir, moved) == 0 || rmdir(dir) == 0 ? 1 : 0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        fprintf(stderr, "note: uid %d cannot reach %s; the swap itself not tried\n", OTHER_UID, top);
    } else {
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody moved our directory out of a sticky one");
    }
    ck_assert_int_eq(chown(dir, OTHER_UID, OTHER_UID), 0);
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_OWNER);
}
END_TEST

START_TEST(writable_key_file_or_directory_is_ignored)
{
    if (!have_base)
        return;
    char dir[4200];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_key(dir, "a.pem", 0664);
    make_key(dir, "b.pem", 0646);
    make_key(dir, "c.pem", 0644);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 1);
    ck_assert_int_eq(r.count, 2);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_WRITABLE);
    ck_assert_int_eq(chmod(dir, 0775), 0);
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_WRITABLE);
}
END_TEST

/* Without libcrypto no key can be read, yet doctor still hears which
 * files break the rule. */
START_TEST(without_libcrypto_refusals_are_still_named)
{
    if (!have_base)
        return;
    char dir[4200];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_key(dir, "a.pem", 0646);
    make_key(dir, "b.pem", 0644);
    refusals r;
    memset(&r, 0, sizeof(r));
    const char *dirs[] = {dir};
    ck_assert_ptr_null(nb_trust_load_reporting(NULL, dirs, 1, note, &r));
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_WRITABLE);
    ck_assert_ptr_nonnull(strstr(r.path, "a.pem"));
}
END_TEST

START_TEST(symlinked_key_file_is_ignored)
{
    if (!have_base)
        return;
    char dir[4200], elsewhere[4200], link[4300], target[4300];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_dir(elsewhere, sizeof(elsewhere), "elsewhere", 0755);
    make_key(elsewhere, "real.pem", 0644);
    snprintf(target, sizeof(target), "%s/real.pem", elsewhere);
    snprintf(link, sizeof(link), "%s/a.pem", dir);
    ck_assert_int_eq(symlink(target, link), 0);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_LINK);
    ck_assert_str_eq(r.path, link);
}
END_TEST

START_TEST(symlinked_trust_dir_is_ignored)
{
    if (!have_base)
        return;
    char real[4200], link[4200];
    make_dir(real, sizeof(real), "real", 0755);
    make_key(real, "a.pem", 0644);
    snprintf(link, sizeof(link), "%s/trust", base);
    ck_assert_int_eq(symlink("real", link), 0);
    refusals r;
    ck_assert_uint_eq(load(link, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_LINK);
    /* With a trailing slash too. */
    char slashed[4300];
    snprintf(slashed, sizeof(slashed), "%s/", link);
    ck_assert_uint_eq(load(slashed, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_LINK);
}
END_TEST

/* A link higher up is followed when it, and where it leads, pass the rule
 * (as macOS's /etc -> private/etc); one that leads below a loose
 * directory is not. */
START_TEST(a_link_above_counts_by_where_it_leads)
{
    if (!have_base)
        return;
    char real[4200], dir[4200], loose[4100], alias[4200], path[4400];
    make_dir(real, sizeof(real), "real", 0755);
    make_dir(dir, sizeof(dir), "real/trust", 0755);
    make_key(dir, "a.pem", 0644);
    snprintf(alias, sizeof(alias), "%s/alias", base);
    ck_assert_int_eq(symlink("real", alias), 0);
    snprintf(path, sizeof(path), "%s/trust", alias);
    refusals r;
    ck_assert_uint_eq(load(path, &r), 1);
    make_dir(loose, sizeof(loose), "loose", 0777);
    make_dir(dir, sizeof(dir), "loose/trust", 0755);
    make_key(dir, "a.pem", 0644);
    snprintf(alias, sizeof(alias), "%s/alias2", base);
    ck_assert_int_eq(symlink("loose", alias), 0);
    snprintf(path, sizeof(path), "%s/trust", alias);
    ck_assert_uint_eq(load(path, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_PARENT_WRITABLE);
    /* A link that leads to a good place but sits in a loose directory:
     * whoever may write there may point it elsewhere. */
    char loose_link[4200];
    snprintf(loose_link, sizeof(loose_link), "%s/alias", loose);
    ck_assert_int_eq(symlink("../real", loose_link), 0);
    snprintf(path, sizeof(path), "%s/trust", loose_link);
    ck_assert_uint_eq(load(path, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_PARENT_WRITABLE);
    ck_assert_str_eq(r.last.where, loose);
}
END_TEST

/* What is checked is what is read: once the directory is open, swapping
 * it for another one (as a user with write access to its parent could,
 * were that allowed) changes nothing that is read. */
START_TEST(a_directory_swapped_after_the_check_is_not_read)
{
    if (!have_base)
        return;
    char dir[4200], old[4200];
    make_dir(dir, sizeof(dir), "trust", 0755);
    make_key(dir, "a.pem", 0644);
    nb_anchor_why why;
    nb_anchor_dir *d = nb_anchor_dir_open(dir, &why);
    ck_assert_ptr_nonnull(d);
    snprintf(old, sizeof(old), "%s/old", base);
    ck_assert_int_eq(rename(dir, old), 0);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    make_key(dir, "planted.pem", 0644);
    int saw_a = 0, saw_planted = 0;
    const char *name;
    while ((name = nb_anchor_dir_next(d)) != NULL) {
        saw_a |= strcmp(name, "a.pem") == 0;
        saw_planted |= strcmp(name, "planted.pem") == 0;
    }
    ck_assert(saw_a && !saw_planted);
    ck_assert_ptr_null(nb_anchor_dir_open_file(d, "planted.pem", &why));
    ck_assert_int_eq(why.problem, NB_ANCHOR_MISSING);
    FILE *f = nb_anchor_dir_open_file(d, "a.pem", &why);
    ck_assert_ptr_nonnull(f);
    fclose(f);
    nb_anchor_dir_close(d);
}
END_TEST

/* The `su nobody` case of issue 14: a trust directory of root's under a
 * world-writable parent; nobody moves it aside and puts a directory with
 * a key of their own in its place. Neither the swapped-in directory nor
 * the one under the loose parent is trusted. */
START_TEST(nobody_cannot_swap_a_directory_under_a_loose_parent)
{
    if (!have_base || !as_root())
        return;
    char parent[4200], dir[4200];
    make_dir(parent, sizeof(parent), "shared", 0777);
    make_dir(dir, sizeof(dir), "shared/trust", 0755);
    make_key(dir, "authority.pem", 0644);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_PARENT_WRITABLE);
    /* nobody's key, in PEM, made before dropping privileges. */
    EVP_PKEY *theirs = authority_new_key(0);
    char pem_path[4300];
    snprintf(pem_path, sizeof(pem_path), "%s/theirs.pem", base);
    ck_assert_int_eq(authority_write_public(theirs, pem_path), 0);
    EVP_PKEY_free(theirs);
    char pem[4096];
    FILE *f = fopen(pem_path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(pem, 1, sizeof(pem), f);
    fclose(f);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        char moved[4300], planted[4300];
        snprintf(moved, sizeof(moved), "%s/moved", parent);
        snprintf(planted, sizeof(planted), "%s/k.pem", dir);
        if (setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0 || access(parent, W_OK | X_OK) != 0)
            _exit(2); /* nobody cannot reach the scratch directory (under $HOME) */
        int ok = rename(dir, moved) == 0 && mkdir(dir, 0755) == 0;
        int fd = ok ? open(planted, O_WRONLY | O_CREAT | O_EXCL, 0644) : -1;
        ok = fd >= 0 && write(fd, pem, n) == (ssize_t)n;
        _exit(ok && close(fd) == 0 ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        fprintf(stderr, "note: uid %d cannot reach %s; the swap itself not tried\n", OTHER_UID, parent);
        return;
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody could not swap the directory");
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_ne(r.count, 0);
}
END_TEST

START_TEST(a_fifo_named_like_a_key_neither_hangs_nor_loads)
{
    if (!have_base)
        return;
    char dir[4200], fifo[4300];
    make_dir(dir, sizeof(dir), "trust", 0755);
    snprintf(fifo, sizeof(fifo), "%s/a.pem", dir);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_WRONG_TYPE);
}
END_TEST

START_TEST(a_file_that_is_no_key_is_reported)
{
    if (!have_base)
        return;
    char dir[4200], path[4300];
    make_dir(dir, sizeof(dir), "trust", 0755);
    snprintf(path, sizeof(path), "%s/a.pem", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a key\n", f);
    fclose(f);
    chmod(path, 0644);
    refusals r;
    ck_assert_uint_eq(load(dir, &r), 0);
    ck_assert_int_eq(r.last.problem, NB_ANCHOR_BAD_KEY);
}
END_TEST

/* The same rule for single files (the configuration): direct checks. */
START_TEST(single_files_follow_the_rule)
{
    if (!have_base)
        return;
    char dir[4200], path[4300], link[4300];
    make_dir(dir, sizeof(dir), "etc", 0755);
    snprintf(path, sizeof(path), "%s/x.conf", dir);
    FILE *w = fopen(path, "w");
    ck_assert_ptr_nonnull(w);
    fclose(w);
    chmod(path, 0600);
    nb_anchor_why why;
    FILE *f = nb_anchor_open_file(path, &why);
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(link, sizeof(link), "%s/y.conf", dir);
    ck_assert_int_eq(symlink("x.conf", link), 0);
    ck_assert_ptr_null(nb_anchor_open_file(link, &why));
    ck_assert_int_eq(why.problem, NB_ANCHOR_LINK);
    ck_assert_ptr_null(nb_anchor_open_file(dir, &why));
    ck_assert_int_eq(why.problem, NB_ANCHOR_WRONG_TYPE);
    snprintf(link, sizeof(link), "%s/none/x.conf", dir);
    ck_assert_ptr_null(nb_anchor_open_file(link, &why));
    ck_assert_int_eq(why.problem, NB_ANCHOR_MISSING);
    ck_assert_ptr_null(nb_anchor_open_file("/tmp", &why));
    ck_assert_int_ne(why.problem, NB_ANCHOR_OK);
}
END_TEST

static Suite *trust_suite(void)
{
    Suite *s = suite_create("trust");
    TCase *tc = tcase_create("anchors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, a_safe_directory_loads);
    tcase_add_test(tc, key_file_of_another_user_is_ignored);
    tcase_add_test(tc, trust_dir_of_another_user_is_ignored);
    tcase_add_test(tc, a_directory_above_owned_by_another_user_is_refused);
    tcase_add_test(tc, a_writable_directory_above_is_refused);
    tcase_add_test(tc, a_sticky_directory_above_keeps_our_entries_ours);
    tcase_add_test(tc, writable_key_file_or_directory_is_ignored);
    tcase_add_test(tc, without_libcrypto_refusals_are_still_named);
    tcase_add_test(tc, symlinked_key_file_is_ignored);
    tcase_add_test(tc, symlinked_trust_dir_is_ignored);
    tcase_add_test(tc, a_link_above_counts_by_where_it_leads);
    tcase_add_test(tc, a_directory_swapped_after_the_check_is_not_read);
    tcase_add_test(tc, nobody_cannot_swap_a_directory_under_a_loose_parent);
    tcase_add_test(tc, a_fifo_named_like_a_key_neither_hangs_nor_loads);
    tcase_add_test(tc, a_file_that_is_no_key_is_reported);
    tcase_add_test(tc, single_files_follow_the_rule);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(trust_suite)
