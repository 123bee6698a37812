/* SPDX-License-Identifier: Apache-2.0 */
/* Windows side of platform.h (built with mingw-w64). The browser starts the
 * host with anonymous pipes on stdin and stdout; Windows has no poll() for
 * pipes, so input is looked for with PeekNamedPipe. */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <malloc.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <bcrypt.h>

#include <aclapi.h>
#include <sddl.h>

#define WATCH_SLICE_MS 20

time_t nb_timegm(struct tm *tm)
{
    return _mkgmtime(tm);
}

void nb_platform_prepare_stdio(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
}

void nb_platform_prepare_console(void)
{
    SetConsoleOutputCP(CP_UTF8);
}

int nb_input_ready(int fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return 1; /* the read will report the error */
    switch (GetFileType(h)) {
    case FILE_TYPE_PIPE: {
        DWORD available = 0;
        if (PeekNamedPipe(h, NULL, 0, NULL, &available, NULL))
            return available > 0;
        /* Broken: the read sees the end. Any other failure (a pipe that
         * cannot be peeked, as wine makes of a Unix pipe) tells nothing:
         * no input is assumed, and waits end by their time slices. */
        return GetLastError() == ERROR_BROKEN_PIPE;
    }
    case FILE_TYPE_CHAR:
        return WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
    default:
        return 1; /* a file never blocks */
    }
}

int nb_input_hung_up(int fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE || GetFileType(h) != FILE_TYPE_PIPE)
        return 0;
    DWORD available = 0;
    return !PeekNamedPipe(h, NULL, 0, NULL, &available, NULL) && GetLastError() == ERROR_BROKEN_PIPE;
}

struct nb_input_watch {
    int fd;
    HANDLE stop;
    HANDLE thread;
    void (*on_input)(void *arg);
    void *arg;
    volatile LONG fired;
};

static unsigned __stdcall watch_main(void *arg)
{
    nb_input_watch *w = arg;
    for (;;) {
        if (nb_input_ready(w->fd)) {
            InterlockedExchange(&w->fired, 1);
            w->on_input(w->arg);
            return 0;
        }
        if (WaitForSingleObject(w->stop, WATCH_SLICE_MS) == WAIT_OBJECT_0)
            return 0;
    }
}

nb_input_watch *nb_input_watch_start(int fd, void (*on_input)(void *arg), void *arg)
{
    nb_input_watch *w = malloc(sizeof(*w));
    if (w == NULL)
        return NULL;
    *w = (nb_input_watch){.fd = fd, .on_input = on_input, .arg = arg};
    w->stop = CreateEventA(NULL, TRUE, FALSE, NULL);
    if (w->stop == NULL) {
        free(w);
        return NULL;
    }
    uintptr_t t = _beginthreadex(NULL, 0, watch_main, w, 0, NULL);
    if (t == 0) {
        CloseHandle(w->stop);
        free(w);
        return NULL;
    }
    w->thread = (HANDLE)t;
    return w;
}

int nb_input_watch_stop(nb_input_watch *w)
{
    if (w == NULL)
        return 0;
    SetEvent(w->stop);
    WaitForSingleObject(w->thread, INFINITE);
    CloseHandle(w->thread);
    CloseHandle(w->stop);
    int fired = InterlockedCompareExchange(&w->fired, 0, 0) != 0;
    free(w);
    return fired;
}

void nb_self_path(char *buf, size_t size)
{
    if (size == 0)
        return;
    DWORD cap = size > MAXDWORD ? MAXDWORD : (DWORD)size;
    DWORD n = GetModuleFileNameA(NULL, buf, cap);
    if (n == 0 || n >= cap)
        buf[0] = '\0';
}

static int is_absolute(const char *path)
{
    /* C:\... or \\server\share\...; "\x" alone depends on the current drive. */
    return (((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) && path[1] == ':' &&
            (path[2] == '\\' || path[2] == '/')) ||
           (path[0] == '\\' && path[1] == '\\');
}

int nb_manifest_host_path(const char *manifest_file, const char *path, char *out, size_t size)
{
    if (path[0] == '\0' || strstr(path, "..") != NULL)
        return 0;
    if (is_absolute(path))
        return (size_t)snprintf(out, size, "%s", path) < size;
    const char *slash = strrchr(manifest_file, '\\');
    if (slash == NULL || path[0] == '\\' || path[0] == '/')
        return 0;
    int dir_len = (int)(slash - manifest_file);
    return (size_t)snprintf(out, size, "%.*s\\%s", dir_len, manifest_file, path) < size;
}

int nb_is_executable(const char *path)
{
    size_t len = strlen(path);
    DWORD attributes = GetFileAttributesA(path);
    return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY) && len > 4 &&
           _stricmp(path + len - 4, ".exe") == 0;
}

