/* Windows side of platform.h (built with mingw-w64). The browser starts the
 * host with anonymous pipes on stdin and stdout; Windows has no poll() for
 * pipes, so input is looked for with PeekNamedPipe. */
#include "platform.h"

#include <fcntl.h>
#include <io.h>
#include <malloc.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

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
    nb_input_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->fd = fd;
    w->on_input = on_input;
    w->arg = arg;
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

size_t nb_alloc_size(void *p)
{
    return p != NULL ? _msize(p) : 0;
}

/* Rights that let a holder change what a file says, or which files a
 * folder holds. */
#define CHANGING_RIGHTS                                                                          \
    (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | \
     GENERIC_ALL)

static int may_change_trust(PSID sid, PSID owner)
{
    /* NT SERVICE\TrustedInstaller owns and writes Program Files. */
    static const char trusted_installer[] = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
    if ((owner != NULL && EqualSid(sid, owner)) || IsWellKnownSid(sid, WinLocalSystemSid) ||
        IsWellKnownSid(sid, WinBuiltinAdministratorsSid))
        return 1;
    PSID ti = NULL;
    int is_ti = ConvertStringSidToSidA(trusted_installer, &ti) && EqualSid(sid, ti);
    LocalFree(ti);
    return is_ti;
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
    int ok = dacl != NULL; /* no DACL at all lets everyone do everything */
    for (DWORD i = 0; ok && i < dacl->AceCount; i++) {
        ACE_HEADER *ace = NULL;
        if (!GetAce(dacl, i, (void **)&ace)) {
            ok = 0;
            break;
        }
        if (ace->AceFlags & INHERIT_ONLY_ACE)
            continue; /* applies to children only, which are checked themselves */
        if (ace->AceType == ACCESS_DENIED_ACE_TYPE)
            continue; /* only ever takes rights away */
        if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE) {
            ok = 0; /* a kind we do not read: refuse rather than guess */
            break;
        }
        ACCESS_ALLOWED_ACE *allowed = (ACCESS_ALLOWED_ACE *)ace;
        if ((allowed->Mask & CHANGING_RIGHTS) != 0 && !may_change_trust((PSID)&allowed->SidStart, owner))
            ok = 0;
    }
    LocalFree(sd);
    return ok;
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
