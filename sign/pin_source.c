/* SPDX-License-Identifier: Apache-2.0 */
#include "pin_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wipe.h"

/* Copies a PIN without its one line end (LF or CR LF); refuses an empty
 * or long one, and one with another line end or a NUL in it: a file of
 * several lines is not a PIN. The message never shows the PIN. */
static long take(const char *text, size_t n, char *pin, const char *where)
{
    if (n > 0 && text[n - 1] == '\n') {
        n--;
        if (n > 0 && text[n - 1] == '\r')
            n--;
    }
    if (n == 0 || n > NB_PIN_MAX || memchr(text, '\0', n) != NULL || memchr(text, '\n', n) != NULL ||
        memchr(text, '\r', n) != NULL) {
        fprintf(stderr,
                "nesbridge-sign: the PIN in %s is empty, longer than %d bytes, or not one line (a line break or "
                "NUL inside it)\n",
                where, NB_PIN_MAX);
        return -1;
    }
    memcpy(pin, text, n);
    pin[n] = '\0';
    return (long)n;
}

/* Why a PIN file's owner and mode are refused, or NULL: owned by this
 * user or root; nobody else may write it; others may not read it; its
 * group may read it only when root owns it (a group of signing services
 * an administrator set up). */
static const char *refuse_file(const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return "is not a regular file";
    if (st->st_uid != geteuid() && st->st_uid != 0)
        return "belongs to another user";
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return "can be written by its group or others (chmod go-w)";
    if ((st->st_mode & S_IRWXO) != 0)
        return "can be read by others (chmod o-rwx)";
    if ((st->st_mode & S_IXGRP) != 0 || ((st->st_mode & S_IRGRP) != 0 && st->st_uid != 0))
        return "can be read by its group and is not owned by root (chmod g-rwx)";
    if (st->st_size > NB_PIN_MAX + 2)
        return "is too long for a PIN";
    return NULL;
}

static long from_file(const char *source, char *pin)
{
    const char *path = strncmp(source, "file:", 5) == 0 ? source + 5 : source;
    if (strncmp(path, "//", 2) == 0)
        path += 2; /* file:///abs: an empty host */
    if (path[0] != '/') {
        fprintf(stderr, "nesbridge-sign: pin-source must be file:/absolute/path (nothing else is read)\n");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        fprintf(stderr, "nesbridge-sign: cannot open the PIN file %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = fstat(fd, &st) != 0 ? "cannot be examined" : refuse_file(&st);
    if (why != NULL) {
        close(fd);
        fprintf(stderr, "nesbridge-sign: the PIN file %s %s\n", path, why);
        return -1;
    }
    char buf[NB_PIN_MAX + 3];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    long len = n < 0 ? -1 : take(buf, (size_t)n, pin, "the PIN file");
    nb_wipe(buf, sizeof(buf));
    return len;
}

long nb_pin_read(const char *pin_source, const char *env_name, char *pin)
{
    if (pin_source != NULL)
        return from_file(pin_source, pin);
    char *value = getenv(env_name);
    if (value == NULL)
        return 0;
    size_t n = strlen(value);
    long len = take(value, n, pin, env_name);
    nb_wipe(value, n); /* what /proc/PID/environ would still show */
    unsetenv(env_name);
    return len;
}