int nb_random_bytes(void *buf, size_t len)
{
    /* The system's preferred RNG (BCRYPT_USE_SYSTEM_PREFERRED_RNG = 2). */
    return BCryptGenRandom(NULL, (PUCHAR)buf, (ULONG)len, 0x00000002) == 0 ? 0 : -1;
}

size_t nb_alloc_size(void *p)
{
    return p != NULL ? _msize(p) : 0;
}

/* Rights that let a holder change what a file says, or which files a
 * folder holds, or take it away. */
#define CHANGING_RIGHTS                                                                                   \
    (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | DELETE | GENERIC_WRITE | \
     GENERIC_ALL)
/* On a folder above: rights that let a holder replace, rename or re-ACL
 * what is below it. Adding new entries (which C:\ grants every user) is
 * not among them: it cannot touch an existing name. */
#define REPLACING_RIGHTS (FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | DELETE | GENERIC_ALL)

/* NT SERVICE\TrustedInstaller owns and writes Program Files. */
static int is_trusted_installer(PSID sid)
{
    static const char trusted_installer[] = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
    PSID ti = NULL;
    int is_ti = ConvertStringSidToSidA(trusted_installer, &ti) && EqualSid(sid, ti);
    LocalFree(ti);
    return is_ti;
}

/* The user running the host; NULL when it cannot be found. */
static PSID self_sid(void)
{
    static union {
        TOKEN_USER user;
        BYTE bytes[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
    } buf;
    static int done;
    if (!done) {
        HANDLE token = NULL;
        DWORD len = 0;
        if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
            if (!GetTokenInformation(token, TokenUser, &buf, sizeof(buf), &len))
                buf.user.User.Sid = NULL;
            CloseHandle(token);
        }
        done = 1;
    }
    return buf.user.User.Sid;
}

static int may_change_trust(PSID sid, PSID owner)
{
    return (owner != NULL && EqualSid(sid, owner)) || IsWellKnownSid(sid, WinLocalSystemSid) ||
           IsWellKnownSid(sid, WinBuiltinAdministratorsSid) || is_trusted_installer(sid);
}

/* The owners that count: this user, SYSTEM, Administrators, TrustedInstaller. */
static int owner_ok(PSID owner)
{
    PSID self = self_sid();
    return owner != NULL && ((self != NULL && EqualSid(owner, self)) || IsWellKnownSid(owner, WinLocalSystemSid) ||
                             IsWellKnownSid(owner, WinBuiltinAdministratorsSid) || is_trusted_installer(owner));
}

/* Whether dacl grants any of rights to anyone but owner and the system's
 * own accounts. */
static int dacl_ok(PACL dacl, PSID owner, DWORD rights)
{
    if (dacl == NULL)
        return 0; /* no DACL at all lets everyone do everything */
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACE_HEADER *ace = NULL;
        if (!GetAce(dacl, i, (void **)&ace))
            return 0;
        if (ace->AceFlags & INHERIT_ONLY_ACE)
            continue; /* applies to children only, which are checked themselves */
        if (ace->AceType == ACCESS_DENIED_ACE_TYPE)
            continue; /* only ever takes rights away */
        if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE)
            return 0; /* a kind we do not read: refuse rather than guess */
        ACCESS_ALLOWED_ACE *allowed = (ACCESS_ALLOWED_ACE *)ace;
        if ((allowed->Mask & rights) != 0 && !may_change_trust((PSID)&allowed->SidStart, owner))
            return 0;
    }
    return 1;
}

int nb_owner_only_writable(const char *path, const struct stat *st)
{
    (void)st;
    PSID owner = NULL;
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (GetNamedSecurityInfoA(path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                              &owner, NULL, &dacl, NULL, &sd) != ERROR_SUCCESS)
        return 0;
    int ok = dacl_ok(dacl, owner, CHANGING_RIGHTS);
    LocalFree(sd);
    return ok;
}

/* ---- Trust anchors and configuration (see platform.h) ----
 *
 * The rule on Windows: the full path is taken apart; every folder above
 * the last component, from the drive's root down, is opened (following
 * junctions) and held open without FILE_SHARE_DELETE, so that none can be
 * renamed or removed while the host reads; each must be owned by this
 * user, SYSTEM, Administrators or TrustedInstaller, and its DACL may grant
 * REPLACING_RIGHTS to no one else. The last component is opened with
 * FILE_FLAG_OPEN_REPARSE_POINT (a symbolic link or junction is refused)
 * and checked on its handle: type, the same owners, CHANGING_RIGHTS to no
 * one else. */

#define MAX_DEPTH 64

