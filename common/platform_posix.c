/* SPDX-License-Identifier: Apache-2.0 */
/* Unix (Linux, macOS) side of platform.h. */
#include "platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifndef __APPLE__
#include <sys/random.h>
#endif

#if defined(__linux__)
#include <malloc.h>
#elif defined(__APPLE__)
#include <mach-o/dyld.h>
#include <malloc/malloc.h>
#endif

#if defined(__APPLE__)
#define NB_SYSTEM_DIR "/Library/Application Support/nesbridge"
#else
#define NB_SYSTEM_DIR "/etc/nesbridge"
#endif

time_t nb_timegm(struct tm *tm)
{
    return timegm(tm);
}

void nb_platform_prepare_stdio(void)
{
    signal(SIGPIPE, SIG_IGN);
}

void nb_platform_prepare_console(void)
{
}

int nb_input_ready(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

int nb_input_hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p.revents & POLLIN);
}

struct nb_input_watch {
    int fd;
    int stop_pipe[2]; /* written to end the thread */
    pthread_t thread;
    void (*on_input)(void *arg);
    void *arg;
    volatile int fired;
};

static void *watch_main(void *arg)
{
    nb_input_watch *w = arg;
    struct pollfd fds[2] = {
        {.fd = w->fd, .events = POLLIN},
        {.fd = w->stop_pipe[0], .events = POLLIN},
    };
    for (;;) {
        int n = poll(fds, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (fds[1].revents & POLLIN))
            return NULL;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            w->fired = 1;
            w->on_input(w->arg);
            return NULL;
        }
    }
}

nb_input_watch *nb_input_watch_start(int fd, void (*on_input)(void *arg), void *arg)
{
    nb_input_watch *w = malloc(sizeof(*w));
    if (w == NULL)
        return NULL;
    *w = (nb_input_watch){.fd = fd, .on_input = on_input, .arg = arg};
    if (pipe(w->stop_pipe) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
        free(w);
        return NULL;
    }
    return w;
}

int nb_input_watch_stop(nb_input_watch *w)
{
    if (w == NULL)
        return 0;
    ssize_t ignored = write(w->stop_pipe[1], "x", 1);
    (void)ignored;
    pthread_join(w->thread, NULL);
    close(w->stop_pipe[0]);
    close(w->stop_pipe[1]);
    int fired = w->fired;
    free(w);
    return fired;
}

void nb_self_path(char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
#if defined(__linux__)
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
#elif defined(__APPLE__)
    uint32_t n = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    if (_NSGetExecutablePath(buf, &n) != 0)
        buf[0] = '\0';
#endif
}

int nb_manifest_host_path(const char *manifest_file, const char *path, char *out, size_t size)
{
    (void)manifest_file;
    return path[0] == '/' && (size_t)snprintf(out, size, "%s", path) < size;
}

int nb_is_executable(const char *path)
{
    return access(path, X_OK) == 0;
}

