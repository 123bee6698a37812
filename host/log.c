#include "log.h"

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
    log_stream = fopen(file, "a");
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

void nb_log_apdu(const char *what, const uint8_t *bytes, size_t len, int secret)
{
    if (!nb_log_enabled(NB_LOG_DEBUG))
        return;
    /* At most the header plus 64 bytes, so that logs stay readable. */
    char hex[2 * 68 + 1];
    size_t shown = secret ? (len < 4 ? len : 4) : (len < 68 ? len : 68);
    nb_hex_encode(bytes, shown, hex);
    nb_log(NB_LOG_DEBUG, "%s %s%s (%zu bytes)", what, hex,
           secret && len > shown ? " [data withheld]" : (len > shown ? "..." : ""), len);
}

void nb_log_response(const char *what, const uint8_t *bytes, size_t len, int secret)
{
    if (!nb_log_enabled(NB_LOG_DEBUG))
        return;
    if (secret && len >= 2) {
        char sw[5];
        nb_hex_encode(bytes + len - 2, 2, sw);
        nb_log(NB_LOG_DEBUG, "%s [data withheld] SW %s (%zu bytes)", what, sw, len);
        return;
    }
    nb_log_apdu(what, bytes, len, secret);
}
