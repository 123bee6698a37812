/* SPDX-License-Identifier: Apache-2.0 */
/* make bench: what the host costs, measured side by side on one machine.
 * Prints one JSON object per row on stdout (bench/report.js makes the
 * table and the plot). Needs pcscd + the virtual card (make vcard-up) and
 * NB_BUILD pointing at the build directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "authority.h"
#include "backend.h"
#include "errors.h"
#include "frame.h"
#include "apdu.h"
#include "hex.h"

#define READER "nesbridge Virtual Reader 00 00"
#define ORIGIN "https://kamusm.gov.tr"
#define CALLER "chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/"

typedef struct {
    pid_t pid;
    int in, out;
} proc;

static const char *build;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void start(proc *p, char *const argv[])
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        exit(1);
    p->pid = fork();
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->in = in[1];
    p->out = out[0];
}

static void stop(proc *p)
{
    close(p->in);
    int status;
    waitpid(p->pid, &status, 0);
    close(p->out);
}

/* Sends a request and returns the parsed reply. */
static cJSON *call(proc *p, const char *cmd, const char *args)
{
    static int id = 1;
    char *json = malloc(strlen(args) + 256);
    sprintf(json, "{\"id\":%d,\"cmd\":\"%s\",\"origin\":\"" ORIGIN "\",\"args\":%s}", id++, cmd, args);
    if (nb_frame_write(p->in, json, strlen(json)) != 0) {
        fprintf(stderr, "bench: write failed\n");
        exit(1);
    }
    free(json);
    char *body;
    size_t len;
    uint32_t declared;
    if (nb_frame_read(p->out, &body, &len, &declared) != NB_FRAME_OK) {
        fprintf(stderr, "bench: no reply to %s\n", cmd);
        exit(1);
    }
    cJSON *reply = cJSON_Parse(body);
    free(body);
    if (!cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok"))) {
        char *text = cJSON_PrintUnformatted(reply);
        fprintf(stderr, "bench: %s failed: %s\n", cmd, text);
        exit(1);
    }
    return reply;
}

static const cJSON *result(const cJSON *reply, const char *field)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "result"), field);
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double *v, size_t n, double p)
{
    qsort(v, n, sizeof(double), compare);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void host_argv(char *path, char **argv)
{
    snprintf(path, 4096, "%s/nesbridge-host", build);
    argv[0] = path;
    argv[1] = (char *)CALLER;
    argv[2] = NULL;
}

/* Row 1: exec -> hello reply: nesbridge-host, the floor (a C host that
 * reads one frame and writes one reply), and a Python host, interleaved
 * run by run so that the machine's moods fall on all three alike. */
static void cold_start(int runs)
{
    char host_path[4096], floor_path[4096], *host[3];
    host_argv(host_path, host);
    snprintf(floor_path, sizeof(floor_path), "%s/bench/floor-host", build);
    char *floor_argv[] = {floor_path, NULL};
    char py_path[] = "/usr/bin/python3", script[4096];
    snprintf(script, sizeof(script), "%s/../bench/py_host.py", build);
    char *py[] = {py_path, script, NULL};
    char *const *argvs[3] = {host, floor_argv, py};
    double *t[3];
    for (int w = 0; w < 3; w++)
        t[w] = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < runs; i++) {
        for (int w = 0; w < 3; w++) {
            double t0 = now_ms();
            proc p;
            start(&p, argvs[w]);
            cJSON_Delete(call(&p, "hello", "{\"protocol\":1}"));
            t[w][i] = now_ms() - t0;
            stop(&p);
        }
    }
    double median[3], p95[3];
    for (int w = 0; w < 3; w++) {
        median[w] = percentile(t[w], (size_t)runs, 0.5);
        p95[w] = percentile(t[w], (size_t)runs, 0.95);
        free(t[w]);
    }
    printf("{\"row\":\"cold-start\",\"runs\":%d,\"host_median_ms\":%.3f,\"host_p95_ms\":%.3f,"
           "\"floor_median_ms\":%.3f,\"floor_p95_ms\":%.3f,\"ratio_to_floor\":%.2f,"
           "\"python_median_ms\":%.3f,\"python_p95_ms\":%.3f,\"speedup\":%.1f}\n",
           runs, median[0], p95[0], median[1], p95[1], median[0] / median[1], median[2], p95[2],
           median[2] / median[0]);
}

