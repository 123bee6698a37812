/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hex.h"

static nb_log_level current_level = NB_LOG_OFF;
static FILE *log_stream = NULL; /* NULL: stderr */

int nb_log_open(const char *level_name, const char *file)
{
    current_level = NB_LOG_OFF;
    if (level_name == NULL)
        return 0;
    if (strcmp(level_name, "error") == 0)
        current_level = NB_LOG_ERROR;
    else if (strcmp(level_name, "info") == 0)
        current_level = NB_LOG_INFO;
    else if (strcmp(level_name, "debug") == 0)
        current_level = NB_LOG_DEBUG;
    if (current_level == NB_LOG_OFF || file == NULL)
        return 0;
    log_stream = nb_open_log_file(file);
    if (log_stream == NULL && errno == ELOOP)
        fprintf(stderr, "nesbridge-host: the log file %s is a symbolic link; refused, it is never followed\n", file);
    return log_stream != NULL ? 0 : -1;
}

void nb_log_close(void)
{
    if (log_stream != NULL)
        fclose(log_stream);
    log_stream = NULL;
    current_level = NB_LOG_OFF;
}

int nb_log_enabled(nb_log_level level)
{
    return level != NB_LOG_OFF && level <= current_level;
}

void nb_log(nb_log_level level, const char *fmt, ...)
{
    if (!nb_log_enabled(level))
        return;
    FILE *out = log_stream != NULL ? log_stream : stderr;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    fprintf(out, "nesbridge-host[%ld.%03ld] ", (long)now.tv_sec, now.tv_nsec / 1000000L);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

/* A secret command or response is shown as its header (or status word)
 * and this, whatever its length: the length of a PIN is a secret too. */
#define WITHHELD "[data withheld]"

void nb_log_apdu(const char *what, const uint8_t *bytes, size_t len, int secret)
{
    if (!nb_log_enabled(NB_LOG_DEBUG))
        return;
    char hex[2 * 68 + 1];
    if (secret) {
        nb_hex_encode(bytes, len < 4 ? len : 4, hex);
        nb_log(NB_LOG_DEBUG, "%s %s " WITHHELD, what, hex);
        return;
    }
    /* At most the header plus 64 bytes, so that logs stay readable. */
    size_t shown = len < 68 ? len : 68;
    nb_hex_encode(bytes, shown, hex);
    nb_log(NB_LOG_DEBUG, "%s %s%s (%zu bytes)", what, hex, len > shown ? "..." : "", len);
}

void nb_log_response(const char *what, const uint8_t *bytes, size_t len, int secret)
{
    if (!nb_log_enabled(NB_LOG_DEBUG))
        return;
    if (secret) {
        char sw[5] = "";
        if (len >= 2)
            nb_hex_encode(bytes + len - 2, 2, sw);
        nb_log(NB_LOG_DEBUG, "%s " WITHHELD " SW %s", what, len >= 2 ? sw : "none");
        return;
    }
    nb_log_apdu(what, bytes, len, secret);
}
