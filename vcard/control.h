/* SPDX-License-Identifier: Apache-2.0 */
/* The control language of a virtual card (docs/card-profile.md, "Running
 * it"): one line in, one line out. Both cards speak it: nesbridge-vcard
 * on control.sock and the pinpad reader's card on pinpad.sock; this file
 * parses the lines and keeps the faults a test can ask for (mute, pull
 * after N APDUs, slow), so that both behave alike. */
#ifndef NB_VCARD_CONTROL_H
#define NB_VCARD_CONTROL_H

#include <stddef.h>

#define NB_CTL_LINE_MAX 128
#define NB_CTL_REPLY_MAX 320
#define NB_CTL_SLOW_MAX_MS 60000
/* keypad: up to three entries (current PIN, new PIN, confirmation). */
#define NB_KEYPAD_ENTRIES 3
#define NB_KEYPAD_DIGITS_MAX 32

typedef enum {
    NB_CTL_UNKNOWN,
    NB_CTL_INSERT,
    NB_CTL_REMOVE,
    NB_CTL_STATUS,
    NB_CTL_RESET_STATE, /* word: fresh, pin-locked, puk-locked */
    NB_CTL_MUTE,        /* number: 1 on, 0 off */
    NB_CTL_REMOVE_AFTER,
    NB_CTL_MUTE_AFTER,
    NB_CTL_SLOW,
    NB_CTL_QUIT,
    NB_CTL_KEYPAD,
} nb_ctl_kind;

typedef enum { NB_KEYPAD_DIGITS, NB_KEYPAD_CANCEL, NB_KEYPAD_TIMEOUT } nb_keypad_kind;

/* What the holder does at the keypad: types entries (each repeated for
 * any later prompt: `keypad 1234` answers the new PIN and its
 * confirmation), presses Cancel, or walks away. */
typedef struct {
    nb_keypad_kind kind;
    size_t count;
    char entry[NB_KEYPAD_ENTRIES][NB_KEYPAD_DIGITS_MAX + 1];
} nb_keypad_input;

typedef struct {
    nb_ctl_kind kind;
    long number;
    const char *word; /* into the parsed line */
    nb_keypad_input keypad;
} nb_ctl_command;

/* Parses one line (its end of line is cut off in place). Returns 0, or -1
 * with *why set for a malformed argument; an unknown command is kind
 * NB_CTL_UNKNOWN. */
int nb_ctl_parse(char *line, nb_ctl_command *cmd, const char **why);

/* The faults a test can put on a card. */
typedef struct {
    int mute;          /* stop answering */
    long remove_after; /* pull the card after this many more APDUs; -1 off */
    long mute_after;   /* answer this many more APDUs, then go mute; -1 off */
    long slow_ms;      /* wait this long before answering each APDU */
    unsigned long apdus;
} nb_ctl_faults;

void nb_ctl_faults_init(nb_ctl_faults *f);
/* Applies mute, remove-after, mute-after or slow; writes the reply.
 * Returns 1 when the command was one of those. */
int nb_ctl_faults_apply(nb_ctl_faults *f, const nb_ctl_command *cmd, char *reply, size_t cap);
/* Before an APDU is processed: counts it; returns 1 when the card stays
 * silent (mute), else 0 with *wait_ms the delay to apply first. */
int nb_ctl_faults_before(nb_ctl_faults *f, long *wait_ms);
/* After an APDU was processed: returns 1 when the card is to be pulled
 * now, before its answer leaves. */
int nb_ctl_faults_after(nb_ctl_faults *f);

/* A control socket at path, for this user only (mode 0600, set right
 * after bind: umask is the whole process's, and the pinpad reader's runs
 * inside pcscd), listening; a stale socket file there is replaced.
 * Returns the descriptor, or -1. */
int nb_ctl_listen(const char *path);

/* One line of a key=value file (the card's state, the pinpad reader's
 * configuration), its end of line cut off in place. Returns 0 for a blank
 * or # line, 1 with *key and *value pointing into the line, -1 for a line
 * without =. */
int nb_ctl_key_value(char *line, const char **key, const char **value);

struct nb_vcard_s;
/* The status line both cards answer: "ok inserted=.. connected=..
 * serial=.. pin_tries=.. puk_tries=.. new_pin_required=.. apdus=.."
 * then extra (may be ""), newline. */
void nb_ctl_status(const struct nb_vcard_s *card, int inserted, int connected, unsigned long apdus,
                   const char *extra, char *reply, size_t cap);

#endif
