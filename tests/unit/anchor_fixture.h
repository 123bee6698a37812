/* SPDX-License-Identifier: Apache-2.0 */
/* A scratch directory for tests of the trust-anchor rule (platform.h):
 * one whose every ancestor is owned by root or this user and writable by
 * no one else, so that what a test makes loose is the only loose thing.
 * Tried in order: beside the test program (the build tree), then $HOME.
 * When neither qualifies (a checkout under a group-writable directory
 * that is not sticky), the tests that need one say so and pass without
 * running: the rule itself would rightly refuse every fixture there. A
 * checkout under /tmp qualifies: /tmp is sticky. */
#ifndef NB_ANCHOR_FIXTURE_H
#define NB_ANCHOR_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform.h"

/* Makes "<base>/<prefix>-XXXXXX" (mode 0755) in a qualifying base; fills
 * out and returns 1, or returns 0 with a message on stderr. */
static int anchor_scratch(const char *prefix, char *out, size_t size)
{
    char self[4096];
    nb_self_path(self, sizeof(self));
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    const char *home = getenv("HOME");
    const char *bases[] = {slash != NULL ? self : NULL, home};
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        if (bases[i] == NULL || bases[i][0] != '/')
            continue;
        if ((size_t)snprintf(out, size, "%s/%s-XXXXXX", bases[i], prefix) >= size || mkdtemp(out) == NULL)
            continue;
        chmod(out, 0755);
        nb_anchor_why why;
        nb_anchor_dir *d = nb_anchor_dir_open(out, &why);
        if (d != NULL) {
            nb_anchor_dir_close(d);
            return 1;
        }
        fprintf(stderr, "note: %s cannot hold trust fixtures: %s (%s)\n", out, nb_anchor_problem_text(why.problem),
                why.where);
        rmdir(out);
    }
    fprintf(stderr, "note: no directory whose ancestors only root or this user may write; test not run\n");
    return 0;
}

/* Removes a scratch tree (files, links and directories, any depth),
 * never following a link. */
static void anchor_remove(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[4096];
            if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, e->d_name) < sizeof(child))
                anchor_remove(child);
        }
        if (d != NULL)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

#endif
