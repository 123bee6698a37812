/* SPDX-License-Identifier: Apache-2.0 */
/* nesbridge-vcard: a virtual NES card behind pcscd's vpcd reader driver,
 * with a control socket to pull it out and put it back. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apdu.h"
#include "card.h"
#include "hex.h"
#include "state.h"
#include "vpcd.h"
#include "wipe.h"

#define MAX_CONTROL_CLIENTS 4
#define RECONNECT_MS 50
/* pcscd polls the reader about every 400 ms: a card put back sooner would
 * look to it as if it had never left, so stay out at least this long. */
#define MIN_OUT_MS 600
/* Demo-only authority master key (docs/card-profile.md). Never a real key. */
#define DEMO_MASTER_KEY "4E4553425249444745444D4F4B455931"

typedef struct {
    const char *host, *port, *state_path, *control_path;
    nb_vcard card;
    uint8_t *cert;
    int inserted; /* wanted state */
    int fd;       /* vpcd connection, -1 when out */
    int mute;
    long remove_after; /* pull the card after this many more APDUs; -1 off */
    long mute_after;   /* answer this many more APDUs, then go mute; -1 off */
    long slow_ms;      /* wait this long before answering each APDU */
    unsigned long apdus;
    double removed_at; /* monotonic seconds */
    int listen_fd;
    int clients[MAX_CONTROL_CLIENTS];
} vcard;

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int save_state(void *arg, const nb_card_state *st)
{
    return nb_state_save(arg, st);
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pull_card(vcard *v)
{
    if (v->fd >= 0) {
        close(v->fd);
        v->removed_at = monotonic_seconds();
    }
    v->fd = -1;
    v->inserted = 0;
    nb_vcard_power(&v->card);
}

static void handle_frame(vcard *v, const uint8_t *buf, size_t len)
{
    static uint8_t resp[NB_RESPONSE_MAX_BYTES];
    if (len == 1) {
        switch (buf[0]) {
        case NB_VPCD_POWER_OFF:
        case NB_VPCD_POWER_ON:
        case NB_VPCD_RESET:
            nb_vcard_power(&v->card);
            break;
        case NB_VPCD_GET_ATR:
            nb_vpcd_write(v->fd, nb_vcard_atr, nb_vcard_atr_len);
            break;
        default:
            break;
        }
        return;
    }
    v->apdus++;
    if (v->mute)
        return; /* an unresponsive card: the reader waits in vain */
    if (v->mute_after > 0 && --v->mute_after == 0) {
        v->mute_after = -1;
        v->mute = 1; /* from the next APDU on */
    }
    if (v->slow_ms > 0) {
        struct timespec pause = {v->slow_ms / 1000, (v->slow_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    size_t n = nb_vcard_process(&v->card, buf, len, resp, sizeof(resp));
    if (v->remove_after > 0 && --v->remove_after == 0) {
        /* Pulled out after processing, before the answer reaches the host:
         * the worst moment for the host, a fair one for the card. */
        v->remove_after = -1;
        nb_wipe(resp, n);
        pull_card(v);
        return;
    }
    nb_vpcd_write(v->fd, resp, n);
    nb_wipe(resp, n);
}

static int reinit_state(vcard *v, const char *how)
{
    uint8_t master[NB_KEY_LEN];
    nb_hex_decode(DEMO_MASTER_KEY, strlen(DEMO_MASTER_KEY), master, sizeof(master));
    nb_card_state st;
    if (nb_card_state_init(&st, v->card.state.serial, master, how) != 0)
        return -1;
    if (nb_state_save(v->state_path, &st) != 0)
        return -1;
    v->card.state = st;
    nb_wipe(&st, sizeof(st));
    return 0;
}

static void control_command(vcard *v, int fd, char *line)
{
    char reply[256];
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "remove") == 0) {
        pull_card(v);
        snprintf(reply, sizeof(reply), "ok removed\n");
    } else if (strcmp(line, "insert") == 0) {
        v->inserted = 1;
        snprintf(reply, sizeof(reply), "ok inserting\n");
    } else if (strcmp(line, "status") == 0) {
        snprintf(reply, sizeof(reply),
                 "ok inserted=%d connected=%d serial=%s pin_tries=%u puk_tries=%u "
                 "new_pin_required=%d apdus=%lu\n",
                 v->inserted, v->fd >= 0, v->card.state.serial, v->card.state.pin_tries,
                 v->card.state.puk_tries, v->card.new_pin_armed, v->apdus);
    } else if (strncmp(line, "reset-state ", 12) == 0) {
        /* Another card of the same serial: same reader connection, fresh
         * power-on state. */
        int rc = reinit_state(v, line + 12);
        nb_vcard_power(&v->card);
        snprintf(reply, sizeof(reply), rc == 0 ? "ok state %s\n" : "error bad state %s\n",
                 line + 12);
    } else if (strcmp(line, "mute on") == 0 || strcmp(line, "mute off") == 0) {
        v->mute = strcmp(line, "mute on") == 0;
        snprintf(reply, sizeof(reply), "ok mute %d\n", v->mute);
    } else if (strncmp(line, "remove-after ", 13) == 0) {
        long n = strtol(line + 13, NULL, 10);
        v->remove_after = n > 0 ? n : -1;
        snprintf(reply, sizeof(reply), "ok remove-after %ld\n", v->remove_after);
    } else if (strncmp(line, "mute-after ", 11) == 0) {
        long n = strtol(line + 11, NULL, 10);
        v->mute_after = n > 0 ? n : -1;
        snprintf(reply, sizeof(reply), "ok mute-after %ld\n", v->mute_after);
    } else if (strncmp(line, "slow ", 5) == 0) {
        long ms = strtol(line + 5, NULL, 10);
        v->slow_ms = ms > 0 && ms <= 60000 ? ms : 0;
        snprintf(reply, sizeof(reply), "ok slow %ld\n", v->slow_ms);
    } else if (strcmp(line, "quit") == 0) {
        stop_requested = 1;
        snprintf(reply, sizeof(reply), "ok quitting\n");
    } else {
        snprintf(reply, sizeof(reply), "error unknown command\n");
    }
    ssize_t ignored = write(fd, reply, strlen(reply));
    (void)ignored;
}

static int open_control(const char *path)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path))
        return -1;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    mode_t old = umask(0077); /* only this user may pull the card */
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (rc != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(16384);
    size_t n = buf != NULL ? fread(buf, 1, 16384, f) : 0;
    int too_big = fgetc(f) != EOF;
    fclose(f);
    if (buf == NULL || too_big) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: nesbridge-vcard --state FILE [--host H] [--port P] [--control SOCKET]\n"
            "         [--serial S] [--init fresh|pin-locked|puk-locked] [--cert DER]\n"
            "         [--master-key HEX] [--removed]\n"
            "       nesbridge-vcard --control SOCKET --send COMMAND\n"
            "control commands: insert, remove, status, reset-state HOW, mute on|off,\n"
            "         remove-after N (APDUs), mute-after N (APDUs), slow MS, quit\n");
}