static nb_anchor_problem judge_handle(HANDLE h, int above)
{
    PSID owner = NULL;
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL,
                        &dacl, NULL, &sd) != ERROR_SUCCESS)
        return NB_ANCHOR_UNREADABLE;
    nb_anchor_problem p = NB_ANCHOR_OK;
    if (!owner_ok(owner))
        p = above ? NB_ANCHOR_PARENT_OWNER : NB_ANCHOR_OWNER;
    else if (!dacl_ok(dacl, owner, above ? REPLACING_RIGHTS : CHANGING_RIGHTS))
        p = above ? NB_ANCHOR_PARENT_WRITABLE : NB_ANCHOR_WRITABLE;
    LocalFree(sd);
    return p;
}

static nb_anchor_problem open_error(DWORD error)
{
    return error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ? NB_ANCHOR_MISSING : NB_ANCHOR_UNREADABLE;
}

typedef struct {
    HANDLE held[MAX_DEPTH];
    size_t count;
} held_folders;

static void release(held_folders *held)
{
    for (size_t i = 0; i < held->count; i++)
        CloseHandle(held->held[i]);
    held->count = 0;
}

/* The last component, checked on its handle; INVALID_HANDLE_VALUE when
 * refused. */
static HANDLE open_last(const char *full, int want_dir, nb_anchor_why *why)
{
    DWORD access = want_dir ? (READ_CONTROL | FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES)
                            : (GENERIC_READ | READ_CONTROL);
    DWORD share = want_dir ? (FILE_SHARE_READ | FILE_SHARE_WRITE) : FILE_SHARE_READ;
    HANDLE h = CreateFileA(full, access, share, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        nb_anchor_refuse(why, open_error(GetLastError()), full, strlen(full));
        return h;
    }
    BY_HANDLE_FILE_INFORMATION info;
    nb_anchor_problem p = NB_ANCHOR_UNREADABLE;
    if (GetFileInformationByHandle(h, &info)) {
        int is_dir = (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
        if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
            p = NB_ANCHOR_LINK;
        else if (is_dir != (want_dir != 0) || GetFileType(h) != FILE_TYPE_DISK)
            p = NB_ANCHOR_WRONG_TYPE;
        else
            p = judge_handle(h, 0);
    }
    if (p != NB_ANCHOR_OK) {
        CloseHandle(h);
        nb_anchor_refuse(why, p, full, strlen(full));
        return INVALID_HANDLE_VALUE;
    }
    why->problem = NB_ANCHOR_OK;
    why->where[0] = '\0';
    return h;
}

/* The whole rule for path: the folders above held in held, the last
 * component's handle returned (INVALID_HANDLE_VALUE when refused); full
 * gets the full path. */
static HANDLE anchor_open(const char *path, int want_dir, char *full, size_t full_size, held_folders *held,
                          nb_anchor_why *why)
{
    held->count = 0;
    why->problem = NB_ANCHOR_OK;
    why->where[0] = '\0';
    DWORD n = GetFullPathNameA(path, (DWORD)full_size, full, NULL);
    if (n == 0 || n >= full_size) {
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, path, strlen(path));
        return INVALID_HANDLE_VALUE;
    }
    size_t len = strlen(full);
    /* Where the folders start: after "C:\" or "\\server\share\". */
    size_t root = 0;
    if (len >= 3 && full[1] == ':' && full[2] == '\\')
        root = 3;
    else if (full[0] == '\\' && full[1] == '\\') {
        const char *share = strchr(full + 2, '\\');
        const char *after = share != NULL ? strchr(share + 1, '\\') : NULL;
        root = after != NULL ? (size_t)(after - full) + 1 : 0;
    }
    while (len > root && full[len - 1] == '\\')
        full[--len] = '\0';
    if (root == 0 || len <= root) {
        nb_anchor_refuse(why, NB_ANCHOR_WRONG_TYPE, full, len);
        return INVALID_HANDLE_VALUE;
    }
    /* Each folder above: the root, then each "\" after it. */
    for (size_t i = root; i <= len; i++) {
        if (i != root && full[i] != '\\')
            continue;
        if (i == len)
            break;
        if (held->count == MAX_DEPTH) {
            release(held);
            nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, full, len);
            return INVALID_HANDLE_VALUE;
        }
        char prefix[NB_WIN_PATH_MAX + 64];
        if (i >= sizeof(prefix)) {
            release(held);
            nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, full, len);
            return INVALID_HANDLE_VALUE;
        }
        memcpy(prefix, full, i);
        prefix[i] = '\0';
        HANDLE h = CreateFileA(prefix, READ_CONTROL | FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                               OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
        nb_anchor_problem p = h == INVALID_HANDLE_VALUE ? open_error(GetLastError()) : judge_handle(h, 1);
        if (h != INVALID_HANDLE_VALUE)
            held->held[held->count++] = h;
        if (p != NB_ANCHOR_OK) {
            release(held);
            nb_anchor_refuse(why, p, prefix, i);
            return INVALID_HANDLE_VALUE;
        }
    }
    HANDLE h = open_last(full, want_dir, why);
    if (h == INVALID_HANDLE_VALUE)
        release(held);
    return h;
}

