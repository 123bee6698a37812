/* What differs between Unix and Windows, behind one small interface:
 * platform_posix.c and platform_win.c. Everything else in the host is
 * the same code on both. */
#ifndef NB_PLATFORM_H
#define NB_PLATFORM_H

#include <stddef.h>
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

/* The usable size of a block from malloc, so that all of it can be wiped. */
size_t nb_alloc_size(void *p);

/* Whether a file or directory (path, and st from stat) may serve as a
 * trust anchor or configuration: nobody but its owner may write it. On
 * Unix the mode bits tell (no group or other write). On Windows its DACL
 * must grant write access to no one but the owner, SYSTEM, Administrators
 * and TrustedInstaller (Program Files' own defaults). */
int nb_owner_only_writable(const char *path, const struct stat *st);

/* The system configuration file and trust directory: /etc/nesbridge on
 * Linux, /Library/Application Support/nesbridge on macOS, the folder of
 * nesbridge-host.exe on Windows. */
const char *nb_system_config_path(void);
const char *nb_system_trust_dir(void);

#endif
