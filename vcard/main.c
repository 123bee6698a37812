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
#include "control.h"
#include "files.h"
#include "hex.h"
#include "profile.h"
#include "state.h"
#include "vpcd.h"
#include "wipe.h"

#define MAX_CONTROL_CLIENTS 4
#define RECONNECT_MS 50
/* pcscd polls the reader about every 400 ms: a card put back sooner would
 * look to it as if it had never left, so stay out at least this long. */
#define MIN_OUT_MS 600

typedef struct {
    const char *host, *port, *state_path, *control_path;
    nb_vcard card;
    const nb_vcard_profile *profile;
    uint8_t *cert;
    int inserted; /* wanted state */
    int fd;       /* vpcd connection, -1 when out */
    nb_ctl_faults faults;
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
            nb_vpcd_write(v->fd, v->profile->atr, v->profile->atr_len);
            break;
        default:
            break;
        }
        return;
    }
    long wait_ms = 0;
    if (nb_ctl_faults_before(&v->faults, &wait_ms))
        return; /* mute: the reader waits in vain */
    if (wait_ms > 0) {
        struct timespec pause = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    size_t n = nb_vcard_process(&v->card, buf, len, resp, sizeof(resp));
    if (nb_ctl_faults_after(&v->faults)) {
        /* Pulled out after processing, before the answer reaches the host:
         * the worst moment for the host, a fair one for the card. */
        nb_wipe(resp, n);
        pull_card(v);
        return;
    }
    nb_vpcd_write(v->fd, resp, n);
    nb_wipe(resp, n);
}

static void control_command(vcard *v, int fd, char *line)
{
    char reply[NB_CTL_REPLY_MAX];
    nb_ctl_command cmd;
    const char *why = NULL;
    if (nb_ctl_parse(line, &cmd, &why) != 0) {
        snprintf(reply, sizeof(reply), "error %s\n", why);
    } else if (nb_ctl_faults_apply(&v->faults, &cmd, reply, sizeof(reply))) {
        /* mute, remove-after, mute-after, slow */
    } else if (cmd.kind == NB_CTL_REMOVE) {
        pull_card(v);
        snprintf(reply, sizeof(reply), "ok removed\n");
    } else if (cmd.kind == NB_CTL_INSERT) {
        v->inserted = 1;
        snprintf(reply, sizeof(reply), "ok inserting\n");
    } else if (cmd.kind == NB_CTL_STATUS) {
        nb_ctl_status(&v->card, v->inserted, v->fd >= 0, v->faults.apdus, "", reply, sizeof(reply));
    } else if (cmd.kind == NB_CTL_RESET_STATE) {
        /* Another card of the same serial: same reader connection, fresh
         * power-on state. */
        int rc = nb_state_reinit(v->state_path, &v->card.state, cmd.word);
        nb_vcard_power(&v->card);
        snprintf(reply, sizeof(reply), rc == 0 ? "ok state %s\n" : "error bad state %s\n", cmd.word);
    } else if (cmd.kind == NB_CTL_QUIT) {
        stop_requested = 1;
        snprintf(reply, sizeof(reply), "ok quitting\n");
    } else if (cmd.kind == NB_CTL_KEYPAD) {
        snprintf(reply, sizeof(reply), "error this reader has no keypad (the pinpad reader's card listens on pinpad.sock)\n");
    } else {
        snprintf(reply, sizeof(reply), "error unknown command\n");
    }
    nb_wipe(&cmd, sizeof(cmd));
    ssize_t ignored = write(fd, reply, strlen(reply));
    (void)ignored;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: nesbridge-vcard --state FILE [--host H] [--port P] [--control SOCKET]\n"
            "         [--serial S] [--init fresh|pin-locked|puk-locked] [--cert DER]\n"
            "         [--master-key HEX] [--profile P] [--removed]\n"
            "       nesbridge-vcard --control SOCKET --send COMMAND\n"
            "control commands: insert, remove, status, reset-state HOW, mute on|off,\n"
            "         remove-after N (APDUs), mute-after N (APDUs), slow MS, quit;\n"
            "         on the pinpad reader's socket also keypad DIGITS|cancel|timeout\n"
            "profiles (the ATR): %s\n",
            nb_vcard_profile_names());
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
            char line[NB_CTL_LINE_MAX];
            ssize_t got = read(v->clients[i], line, sizeof(line) - 1);
            if (got <= 0) {
                close(v->clients[i]);
                v->clients[i] = -1;
                continue;
            }
            line[got] = '\0';
            control_command(v, v->clients[i], line);
            nb_wipe(line, sizeof(line));
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
    nb_ctl_faults_init(&v.faults);
    for (int i = 0; i < MAX_CONTROL_CLIENTS; i++)
        v.clients[i] = -1;
    const char *serial = "NB0000000001", *init = NULL, *cert_path = NULL;
    const char *master_hex = NB_DEMO_MASTER_KEY, *profile = NULL;
    const char *send_command = NULL;
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'h'},   {"port", required_argument, NULL, 'p'},
        {"state", required_argument, NULL, 's'},  {"control", required_argument, NULL, 'c'},
        {"serial", required_argument, NULL, 'n'}, {"init", required_argument, NULL, 'i'},
        {"cert", required_argument, NULL, 'C'},   {"master-key", required_argument, NULL, 'm'},
        {"removed", no_argument, NULL, 'r'},      {"send", required_argument, NULL, 'S'},
        {"profile", required_argument, NULL, 'P'},
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
        case 'P': profile = optarg; break;
        default: usage(); return 2;
        }
    }
    if (send_command != NULL && v.control_path != NULL && optind == argc)
        return send_control(v.control_path, send_command);
    if (v.state_path == NULL || optind != argc) {
        usage();
        return 2;
    }
    if ((v.profile = nb_vcard_profile_find(profile)) == NULL) {
        fprintf(stderr, "nesbridge-vcard: unknown profile %s (%s)\n", profile, nb_vcard_profile_names());
        return 2;
    }
    const char *why = NULL;
    if (nb_state_open(v.state_path, serial, master_hex, init, &v.card.state, &why) != 0) {
        fprintf(stderr, "nesbridge-vcard: %s: %s\n", v.state_path, why);
        return 1;
    }
    if (cert_path != NULL) {
        v.cert = nb_file_read_cert(cert_path, &v.card.cert_len);
        if (v.cert == NULL) {
            fprintf(stderr, "nesbridge-vcard: cannot read certificate %s (max 16 KiB)\n", cert_path);
            return 1;
        }
        v.card.cert = v.cert;
    }
    v.card.save = save_state;
    v.card.save_arg = (void *)v.state_path;
    nb_vcard_power(&v.card);
    if (v.control_path != NULL && (v.listen_fd = nb_ctl_listen(v.control_path)) < 0) {
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