/* Client mode: sends one control command, prints the answer. */
static int send_control(const char *path, const char *command)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path))
        return 2;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fprintf(stderr, "nesbridge-vcard: no card emulator listens on %s\n", path);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char line[256];
    snprintf(line, sizeof(line), "%s\n", command);
    ssize_t ignored = write(fd, line, strlen(line));
    (void)ignored;
    ssize_t got = read(fd, line, sizeof(line) - 1);
    close(fd);
    if (got <= 0)
        return 1;
    line[got] = '\0';
    fputs(line, stdout);
    return strncmp(line, "ok", 2) == 0 ? 0 : 1;
}

static void serve(vcard *v)
{
    static uint8_t buf[NB_APDU_MAX_BYTES];
    while (!stop_requested) {
        if (v->inserted && v->fd < 0 &&
            monotonic_seconds() - v->removed_at >= MIN_OUT_MS / 1000.0)
            v->fd = nb_vpcd_connect(v->host, v->port);
        struct pollfd fds[2 + MAX_CONTROL_CLIENTS];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = v->listen_fd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = v->fd, .events = POLLIN};
        for (int i = 0; i < MAX_CONTROL_CLIENTS; i++)
            fds[n++] = (struct pollfd){.fd = v->clients[i], .events = POLLIN};
        int timeout = v->inserted && v->fd < 0 ? RECONNECT_MS : 1000;
        if (poll(fds, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (v->fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            size_t len = 0;
            if (nb_vpcd_read(v->fd, buf, sizeof(buf), &len) != 0) {
                close(v->fd); /* the reader went away: reconnect while inserted */
                v->fd = -1;
                nb_vcard_power(&v->card);
            } else {
                handle_frame(v, buf, len);
            }
        }
        if (fds[0].revents & POLLIN) {
            int c = accept(v->listen_fd, NULL, NULL);
            int placed = 0;
            for (int i = 0; c >= 0 && i < MAX_CONTROL_CLIENTS && !placed; i++)
                if (v->clients[i] < 0) {
                    v->clients[i] = c;
                    placed = 1;
                }
            if (c >= 0 && !placed)
                close(c);
        }
        for (int i = 0; i < MAX_CONTROL_CLIENTS; i++) {
            if (v->clients[i] < 0 || !(fds[2 + i].revents & (POLLIN | POLLHUP)))
                continue;
            char line[128];
            ssize_t got = read(v->clients[i], line, sizeof(line) - 1);
            if (got <= 0) {
                close(v->clients[i]);
                v->clients[i] = -1;
                continue;
            }
            line[got] = '\0';
            control_command(v, v->clients[i], line);
        }
    }
}

int main(int argc, char **argv)
{
    vcard v;
    memset(&v, 0, sizeof(v));
    v.host = "127.0.0.1";
    v.port = "36864";
    v.fd = -1;
    v.listen_fd = -1;
    v.inserted = 1;
    v.remove_after = -1;
    v.mute_after = -1;
    for (int i = 0; i < MAX_CONTROL_CLIENTS; i++)
        v.clients[i] = -1;
    const char *serial = "NB0000000001", *init = NULL, *cert_path = NULL;
    const char *master_hex = DEMO_MASTER_KEY;
    const char *send_command = NULL;
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'h'},   {"port", required_argument, NULL, 'p'},
        {"state", required_argument, NULL, 's'},  {"control", required_argument, NULL, 'c'},
        {"serial", required_argument, NULL, 'n'}, {"init", required_argument, NULL, 'i'},
        {"cert", required_argument, NULL, 'C'},   {"master-key", required_argument, NULL, 'm'},
        {"removed", no_argument, NULL, 'r'},      {"send", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': v.host = optarg; break;
        case 'p': v.port = optarg; break;
        case 's': v.state_path = optarg; break;
        case 'c': v.control_path = optarg; break;
        case 'n': serial = optarg; break;
        case 'i': init = optarg; break;
        case 'C': cert_path = optarg; break;
        case 'm': master_hex = optarg; break;
        case 'r': v.inserted = 0; break;
        case 'S': send_command = optarg; break;
        default: usage(); return 2;
        }
    }
    if (send_command != NULL && v.control_path != NULL && optind == argc)
        return send_control(v.control_path, send_command);
    if (v.state_path == NULL || optind != argc) {
        usage();
        return 2;
    }
    uint8_t master[NB_KEY_LEN];
    if (nb_hex_decode(master_hex, strlen(master_hex), master, sizeof(master)) != NB_KEY_LEN) {
        fprintf(stderr, "nesbridge-vcard: --master-key must be 32 hex digits\n");
        return 2;
    }
    if (init != NULL || nb_state_load(v.state_path, &v.card.state) != 0) {
        if (init == NULL && access(v.state_path, F_OK) == 0) {
            fprintf(stderr, "nesbridge-vcard: %s is damaged; use --init to recreate it\n",
                    v.state_path);
            return 1;
        }
        if (nb_card_state_init(&v.card.state, serial, master, init != NULL ? init : "fresh") != 0 ||
            nb_state_save(v.state_path, &v.card.state) != 0) {
            fprintf(stderr, "nesbridge-vcard: cannot create the state (serial A-Z/0-9, "
                            "--init fresh|pin-locked|puk-locked)\n");
            return 1;
        }
    }
    nb_wipe(master, sizeof(master));
    if (cert_path != NULL) {
        v.cert = read_file(cert_path, &v.card.cert_len);
        if (v.cert == NULL) {
            fprintf(stderr, "nesbridge-vcard: cannot read certificate %s (max 16 KiB)\n", cert_path);
            return 1;
        }
        v.card.cert = v.cert;
    }
    v.card.save = save_state;
    v.card.save_arg = (void *)v.state_path;
    nb_vcard_power(&v.card);
    if (v.control_path != NULL && (v.listen_fd = open_control(v.control_path)) < 0) {
        fprintf(stderr, "nesbridge-vcard: cannot listen on %s\n", v.control_path);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    serve(&v);

    pull_card(&v);
    for (int i = 0; i < MAX_CONTROL_CLIENTS; i++)
        if (v.clients[i] >= 0)
            close(v.clients[i]);
    if (v.listen_fd >= 0) {
        close(v.listen_fd);
        unlink(v.control_path);
    }
    nb_wipe(&v.card.state, sizeof(v.card.state));
    free(v.cert);
    return 0;
}