int nb_random_bytes(void *buf, size_t len)
{
#ifdef __APPLE__
    for (size_t done = 0; done < len; done += 256)
        if (getentropy((uint8_t *)buf + done, len - done < 256 ? len - done : 256) != 0)
            return -1;
    return 0;
#else
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom((uint8_t *)buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
#endif
}

size_t nb_alloc_size(void *p)
{
#if defined(__APPLE__)
    return malloc_size(p);
#else
    return malloc_usable_size(p);
#endif
}

int nb_owner_only_writable(const char *path, const struct stat *st)
{
    (void)path;
    return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* ---- Trust anchors and configuration (see platform.h) ----
 *
 * The rule, exactly:
 * 1. The path as given (made absolute with the current directory) is
 *    looked at prefix by prefix with lstat: each directory on it must be
 *    owned by root or the effective user and have no group or other write
 *    bit unless it is sticky (like /tmp: there nobody else can rename or
 *    remove the entries of root or this user); a symbolic link on
 *    it must be owned by root or the effective user (only the owner of the
 *    directory holding it, checked already, could replace it).
 * 2. The parent directory is resolved with realpath, and walked again
 *    from "/" one component at a time with openat(O_NOFOLLOW|O_DIRECTORY):
 *    each directory opened is held to the same rule with fstat, so the
 *    chain checked is the chain used, whatever changes meanwhile.
 * 3. The last component is opened with openat(parent, O_NOFOLLOW) (a
 *    symbolic link is refused) and checked with fstat on what was opened:
 *    its type, owner root or the effective user, no group or other write.
 * Entries of a trust directory are opened with openat on the directory's
 * descriptor under rule 3. */

#ifdef O_PATH
#define NB_WALK_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define NB_WALK_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

static int owner_ok(uid_t uid)
{
    return uid == 0 || uid == geteuid();
}

static nb_anchor_problem judge(const struct stat *st, int above)
{
    if (!owner_ok(st->st_uid))
        return above ? NB_ANCHOR_PARENT_OWNER : NB_ANCHOR_OWNER;
    /* A sticky directory above (like /tmp) may be open to all: in it only
     * an entry's owner and the directory's owner may rename or remove the
     * entry, and both are held to root or this user (the entry is judged
     * next). Others can add names of their own, never replace ours. */
    int sticky_above = above && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) != 0;
    if (!sticky_above && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return above ? NB_ANCHOR_PARENT_WRITABLE : NB_ANCHOR_WRITABLE;
    return NB_ANCHOR_OK;
}

/* Rule 1: every prefix of the absolute path as given. */
static nb_anchor_problem check_given_prefixes(const char *abs, nb_anchor_why *why)
{
    char prefix[PATH_MAX];
    size_t len = strlen(abs);
    if (len >= sizeof(prefix))
        return nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, abs, len);
    for (size_t i = 0; i <= len; i++) {
        if (i != len && abs[i] != '/')
            continue;
        size_t plen = i == 0 ? 1 : i; /* "/" first */
        if (i > 0 && abs[i - 1] == '/')
            continue; /* "//" */
        memcpy(prefix, abs, plen);
        prefix[plen] = '\0';
        struct stat st;
        if (lstat(prefix, &st) != 0)
            return nb_anchor_refuse(why, errno == ENOENT ? NB_ANCHOR_MISSING : NB_ANCHOR_UNREADABLE, prefix, plen);
        if (S_ISLNK(st.st_mode)) {
            if (!owner_ok(st.st_uid))
                return nb_anchor_refuse(why, NB_ANCHOR_PARENT_OWNER, prefix, plen);
        } else if (!S_ISDIR(st.st_mode)) {
            return nb_anchor_refuse(why, NB_ANCHOR_MISSING, prefix, plen);
        } else {
            nb_anchor_problem p = judge(&st, 1);
            if (p != NB_ANCHOR_OK)
                return nb_anchor_refuse(why, p, prefix, plen);
        }
    }
    return NB_ANCHOR_OK;
}

/* Rule 2: walks real (absolute, no links) from "/"; returns a descriptor
 * of the last directory, or -1 with why filled. */
static int walk_real_dir(const char *real, nb_anchor_why *why)
{
    int fd = open("/", NB_WALK_FLAGS);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, "/", 1);
        return -1;
    }
    nb_anchor_problem p = judge(&st, 1);
    if (p != NB_ANCHOR_OK) {
        close(fd);
        nb_anchor_refuse(why, p, "/", 1);
        return -1;
    }
    const char *c = real;
    while (*c != '\0') {
        while (*c == '/')
            c++;
        size_t n = strcspn(c, "/");
        if (n == 0)
            break;
        char name[NAME_MAX + 1];
        size_t end = (size_t)(c - real) + n;
        if (n > NAME_MAX) {
            close(fd);
            nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, real, end);
            return -1;
        }
        memcpy(name, c, n);
        name[n] = '\0';
        int next = openat(fd, name, NB_WALK_FLAGS);
        int saved = errno;
        close(fd);
        fd = next;
        if (fd < 0) {
            nb_anchor_refuse(why, saved == ENOENT ? NB_ANCHOR_MISSING : saved == ELOOP || saved == ENOTDIR ? NB_ANCHOR_LINK : NB_ANCHOR_UNREADABLE, real, end);
            return -1;
        }
        if (fstat(fd, &st) != 0 || (p = judge(&st, 1)) != NB_ANCHOR_OK) {
            close(fd);
            nb_anchor_refuse(why, p != NB_ANCHOR_OK ? p : NB_ANCHOR_UNREADABLE, real, end);
            return -1;
        }
        c += n;
    }
    return fd;
}

