/* SPDX-License-Identifier: Apache-2.0 */
/* What differs between Unix and Windows, behind one small interface:
 * platform_posix.c and platform_win.c. Everything else in the host is
 * the same code on both. */
#ifndef NB_PLATFORM_H
#define NB_PLATFORM_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* printf-style checking of our own functions: mingw-w64 with
 * __USE_MINGW_ANSI_STDIO formats like C99 (%zu), which gcc calls gnu_printf
 * there; plain "printf" would mean Microsoft's older rules. */
#if defined(__MINGW32__) && !defined(__clang__)
#define NB_PRINTF_LIKE(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#else
#define NB_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#endif

#ifdef _WIN32
/* A path in UTF-8 (the exe's code page, see its manifest): MAX_PATH (260)
 * characters of up to three bytes each. */
#define NB_WIN_PATH_MAX (3 * 260 + 1)
#endif

/* timegm(): UTC broken-down time to seconds; normalises tm like mktime. */
time_t nb_timegm(struct tm *tm);

/* Before the first frame: stdin/stdout carry binary frames (Windows would
 * otherwise turn \n into \r\n), and a closed pipe gives a write error
 * instead of killing the process (Unix). */
void nb_platform_prepare_stdio(void);

/* Before doctor prints: a Windows console shows UTF-8 (the Turkish
 * messages) only when told to; elsewhere nothing to do. */
void nb_platform_prepare_console(void);

/* Whether reading fd now would not block: data, end of stream or error. */
int nb_input_ready(int fd);

/* Whether the other end closed fd and nothing is left to read. */
int nb_input_hung_up(int fd);

/* A thread that calls on_input(arg) once, when input arrives on fd (or the
 * port closes). nb_input_watch_stop ends it and returns whether on_input
 * was called. Start returns NULL when no thread could be made. */
typedef struct nb_input_watch nb_input_watch;
nb_input_watch *nb_input_watch_start(int fd, void (*on_input)(void *arg), void *arg);
int nb_input_watch_stop(nb_input_watch *watch);

/* The running executable's full path; "" when it cannot be found. */
void nb_self_path(char *buf, size_t size);

/* Whether path names a program this user may run. */
int nb_is_executable(const char *path);

/* The host program a native-messaging manifest names, as the browser finds
 * it: absolute on Unix; on Windows also relative to the manifest's folder.
 * Returns 0 when the path is not acceptable or does not fit. */
int nb_manifest_host_path(const char *manifest_file, const char *path, char *out, size_t size);

/* Fills buf with len bytes from the operating system's CSPRNG (getrandom,
 * BCryptGenRandom). Returns 0, or -1 when it cannot. */
int nb_random_bytes(void *buf, size_t len);

/* The usable size of a block from malloc, so that all of it can be wiped. */
size_t nb_alloc_size(void *p);

/* Whether a file or directory (path, and st from stat) may serve as a
 * trust anchor or configuration: nobody but its owner may write it. On
 * Unix the mode bits tell (no group or other write). On Windows its DACL
 * must grant write access to no one but the owner, SYSTEM, Administrators
 * and TrustedInstaller (Program Files' own defaults). */
int nb_owner_only_writable(const char *path, const struct stat *st);

/* Trust anchors (the authority's key files, their directories) and the
 * configuration file are read only from places nobody else controls: the
 * thing itself and every directory above it must be owned by root or by
 * the user running the host (Windows: that user, SYSTEM, Administrators
 * or TrustedInstaller) and writable by no one else (Unix: no group or
 * other write bit, except on a sticky directory above, like /tmp, where
 * no one else can rename or remove what root or this user owns; Windows:
 * the DACL as above). The last
 * component is never followed if it is a symbolic link (Windows: a
 * reparse point), and what is checked is what was opened (fstat on the
 * descriptor; Windows: the handle), so nothing can be swapped in between. */
typedef enum {
    NB_ANCHOR_OK = 0,
    NB_ANCHOR_MISSING,            /* not there: not a problem in itself */
    NB_ANCHOR_LINK,               /* a symbolic link (reparse point) */
    NB_ANCHOR_WRONG_TYPE,         /* not a regular file / not a directory */
    NB_ANCHOR_OWNER,              /* owned by another user */
    NB_ANCHOR_WRITABLE,           /* others may write it */
    NB_ANCHOR_PARENT_OWNER,       /* a directory above it is owned by another user */
    NB_ANCHOR_PARENT_WRITABLE,    /* others may write a directory above it */
    NB_ANCHOR_UNREADABLE,         /* cannot be opened or examined */
    NB_ANCHOR_BAD_KEY,            /* trust store: not an acceptable key, or too many */
} nb_anchor_problem;

/* What was refused and why: where names the file or the directory above
 * it that failed the rule. */
typedef struct {
    nb_anchor_problem problem;
    char where[4096];
} nb_anchor_why;

/* The problem in English, for the log and stderr. */
const char *nb_anchor_problem_text(nb_anchor_problem problem);

/* Records a refusal (where: len bytes, cut to fit) and returns problem;
 * for the platform sides of the rule. */
nb_anchor_problem nb_anchor_refuse(nb_anchor_why *why, nb_anchor_problem problem, const char *where, size_t len);

/* Opens a trust anchor or configuration file for reading (binary). NULL
 * when it is missing or fails the rule; why says which. */
FILE *nb_anchor_open_file(const char *path, nb_anchor_why *why);

/* A trust directory under the same rule; its entries are opened with
 * nb_anchor_dir_open_file, which holds each to the rule too (a key file
 * is not followed if it is a link, must be regular, owned by root or this
 * user, writable by no one else). */
typedef struct nb_anchor_dir nb_anchor_dir;
nb_anchor_dir *nb_anchor_dir_open(const char *path, nb_anchor_why *why);
/* The next entry's name; NULL at the end. */
const char *nb_anchor_dir_next(nb_anchor_dir *dir);
FILE *nb_anchor_dir_open_file(nb_anchor_dir *dir, const char *name, nb_anchor_why *why);
void nb_anchor_dir_close(nb_anchor_dir *dir);

/* Opens the log file for appending: created with mode 0600 when new,
 * never through a symbolic link (errno ELOOP then) and only a regular
 * file. Returns the stream, or NULL with errno set. */
FILE *nb_open_log_file(const char *path);

/* The system configuration file and trust directory: /etc/nesbridge on
 * Linux, /Library/Application Support/nesbridge on macOS, the folder of
 * nesbridge-host.exe on Windows. */
const char *nb_system_config_path(void);
const char *nb_system_trust_dir(void);

#endif