/* Starts a host, says hello and connects to the virtual card; returns the
 * handle (and the ATR, when atr is not NULL). */
static int start_with_card(proc *p, char *const argv[], char *atr, size_t atr_cap)
{
    start(p, argv);
    cJSON_Delete(call(p, "hello", "{\"protocol\":1}"));
    cJSON *r = call(p, "connect", "{\"reader\":\"" READER "\"}");
    int handle = result(r, "handle")->valueint;
    if (atr != NULL)
        snprintf(atr, atr_cap, "%s", result(r, "atr")->valuestring);
    cJSON_Delete(r);
    return handle;
}

/* The host's CPU time so far (user + system, all its threads), in ns. */
static double cpu_ns(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    double total = 0;
    struct dirent *e;
    while (tasks != NULL && (e = readdir(tasks)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, e->d_name);
        FILE *f = fopen(path, "r");
        double ns = 0;
        if (f != NULL && fscanf(f, "%lf", &ns) == 1)
            total += ns;
        if (f != NULL)
            fclose(f);
    }
    if (tasks != NULL)
        closedir(tasks);
    return total;
}

#define BLOCK 100

/* Row 2: SELECT through the host against its floor: a direct
 * SCardTransmit plus a no-op request through the host (the round trip no
 * relay can avoid). Blocks of each alternate, so that all three see the
 * same machine. Also the host's CPU per APDU. */
static void per_apdu(int n)
{
    static const uint8_t select[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
    const nb_backend *b = nb_pcsc_backend();
    nb_context ctx;
    nb_card card;
    uint32_t proto;
    if (b->establish(b->self, &ctx) != 0 ||
        b->connect(b->self, ctx, READER, NB_SHARE_SHARED, NB_PROTOCOL_T1, &card, &proto) != 0) {
        fprintf(stderr, "bench: no card (make vcard-up)\n");
        exit(1);
    }
    char path[4096], *argv[3];
    host_argv(path, argv);
    proc p;
    int handle = start_with_card(&p, argv, NULL, 0);
    char args[128];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00A4000C023F00\"}", handle);
    uint8_t resp[258];
    for (int i = 0; i < BLOCK; i++) { /* warm up */
        size_t len = sizeof(resp);
        b->transmit(b->self, card, proto, select, sizeof(select), resp, &len);
        cJSON_Delete(call(&p, "transmit", args));
    }
    double direct = 0, via_host = 0, noop = 0, cpu = 0;
    for (int done = 0; done < n; done += BLOCK) {
        double t0 = now_ms();
        for (int i = 0; i < BLOCK; i++) {
            size_t len = sizeof(resp);
            b->transmit(b->self, card, proto, select, sizeof(select), resp, &len);
        }
        double t1 = now_ms(), c0 = cpu_ns(p.pid);
        for (int i = 0; i < BLOCK; i++)
            cJSON_Delete(call(&p, "transmit", args));
        double t2 = now_ms(), c1 = cpu_ns(p.pid);
        for (int i = 0; i < BLOCK; i++)
            cJSON_Delete(call(&p, "cancel", "{}"));
        double t3 = now_ms();
        direct += t1 - t0;
        via_host += t2 - t1;
        noop += t3 - t2;
        cpu += c1 - c0;
    }
    stop(&p);
    b->disconnect(b->self, card, NB_LEAVE_CARD);
    b->release(b->self, ctx);
    direct /= n;
    via_host /= n;
    noop /= n;
    double floor_ms = direct + noop;
    printf("{\"row\":\"per-apdu\",\"n\":%d,\"direct_ms\":%.4f,\"host_ms\":%.4f,\"noop_request_us\":%.1f,"
           "\"floor_ms\":%.4f,\"ratio_to_floor\":%.2f,\"ratio\":%.2f,\"host_cpu_us\":%.1f}\n", n, direct,
           via_host, noop * 1000.0, floor_ms, via_host / floor_ms, via_host / direct, cpu / n / 1000.0);
}

/* Row: system calls per APDU on the host's side, counted by strace
 * attached to it: all of them, and those on the page's pipes (fd 0 and 1),
 * the host's own. Skipped without strace. */
