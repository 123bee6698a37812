/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics, off by default. Secrets never reach this module: callers
 * pass APDUs through nb_log_apdu, which prints only the header of any
 * command whose data is secret. */
#ifndef NB_LOG_H
#define NB_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

typedef enum { NB_LOG_OFF = 0, NB_LOG_ERROR, NB_LOG_INFO, NB_LOG_DEBUG } nb_log_level;

/* level_name: "off", "error", "info", "debug" (NULL or unknown = off).
 * file: path to append to, or NULL for stderr. The file is opened with
 * O_NOFOLLOW|O_CREAT|O_APPEND, mode 0600 when created, and must be a
 * regular file. Returns 0, or -1 when the file cannot be opened (logging
 * then goes to stderr); a symbolic link in its place is refused with a
 * message on stderr. */
int nb_log_open(const char *level_name, const char *file);
void nb_log_close(void);
int nb_log_enabled(nb_log_level level);

void nb_log(nb_log_level level, const char *fmt, ...) NB_PRINTF_LIKE(2, 3);

/* Logs a command or response APDU at debug level. secret: print the
 * header (CLA INS P1 P2) and "[data withheld]" only, never the length. */
void nb_log_apdu(const char *what, const uint8_t *bytes, size_t len, int secret);
/* Logs a response at debug level. secret: print "[data withheld]" and
 * the status word only, never the length. */
void nb_log_response(const char *what, const uint8_t *bytes, size_t len, int secret);

#endif
