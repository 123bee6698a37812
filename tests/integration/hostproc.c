/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* pipe2 */
#include "hostproc.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

static const char *build_dir(void)
{
    const char *dir = getenv("NB_BUILD");
    return dir != NULL ? dir : "build";
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void host_start(hostproc *h, const char *caller)
{
    int in[2], out[2];
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0); /* no other child inherits them */
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    signal(SIGPIPE, SIG_IGN);
    char path[4096];
    snprintf(path, sizeof(path), "%s/nesbridge-host", build_dir());
    h->pid = fork();
    ck_assert_int_ge(h->pid, 0);
    if (h->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl(path, path, caller, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    h->to_host = in[1];
    h->from_host = out[0];
}

void host_send_raw(hostproc *h, const void *bytes, size_t len)
{
    ck_assert_uint_eq(nb_write_exact(h->to_host, bytes, len), len);
}

void host_send(hostproc *h, const char *json)
{
    uint32_t len = (uint32_t)strlen(json);
    host_send_raw(h, &len, 4);
    host_send_raw(h, json, len);
}

cJSON *host_recv(hostproc *h, int timeout_ms)
{
    struct pollfd p = {.fd = h->from_host, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return NULL;
    char *body;
    size_t len;
    uint32_t declared;
    if (nb_frame_read(h->from_host, &body, &len, &declared) != NB_FRAME_OK)
        return NULL;
    cJSON *reply = cJSON_Parse(body);
    ck_assert_msg(reply != NULL, "reply is not JSON: %s", body);
    free(body);
    return reply;
}

cJSON *host_call(hostproc *h, const char *cmd, const char *args_json)
{
    static int next_id = 1;
    char json[8192];
    snprintf(json, sizeof(json), "{\"id\":%d,\"cmd\":\"%s\",\"origin\":\"" IT_ORIGIN "\",\"args\":%s}",
             next_id, cmd, args_json != NULL ? args_json : "{}");
    host_send(h, json);
    cJSON *reply = host_recv(h, 5000);
    ck_assert_msg(reply != NULL, "no reply to %s", cmd);
    ck_assert_int_eq(cJSON_GetObjectItem(reply, "id")->valueint, next_id);
    next_id++;
    return reply;
}

int host_close(hostproc *h, int timeout_ms)
{
    close(h->to_host);
    double deadline = now_seconds() + timeout_ms / 1000.0;
    int status = 0;
    while (now_seconds() < deadline) {
        pid_t r = waitpid(h->pid, &status, WNOHANG);
        if (r == h->pid) {
            close(h->from_host);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(2000);
    }
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &status, 0);
    close(h->from_host);
    return -1;
}

const char *reply_code(const cJSON *reply)
{
    const cJSON *error = cJSON_GetObjectItem(reply, "error");
    return error != NULL ? cJSON_GetObjectItem(error, "code")->valuestring : "ok";
}

const cJSON *reply_result(const cJSON *reply, const char *field)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "result"), field);
}

const char *vcard_control(const char *command)
{
    static char answer[256];
    char path[4096];
    snprintf(path, sizeof(path), "%s/vcard-run/control.sock", build_dir());
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    ck_assert_uint_lt(strlen(path), sizeof(addr.sun_path));
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0,
                  "no virtual card at %s (make vcard-up)", path);
    char line[256];
    snprintf(line, sizeof(line), "%s\n", command);
    ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    ssize_t n = read(fd, answer, sizeof(answer) - 1);
    close(fd);
    ck_assert_int_gt(n, 0);
    answer[n] = '\0';
    ck_assert_msg(strncmp(answer, "ok", 2) == 0, "vcard %s: %s", command, answer);
    return answer;
}

void vcard_wait_present(int present)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s/tests/pcsc-probe' '" IT_READER "' %d >/dev/null 2>&1",
             build_dir(), present ? 5000 : 200);
    if (present) {
        ck_assert_msg(system(cmd) == 0, "the card did not come back");
        return;
    }
    for (int i = 0; i < 100; i++) {
        if (system(cmd) != 0)
            return;
        usleep(20000);
    }
    ck_abort_msg("the card did not go away");
}
