/* Unix (Linux, macOS) side of platform.h. */
#include "platform.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    nb_input_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->fd = fd;
    w->on_input = on_input;
    w->arg = arg;
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

const char *nb_system_config_path(void)
{
    return NB_SYSTEM_DIR "/nesbridge.conf";
}

const char *nb_system_trust_dir(void)
{
    return NB_SYSTEM_DIR "/trust.d";
}
