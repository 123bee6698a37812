/* SPDX-License-Identifier: Apache-2.0 */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "card.h"
#include "wipe.h"

static int parse_keypad(char *args, nb_keypad_input *k, const char **why)
{
    memset(k, 0, sizeof(*k));
    if (strcmp(args, "cancel") == 0) {
        k->kind = NB_KEYPAD_CANCEL;
        return 0;
    }
    if (strcmp(args, "timeout") == 0) {
        k->kind = NB_KEYPAD_TIMEOUT;
        return 0;
    }
    k->kind = NB_KEYPAD_DIGITS;
    char *save = NULL;
    for (char *word = strtok_r(args, " ", &save); word != NULL; word = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(word);
        if (k->count == NB_KEYPAD_ENTRIES || n > NB_KEYPAD_DIGITS_MAX || strspn(word, "0123456789") != n) {
            *why = "keypad DIGITS [DIGITS [DIGITS]] (0-9, at most 32 each), keypad cancel or keypad timeout";
            nb_wipe(k, sizeof(*k));
            return -1;
        }
        memcpy(k->entry[k->count++], word, n + 1);
    }
    if (k->count == 0) {
        *why = "keypad needs digits, cancel or timeout";
        return -1;
    }
    return 0;
}

static long number_after(const char *text)
{
    return strtol(text, NULL, 10);
}

int nb_ctl_parse(char *line, nb_ctl_command *cmd, const char **why)
{
    memset(cmd, 0, sizeof(*cmd));
    line[strcspn(line, "\r\n")] = '\0';
    static const struct {
        const char *text;
        nb_ctl_kind kind;
    } plain[] = {{"insert", NB_CTL_INSERT}, {"remove", NB_CTL_REMOVE}, {"status", NB_CTL_STATUS},
                 {"quit", NB_CTL_QUIT},     {"mute on", NB_CTL_MUTE},  {"mute off", NB_CTL_MUTE}};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (strcmp(line, plain[i].text) == 0) {
            cmd->kind = plain[i].kind;
            cmd->number = strcmp(line, "mute on") == 0;
            return 0;
        }
    }
    if (strncmp(line, "reset-state ", 12) == 0) {
        cmd->kind = NB_CTL_RESET_STATE;
        cmd->word = line + 12;
    } else if (strncmp(line, "remove-after ", 13) == 0) {
        cmd->kind = NB_CTL_REMOVE_AFTER;
        cmd->number = number_after(line + 13);
    } else if (strncmp(line, "mute-after ", 11) == 0) {
        cmd->kind = NB_CTL_MUTE_AFTER;
        cmd->number = number_after(line + 11);
    } else if (strncmp(line, "slow ", 5) == 0) {
        cmd->kind = NB_CTL_SLOW;
        cmd->number = number_after(line + 5);
    } else if (strncmp(line, "keypad ", 7) == 0) {
        cmd->kind = NB_CTL_KEYPAD;
        return parse_keypad(line + 7, &cmd->keypad, why);
    }
    return 0;
}

void nb_ctl_faults_init(nb_ctl_faults *f)
{
    memset(f, 0, sizeof(*f));
    f->remove_after = -1;
    f->mute_after = -1;
}

int nb_ctl_faults_apply(nb_ctl_faults *f, const nb_ctl_command *cmd, char *reply, size_t cap)
{
    switch (cmd->kind) {
    case NB_CTL_MUTE:
        f->mute = (int)cmd->number;
        snprintf(reply, cap, "ok mute %d\n", f->mute);
        return 1;
    case NB_CTL_REMOVE_AFTER:
        f->remove_after = cmd->number > 0 ? cmd->number : -1;
        snprintf(reply, cap, "ok remove-after %ld\n", f->remove_after);
        return 1;
    case NB_CTL_MUTE_AFTER:
        f->mute_after = cmd->number > 0 ? cmd->number : -1;
        snprintf(reply, cap, "ok mute-after %ld\n", f->mute_after);
        return 1;
    case NB_CTL_SLOW:
        f->slow_ms = cmd->number > 0 && cmd->number <= NB_CTL_SLOW_MAX_MS ? cmd->number : 0;
        snprintf(reply, cap, "ok slow %ld\n", f->slow_ms);
        return 1;
    default:
        return 0;
    }
}

int nb_ctl_faults_before(nb_ctl_faults *f, long *wait_ms)
{
    f->apdus++;
    *wait_ms = 0;
    if (f->mute)
        return 1; /* an unresponsive card: the reader waits in vain */
    if (f->mute_after > 0 && --f->mute_after == 0) {
        f->mute_after = -1;
        f->mute = 1; /* from the next APDU on */
    }
    *wait_ms = f->slow_ms;
    return 0;
}

int nb_ctl_faults_after(nb_ctl_faults *f)
{
    if (f->remove_after > 0 && --f->remove_after == 0) {
        f->remove_after = -1;
        return 1;
    }
    return 0;
}

void nb_ctl_status(const nb_vcard *card, int inserted, int connected, unsigned long apdus,
                   const char *extra, char *reply, size_t cap)
{
    snprintf(reply, cap,
             "ok inserted=%d connected=%d serial=%s pin_tries=%u puk_tries=%u "
             "new_pin_required=%d apdus=%lu%s%s\n",
             inserted, connected, card->state.serial, card->state.pin_tries, card->state.puk_tries,
             card->new_pin_armed, apdus, extra[0] != '\0' ? " " : "", extra);
}

int nb_ctl_listen(const char *path)
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
    /* Only this user may pull the card or type on its keypad. */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || chmod(path, 0600) != 0 ||
        listen(fd, 4) != 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

int nb_ctl_key_value(char *line, const char **key, const char **value)
{
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#')
        return 0;
    char *eq = strchr(line, '=');
    if (eq == NULL)
        return -1;
    *eq = '\0';
    *key = line;
    *value = eq + 1;
    return 1;
}