static FILE *handle_stream(HANDLE h, int flags, const char *mode)
{
    int fd = _open_osfhandle((intptr_t)h, flags);
    if (fd < 0) {
        CloseHandle(h);
        return NULL;
    }
    FILE *f = _fdopen(fd, mode);
    if (f == NULL)
        _close(fd);
    return f;
}

FILE *nb_anchor_open_file(const char *path, nb_anchor_why *why)
{
    char full[NB_WIN_PATH_MAX + 64];
    held_folders held;
    HANDLE h = anchor_open(path, 0, full, sizeof(full), &held, why);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    FILE *f = handle_stream(h, _O_RDONLY | _O_BINARY, "rb");
    release(&held);
    if (f == NULL)
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, full, strlen(full));
    return f;
}

struct nb_anchor_dir {
    held_folders held;
    HANDLE dir;
    HANDLE find;
    int first;
    WIN32_FIND_DATAA entry;
    char full[NB_WIN_PATH_MAX + 64];
};

nb_anchor_dir *nb_anchor_dir_open(const char *path, nb_anchor_why *why)
{
    nb_anchor_dir *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, path, strlen(path));
        return NULL;
    }
    d->dir = anchor_open(path, 1, d->full, sizeof(d->full), &d->held, why);
    if (d->dir == INVALID_HANDLE_VALUE) {
        free(d);
        return NULL;
    }
    char pattern[sizeof(d->full) + 4];
    snprintf(pattern, sizeof(pattern), "%s\\*", d->full);
    d->find = FindFirstFileA(pattern, &d->entry);
    d->first = 1;
    return d;
}

const char *nb_anchor_dir_next(nb_anchor_dir *d)
{
    if (d->find == INVALID_HANDLE_VALUE)
        return NULL;
    if (!d->first && !FindNextFileA(d->find, &d->entry))
        return NULL;
    d->first = 0;
    return d->entry.cFileName;
}

FILE *nb_anchor_dir_open_file(nb_anchor_dir *d, const char *name, nb_anchor_why *why)
{
    char full[sizeof(d->full) + MAX_PATH + 2];
    snprintf(full, sizeof(full), "%s\\%s", d->full, name);
    if (strchr(name, '\\') != NULL || strchr(name, '/') != NULL) {
        nb_anchor_refuse(why, NB_ANCHOR_WRONG_TYPE, full, strlen(full));
        return NULL;
    }
    /* The folder and those above it are held: the name resolves in them. */
    HANDLE h = open_last(full, 0, why);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    FILE *f = handle_stream(h, _O_RDONLY | _O_BINARY, "rb");
    if (f == NULL)
        nb_anchor_refuse(why, NB_ANCHOR_UNREADABLE, full, strlen(full));
    return f;
}

void nb_anchor_dir_close(nb_anchor_dir *d)
{
    if (d == NULL)
        return;
    if (d->find != INVALID_HANDLE_VALUE)
        FindClose(d->find);
    CloseHandle(d->dir);
    release(&d->held);
    free(d);
}

FILE *nb_open_log_file(const char *path)
{
    HANDLE h = CreateFileA(path, FILE_APPEND_DATA | FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        errno = EACCES;
        return NULL;
    }
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(h, &info) || (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ||
        (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || GetFileType(h) != FILE_TYPE_DISK) {
        int link = (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
        CloseHandle(h);
        errno = link ? ELOOP : EINVAL;
        return NULL;
    }
    return handle_stream(h, _O_WRONLY | _O_APPEND | _O_BINARY, "ab");
}

/* "<folder of the exe>\<leaf>", computed once. When the folder cannot be
 * found, "": nothing is loaded, rather than a path relative to whatever
 * the current directory is. */
static const char *beside_exe(char *buf, size_t size, const char *leaf)
{
    if (buf[0] != '\0')
        return buf;
    char self[NB_WIN_PATH_MAX];
    nb_self_path(self, sizeof(self));
    char *slash = strrchr(self, '\\');
    if (slash == NULL)
        return "";
    *slash = '\0';
    if ((size_t)snprintf(buf, size, "%s\\%s", self, leaf) >= size) {
        buf[0] = '\0';
        return "";
    }
    return buf;
}

const char *nb_system_config_path(void)
{
    static char path[NB_WIN_PATH_MAX + 32];
    return beside_exe(path, sizeof(path), "nesbridge.conf");
}

const char *nb_system_trust_dir(void)
{
    static char path[NB_WIN_PATH_MAX + 32];
    return beside_exe(path, sizeof(path), "trust.d");
}