static void syscalls(int n)
{
    if (system("command -v strace >/dev/null 2>&1") != 0) {
        printf("{\"row\":\"syscalls\",\"skipped\":\"no strace\"}\n");
        return;
    }
    char path[4096], *argv[3];
    host_argv(path, argv);
    proc p;
    int handle = start_with_card(&p, argv, NULL, 0);
    char args[128], trace[4200], cmd[8600];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00A4000C023F00\"}", handle);
    for (int i = 0; i < BLOCK; i++)
        cJSON_Delete(call(&p, "transmit", args));
    snprintf(trace, sizeof(trace), "%s/bench/strace.txt", build);
    unlink(trace);
    pid_t tracer = fork();
    if (tracer == 0) {
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", (int)p.pid);
        execlp("strace", "strace", "-f", "-qq", "-o", trace, "-p", pid, (char *)NULL);
        _exit(127);
    }
    usleep(300000); /* strace attaches */
    for (int i = 0; i < n; i++)
        cJSON_Delete(call(&p, "transmit", args));
    kill(tracer, SIGINT);
    waitpid(tracer, NULL, 0);
    stop(&p);
    long total = 0, own = 0;
    FILE *f = fopen(trace, "r");
    char line[1024];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        const char *call_start = strchr(line, ' ');
        if (call_start == NULL || strstr(line, "resumed>") != NULL || strstr(line, "+++") != NULL ||
            strstr(line, "---") != NULL)
            continue;
        total++;
        call_start++;
        if (strncmp(call_start, "read(0,", 7) == 0 || strncmp(call_start, "write(1,", 8) == 0 ||
            strncmp(call_start, "writev(1,", 9) == 0)
            own++;
    }
    if (f != NULL)
        fclose(f);
    snprintf(cmd, sizeof(cmd), "rm -f '%s'", trace);
    if (system(cmd) != 0)
        return;
    printf("{\"row\":\"syscalls\",\"n\":%d,\"per_apdu\":%.2f,\"own_per_apdu\":%.2f}\n", n,
           (double)total / n, (double)own / n);
}

static EVP_PKEY *signing_key;
static char config_path[4200];

/* A trust directory and configuration for the hosts under test. */
static void make_trust(void)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/bench", build);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/trust", dir);
    mkdir(path, 0755);
    signing_key = authority_new_key(0);
    snprintf(path, sizeof(path), "%s/trust/bench.pem", dir);
    authority_write_public(signing_key, path);
    chmod(path, 0644);
    char abs[4096];
    if (realpath(dir, abs) == NULL)
        exit(1);
    snprintf(config_path, sizeof(config_path), "%s/nesbridge.conf", dir);
    FILE *f = fopen(config_path, "w");
    fprintf(f, "trust_dir = %s/trust\n", abs);
    fclose(f);
    chmod(config_path, 0600);
    setenv("NESBRIDGE_CONFIG", config_path, 1);
}

/* Signs steps (a JSON array) for this handle; returns run-script args. */
static char *signed_args(proc *p, int handle, const char *atr, const char *steps)
{
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    cJSON *r = call(p, "get-nonce", args);
    char when[21];
    authority_utc((long)time(NULL) + 300, when);
    size_t cap = strlen(steps) + 512;
    char *json = malloc(cap);
    snprintf(json, cap, "{\"version\":1,\"nonce\":\"%s\",\"atr\":\"%s\",\"not_after\":\"%s\",\"steps\":%s}",
             result(r, "nonce")->valuestring, atr, when, steps);
    cJSON_Delete(r);
    char *script_b64, *sig_b64, key_id[65];
    authority_sign(signing_key, json, 0, &script_b64, &sig_b64, key_id);
    free(json);
    char *out = malloc(strlen(script_b64) + strlen(sig_b64) + 512);
    sprintf(out, "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"", handle, script_b64,
            sig_b64, key_id);
    free(script_b64);
    free(sig_b64);
    return out;
}

static void vcard(const char *command)
{
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-vcard' --control '%s/vcard-run/control.sock' --send '%s' >/dev/null",
             build, build, command);
    if (system(cmd) != 0)
        exit(1);
}

