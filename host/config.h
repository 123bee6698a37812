/* SPDX-License-Identifier: Apache-2.0 */
/* The host's configuration file: settings a page can never touch.
 * Format: one "key = value" per line, '#' starts a comment. */
#ifndef NB_CONFIG_H
#define NB_CONFIG_H

#include <stddef.h>

#include "platform.h"

#define NB_CONFIG_ENV "NESBRIDGE_CONFIG"
#define NB_MAX_EXTRA_ORIGINS 16
#define NB_CONFIG_MAX_LINE 1024
#define NB_CARD_TIMEOUT_MS_MIN 1000u
#define NB_CARD_TIMEOUT_MS_MAX 600000u

typedef struct {
    char *extra_origins[NB_MAX_EXTRA_ORIGINS]; /* allow_origin = ... */
    size_t extra_origin_count;
    char *trust_dir;  /* trust_dir = ... (signed scripts) */
    char *log_level;  /* log_level = off|error|info|debug */
    char *log_file;   /* log_file = /path */
    unsigned card_timeout_ms; /* card_timeout_ms = N (1000-600000); 0: default */
} nb_config;

/* Path of the file to read: $NESBRIDGE_CONFIG, else the system one
 * (nb_system_config_path). */
const char *nb_config_path(void);

/* Loads path into cfg (zeroed first). A missing file, or an empty path
 * (the system one when the host cannot find its own folder), leaves the defaults
 * and succeeds. Returns 0, or -1 with a message in err: a file refused
 * under the rule of platform.h (another owner, writable by others, a
 * directory above it owned or writable by others, a symbolic link,
 * unreadable), an unknown key, a bad value. */
int nb_config_load(nb_config *cfg, const char *path, char *err, size_t err_len);

/* The same; why says whether the file itself was refused under the rule
 * of platform.h (nb_anchor_open_file: owned by root or this user, it and
 * every directory above it writable by no one else, not a symbolic link),
 * and which file or directory failed it. NB_ANCHOR_OK when the file was
 * read (or missing), even if its contents were bad. */
int nb_config_load_why(nb_config *cfg, const char *path, char *err, size_t err_len, nb_anchor_why *why);

void nb_config_free(nb_config *cfg);

/* The i-th key the file may hold; NULL past the last. */
const char *nb_config_key(size_t i);

#endif
