/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "card.h"
#include "control.h"
#include "hex.h"
#include "wipe.h"

static int parse_unsigned(const char *s, unsigned max, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int copy_digits(const char *s, size_t min, size_t max, char *out)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    memcpy(out, s, n + 1);
    return 0;
}

int nb_state_load(const char *path, nb_card_state *st)
{
    memset(st, 0, sizeof(*st));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[256];
    unsigned seen = 0, flag = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        const char *key = NULL, *value = NULL;
        int kind = nb_ctl_key_value(line, &key, &value);
        if (kind <= 0) {
            rc = kind;
            continue;
        }
        if (strcmp(key, "serial") == 0 && strlen(value) >= 1 && strlen(value) <= NB_SERIAL_MAX) {
            memcpy(st->serial, value, strlen(value) + 1);
            seen |= 1;
        } else if (strcmp(key, "pin") == 0) {
            rc = copy_digits(value, NB_PIN_MIN, NB_PIN_MAX, st->pin);
            seen |= 2;
        } else if (strcmp(key, "pin_tries") == 0) {
            rc = parse_unsigned(value, NB_PIN_TRIES, &st->pin_tries);
            seen |= 4;
        } else if (strcmp(key, "puk") == 0) {
            rc = copy_digits(value, NB_PUK_LEN, NB_PUK_LEN, st->puk);
            seen |= 8;
        } else if (strcmp(key, "puk_tries") == 0) {
            rc = parse_unsigned(value, NB_PUK_TRIES, &st->puk_tries);
            seen |= 16;
        } else if (strcmp(key, "new_pin_required") == 0) {
            /* Older state files: the new-PIN permission is no longer saved
             * (it lives only within one power-on session). */
            rc = parse_unsigned(value, 1, &flag);
        } else if (strcmp(key, "admin_key") == 0) {
            rc = nb_hex_decode(value, strlen(value), st->admin_key, NB_KEY_LEN) == NB_KEY_LEN ? 0 : -1;
            seen |= 32;
        } else {
            rc = -1;
        }
    }
    nb_wipe(line, sizeof(line));
    fclose(f);
    if (rc != 0 || seen != 63) {
        nb_wipe(st, sizeof(*st));
        return -1;
    }
    return 0;
}

int nb_state_save(const char *path, const nb_card_state *st)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    char key_hex[2 * NB_KEY_LEN + 1];
    nb_hex_encode(st->admin_key, NB_KEY_LEN, key_hex);
    char text[512];
    int n = snprintf(text, sizeof(text),
                     "# nesbridge virtual NES card (test card: secrets in clear)\n"
                     "serial=%s\npin=%s\npin_tries=%u\npuk=%s\npuk_tries=%u\n"
                     "admin_key=%s\n",
                     st->serial, st->pin, st->pin_tries, st->puk, st->puk_tries, key_hex);
    nb_wipe(key_hex, sizeof(key_hex));
    int rc = -1;
    if (n > 0 && (size_t)n < sizeof(text) && write(fd, text, (size_t)n) == n && fsync(fd) == 0)
        rc = 0;
    nb_wipe(text, sizeof(text));
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int nb_state_open(const char *path, const char *serial, const char *master_hex, const char *init,
                  nb_card_state *st, const char **why)
{
    uint8_t master[NB_KEY_LEN];
    if (nb_hex_decode(master_hex, strlen(master_hex), master, sizeof(master)) != NB_KEY_LEN) {
        *why = "the master key must be 32 hex digits";
        return -1;
    }
    int rc = 0;
    if (init != NULL || nb_state_load(path, st) != 0) {
        if (init == NULL && access(path, F_OK) == 0) {
            *why = "the state file is damaged; use --init to recreate it";
            rc = -1;
        } else if (nb_card_state_init(st, serial, master, init != NULL ? init : "fresh") != 0 ||
                   nb_state_save(path, st) != 0) {
            *why = "cannot create the state (serial A-Z/0-9, init fresh|pin-locked|puk-locked)";
            rc = -1;
        }
    }
    nb_wipe(master, sizeof(master));
    return rc;
}

int nb_state_reinit(const char *path, nb_card_state *st, const char *how)
{
    uint8_t master[NB_KEY_LEN];
    nb_hex_decode(NB_DEMO_MASTER_KEY, strlen(NB_DEMO_MASTER_KEY), master, sizeof(master));
    nb_card_state fresh;
    int rc = nb_card_state_init(&fresh, st->serial, master, how) == 0 && nb_state_save(path, &fresh) == 0
                 ? 0
                 : -1;
    if (rc == 0)
        *st = fresh;
    nb_wipe(&fresh, sizeof(fresh));
    nb_wipe(master, sizeof(master));
    return rc;
}