/* Row 3: the whole authority unlock, host side, on a locked card. */
static void full_unlock(int runs)
{
    char path[4096], *argv[3];
    host_argv(path, argv);
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < runs; i++) {
        vcard("reset-state pin-locked");
        proc p;
        char atr[80];
        int handle = start_with_card(&p, argv, atr, sizeof(atr));
        /* What the server needs: nonce and challenge; then its answer. */
        double t0 = now_ms();
        char args[128];
        snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
        cJSON *nonce = call(&p, "get-nonce", args);
        snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"0084000008\"}", handle);
        cJSON *challenge = call(&p, "transmit", args);
        double host_part = now_ms() - t0;
        uint8_t rnd_ic[8];
        nb_hex_decode(result(challenge, "data")->valuestring, 16, rnd_ic, 8);
        char json[2048];
        authority_unlock_script(result(nonce, "nonce")->valuestring, atr, rnd_ic, 120, json, sizeof(json));
        cJSON_Delete(nonce);
        cJSON_Delete(challenge);
        char *script_b64, *sig_b64, key_id[65];
        authority_sign(signing_key, json, 0, &script_b64, &sig_b64, key_id);
        char *run = malloc(strlen(script_b64) + 1024);
        sprintf(run, "{\"handle\":%d,\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\","
                     "\"new_pin\":\"654321\",\"new_pin_confirm\":\"654321\"}", handle, script_b64, sig_b64, key_id);
        t0 = now_ms();
        cJSON *r = call(&p, "run-script", run);
        host_part += now_ms() - t0;
        if (!cJSON_IsTrue(result(r, "completed"))) {
            fprintf(stderr, "bench: unlock did not complete\n");
            exit(1);
        }
        cJSON_Delete(r);
        free(run);
        free(script_b64);
        free(sig_b64);
        stop(&p);
        /* The proof: the new PIN verifies (straight through PC/SC). */
        const nb_backend *b = nb_pcsc_backend();
        nb_context ctx;
        nb_card card;
        uint32_t proto;
        b->establish(b->self, &ctx);
        b->connect(b->self, ctx, READER, NB_SHARE_SHARED, NB_PROTOCOL_T1, &card, &proto);
        uint8_t verify[] = {0x00, 0x20, 0x00, 0x81, 0x08, '6', '5', '4', '3', '2', '1', 0xFF, 0xFF}, resp[8];
        size_t len = sizeof(resp);
        t0 = now_ms();
        b->transmit(b->self, card, proto, verify, sizeof(verify), resp, &len);
        host_part += now_ms() - t0;
        b->disconnect(b->self, card, NB_LEAVE_CARD);
        b->release(b->self, ctx);
        if (len != 2 || resp[0] != 0x90) {
            fprintf(stderr, "bench: the new PIN does not verify\n");
            exit(1);
        }
        t[i] = host_part;
    }
    printf("{\"row\":\"full-unlock\",\"runs\":%d,\"median_ms\":%.3f,\"p95_ms\":%.3f}\n", runs,
           percentile(t, (size_t)runs, 0.5), percentile(t, (size_t)runs, 0.95));
    free(t);
}

/* Row 4: scripts of 1..256 steps; time per step should stay flat. */
static void scaling(void)
{
    char path[4096], *argv[3];
    host_argv(path, argv);
    vcard("reset-state fresh");
    proc p;
    char atr[80];
    int handle = start_with_card(&p, argv, atr, sizeof(atr));
    static const int sizes[] = {1, 4, 16, 64, 256};
    printf("{\"row\":\"scaling\",\"points\":[");
    for (size_t k = 0; k < 5; k++) {
        int n = sizes[k];
        const char *step = "{\"apdu\":\"00A4000C023F00\",\"expect\":[\"9000\"]}";
        char *steps = malloc((size_t)n * (strlen(step) + 1) + 3);
        strcpy(steps, "[");
        for (int i = 0; i < n; i++) {
            strcat(steps, i ? "," : "");
            strcat(steps, step);
        }
        strcat(steps, "]");
        double best = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            char *args = signed_args(&p, handle, atr, steps);
            strcat(args, "}");
            double t0 = now_ms();
            cJSON_Delete(call(&p, "run-script", args));
            double ms = now_ms() - t0;
            best = ms < best ? ms : best;
            free(args);
        }
        printf("%s{\"steps\":%d,\"total_ms\":%.3f,\"per_step_us\":%.1f}", k ? "," : "", n, best,
               best * 1000.0 / n);
        free(steps);
    }
    printf("]}\n");
    stop(&p);
}