/* Rule 3: name in dirfd, not followed; want_dir or a regular file. */
static int open_last(int dirfd, const char *name, int want_dir, const char *shown, nb_anchor_why *why)
{
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (want_dir ? O_DIRECTORY : O_NONBLOCK);
    int fd = openat(dirfd, name, flags);
    if (fd < 0) {
        int saved = errno;
        struct stat lst;
        if (fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
            nb_anchor_refuse(why, NB_ANCHOR_LINK, shown, strlen(shown));
        else
            nb_anchor_refuse(why, saved == ENOENT ? NB_ANCHOR_MISSING : saved == ENOTDIR ? NB_ANCHOR_WRONG_TYPE : NB_ANCHOR_UNREADABLE,
                   shown, strlen(shown));
        return -1;
    }
    struct stat st;
    nb_anchor_problem p = NB_ANCHOR_UNREADABLE;
    if (fstat(fd, &st) == 0) {
        p = (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) ? judge(&st, 0) : NB_ANCHOR_WRONG_TYPE;
    }
    if (p != NB_ANCHOR_OK) {
        close(fd);
        nb_anchor_refuse(why, p, shown, strlen(shown));
        return -1;
    }
    if (!want_dir) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    why->problem = NB_ANCHOR_OK;
    why->where[0] = '\0';
    return fd;
}

/* Rules 1 to 3 for path; returns the open descriptor or -1. */
static int anchor_open(const char *path, int want_dir, nb_anchor_why *why)
{
    why->problem = NB_ANCHOR_OK;
    why->where[0] = '\0';
    char abs[PATH_MAX];
    if (path[0] == '/') {
        if ((size_t)snprintf(abs, sizeof(abs), "%s", path) >= sizeof(abs))
            return nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, path, strlen(path)), -1;
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) == NULL ||
            (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs))
            return nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, path, strlen(path)), -1;
    }
    /* The last component and its parent, trailing slashes dropped. */
    size_t len = strlen(abs);
    while (len > 1 && abs[len - 1] == '/')
        abs[--len] = '\0';
    char *slash = strrchr(abs, '/');
    const char *leaf = slash + 1;
    if (leaf[0] == '\0' || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0)
        return nb_anchor_refuse(why, NB_ANCHOR_WRONG_TYPE, abs, len), -1;
    char parent[PATH_MAX];
    size_t plen = slash == abs ? 1 : (size_t)(slash - abs);
    memcpy(parent, abs, plen);
    parent[plen] = '\0';
    if (check_given_prefixes(parent, why) != NB_ANCHOR_OK)
        return -1;
    char real[PATH_MAX];
    if (realpath(parent, real) == NULL)
        return nb_anchor_refuse(why, errno == ENOENT ? NB_ANCHOR_MISSING : NB_ANCHOR_UNREADABLE, parent, plen), -1;
    int dirfd = walk_real_dir(real, why);
    if (dirfd < 0)
        return -1;
    int fd = open_last(dirfd, leaf, want_dir, abs, why);
    close(dirfd);
    return fd;
}

FILE *nb_anchor_open_file(const char *path, nb_anchor_why *why)
{
    int fd = anchor_open(path, 0, why);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, path, strlen(path));
    }
    return f;
}

struct nb_anchor_dir {
    DIR *dir;
    char path[PATH_MAX];
};

nb_anchor_dir *nb_anchor_dir_open(const char *path, nb_anchor_why *why)
{
    int fd = anchor_open(path, 1, why);
    if (fd < 0)
        return NULL;
    nb_anchor_dir *d = calloc(1, sizeof(*d));
    if (d == NULL || (d->dir = fdopendir(fd)) == NULL) {
        free(d);
        close(fd);
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, path, strlen(path));
        return NULL;
    }
    snprintf(d->path, sizeof(d->path), "%s", path);
    return d;
}

const char *nb_anchor_dir_next(nb_anchor_dir *d)
{
    struct dirent *e = readdir(d->dir);
    return e != NULL ? e->d_name : NULL;
}

FILE *nb_anchor_dir_open_file(nb_anchor_dir *d, const char *name, nb_anchor_why *why)
{
    char shown[PATH_MAX + NAME_MAX + 2];
    snprintf(shown, sizeof(shown), "%s/%s", d->path, name);
    if (strchr(name, '/') != NULL) {
        nb_anchor_refuse(why, NB_ANCHOR_WRONG_TYPE, shown, strlen(shown));
        return NULL;
    }
    int fd = open_last(dirfd(d->dir), name, 0, shown, why);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, shown, strlen(shown));
    }
    return f;
}

void nb_anchor_dir_close(nb_anchor_dir *d)
{
    if (d == NULL)
        return;
    closedir(d->dir);
    free(d);
}

FILE *nb_open_log_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "a");
    if (f == NULL)
        close(fd);
    return f;
}

const char *nb_system_config_path(void)
{
    return NB_SYSTEM_DIR "/nesbridge.conf";
}

const char *nb_system_trust_dir(void)
{
    return NB_SYSTEM_DIR "/trust.d";
}