static long proc_kib(pid_t pid, const char *file, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, strlen(field)) == 0)
            kib = atol(line + strlen(field));
    if (f != NULL)
        fclose(f);
    return kib;
}

static long peak_rss_kib(pid_t pid, const char *field)
{
    return proc_kib(pid, "status", field);
}

/* Row: RSS and PSS of a host before its first signed script and after it
 * (the script loads libcrypto), and the peak of one that said hello,
 * listed readers and sent 2000 APDUs. */
static void footprint(void)
{
    char path[4096], *argv[3];
    host_argv(path, argv);
    proc p;
    char atr[80];
    int handle = start_with_card(&p, argv, atr, sizeof(atr));
    cJSON_Delete(call(&p, "list-readers", "{}"));
    char transmit[128];
    snprintf(transmit, sizeof(transmit), "{\"handle\":%d,\"apdu\":\"00A4000C023F00\"}", handle);
    for (int i = 0; i < 2000; i++)
        cJSON_Delete(call(&p, "transmit", transmit));
    long peak = peak_rss_kib(p.pid, "VmHWM:");
    long rss_before = proc_kib(p.pid, "smaps_rollup", "Rss:"), pss_before = proc_kib(p.pid, "smaps_rollup", "Pss:");
    char *args = signed_args(&p, handle, atr, "[{\"apdu\":\"00A4000C023F00\",\"expect\":[\"9000\"]}]");
    strcat(args, "}");
    cJSON_Delete(call(&p, "run-script", args));
    free(args);
    long rss_after = proc_kib(p.pid, "smaps_rollup", "Rss:"), pss_after = proc_kib(p.pid, "smaps_rollup", "Pss:");
    stop(&p);
    printf("{\"row\":\"footprint\",\"peak_rss_kib_2000\":%ld,\"rss_kib_before_script\":%ld,"
           "\"pss_kib_before_script\":%ld,\"rss_kib_after_script\":%ld,\"pss_kib_after_script\":%ld}\n",
           peak, rss_before, pss_before, rss_after, pss_after);
}

/* Row 5: peak RSS after 100, 1000 and 10000 requests. */
static void memory(void)
{
    char path[4096], *argv[3];
    host_argv(path, argv);
    proc p;
    int handle = start_with_card(&p, argv, NULL, 0);
    char transmit[128], status[64];
    snprintf(transmit, sizeof(transmit), "{\"handle\":%d,\"apdu\":\"00CA005A00\"}", handle);
    snprintf(status, sizeof(status), "{\"handle\":%d}", handle);
    long after[3];
    int checkpoints[3] = {100, 1000, 10000};
    int done = 0;
    for (int c = 0; c < 3; c++) {
        for (; done < checkpoints[c]; done++) {
            switch (done % 3) {
            case 0: cJSON_Delete(call(&p, "transmit", transmit)); break;
            case 1: cJSON_Delete(call(&p, "list-readers", "{}")); break;
            default: cJSON_Delete(call(&p, "status", status)); break;
            }
        }
        after[c] = peak_rss_kib(p.pid, "VmHWM:");
    }
    long anon = peak_rss_kib(p.pid, "RssAnon:");
    stop(&p);
    printf("{\"row\":\"memory\",\"peak_rss_kib_100\":%ld,\"peak_rss_kib_1000\":%ld,\"peak_rss_kib_10000\":%ld,"
           "\"rss_anon_kib\":%ld}\n", after[0], after[1], after[2], anon);
}

int main(int argc, char **argv)
{
    build = getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    signal(SIGPIPE, SIG_IGN);
    cold_start(runs);
    fflush(stdout);
    per_apdu(2000);
    fflush(stdout);
    syscalls(500);
    fflush(stdout);
    make_trust();
    footprint();
    fflush(stdout);
    full_unlock(20);
    fflush(stdout);
    scaling();
    fflush(stdout);
    memory();
    EVP_PKEY_free(signing_key);
    return 0;
}
