/* SPDX-License-Identifier: Apache-2.0 */
/* doctor on Linux: manifests in the browsers' directories under $HOME and
 * in the system ones; snap and Flatpak browsers found here and checked in
 * doctor_sandbox.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor_parts.h"

typedef struct {
    const char *name;
    int firefox;            /* firefox family: allowed_extensions */
    const char *user_dir;   /* relative to $HOME; the browser's own directory;
                               NULL: the row only adds a system directory */
    const char *user_hosts; /* manifest directory, relative to $HOME */
    const char *system_hosts; /* or NULL */
    const char *snap;       /* snap command name, or NULL */
    const char *flatpak;    /* flatpak app id, or NULL */
} browser;

static const browser browsers[] = {
#include "browsers_linux.h"
};

#define BROWSER_COUNT (sizeof(browsers) / sizeof(browsers[0]))

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The system-wide manifest this browser would read: its own system
 * directory, else one that a row of the same family adds (Firefox under
 * /usr/lib64). NULL when none exists. */
static const char *system_manifest(const browser *b)
{
    static char file[PATH_MAX];
    for (size_t i = 0; i < BROWSER_COUNT; i++) {
        const browser *c = &browsers[i];
        int candidate = c == b || (c->user_dir == NULL && c->firefox == b->firefox);
        if (!candidate || c->system_hosts == NULL)
            continue;
        snprintf(file, sizeof(file), "%s/%s.json", c->system_hosts, NB_HOST_NAME);
        if (exists(file))
            return file;
    }
    return NULL;
}

/* Where tests put their /snap/bin and /var/lib/flatpak: doctor reads
 * NESBRIDGE_SANDBOX_ROOT only to say what it sees, never to start
 * anything. */
static const char *sandbox_root(void)
{
    const char *root = getenv("NESBRIDGE_SANDBOX_ROOT");
    return root != NULL && root[0] == '/' ? root : "";
}

#define MAX_SANDBOXED (2 * BROWSER_COUNT)

/* Text behind the nb_sandboxed entries. */
typedef struct {
    char app_home[PATH_MAX];
    char app_dir[PATH_MAX];
    char installation[PATH_MAX];
} sandboxed_paths;

/* The snap and Flatpak installs of b, added to list. */
static void find_sandboxed(const browser *b, const char *home, nb_sandboxed *list, sandboxed_paths *paths, size_t *n)
{
    char file[PATH_MAX];
    if (b->snap != NULL && *n < MAX_SANDBOXED) {
        snprintf(file, sizeof(file), "%s/snap/bin/%s", sandbox_root(), b->snap);
        if (exists(file)) {
            sandboxed_paths *p = &paths[*n];
            snprintf(p->app_home, sizeof(p->app_home), "%s/snap/%s/common", home, b->snap);
            list[(*n)++] = (nb_sandboxed){b->name, b->firefox, b->user_dir, 0, b->snap, p->app_home, NULL, NULL};
        }
    }
    if (b->flatpak == NULL || *n >= MAX_SANDBOXED)
        return;
    /* The user's installation first, as flatpak itself prefers it. */
    char installations[2][PATH_MAX];
    snprintf(installations[0], sizeof(installations[0]), "%s/.local/share/flatpak", home);
    snprintf(installations[1], sizeof(installations[1]), "%s/var/lib/flatpak", sandbox_root());
    for (size_t i = 0; i < 2; i++) {
        /* A path too long for the buffer is no install we could read. */
        if ((size_t)snprintf(file, sizeof(file), "%s/app/%s", installations[i], b->flatpak) >= sizeof(file) ||
            !exists(file))
            continue;
        sandboxed_paths *p = &paths[*n];
        snprintf(p->app_home, sizeof(p->app_home), "%s/.var/app/%s", home, b->flatpak);
        memcpy(p->app_dir, file, sizeof(p->app_dir));
        memcpy(p->installation, installations[i], sizeof(p->installation));
        list[(*n)++] = (nb_sandboxed){b->name, b->firefox, b->user_dir, 1, b->flatpak, p->app_home, p->app_dir,
                                      p->installation};
        return;
    }
}

static void check_browsers(doctor *d, const char *home)
{
    int found = 0;
    static nb_sandboxed sandboxed[MAX_SANDBOXED];
    static sandboxed_paths paths[MAX_SANDBOXED];
    size_t n_sandboxed = 0;
    for (size_t i = 0; i < BROWSER_COUNT; i++) {
        const browser *b = &browsers[i];
        if (b->user_dir == NULL)
            continue;
        char dir[PATH_MAX], user_file[PATH_MAX], what[PATH_MAX + 256];
        snprintf(dir, sizeof(dir), "%s/%s", home, b->user_dir);
        find_sandboxed(b, home, sandboxed, paths, &n_sandboxed);
        if (!exists(dir))
            continue;
        found++;
        snprintf(user_file, sizeof(user_file), "%s/%s/%s.json", home, b->user_hosts, NB_HOST_NAME);
        const char *system_file = system_manifest(b);
        const char *file = exists(user_file) || system_file == NULL ? user_file : system_file;
        int ok = nb_doctor_check_manifest(d, b->name, b->firefox, file, what, sizeof(what));
        nb_doctor_report(d, "manifest", ok, what, "sh installer/install.sh --user");
    }
    /* Sandboxed browsers start the host through a session service; that
     * part alone asks D-Bus (and loads gio), and only when there is one. */
    nb_doctor_check_sandboxed(d, sandboxed, n_sandboxed, home);
    if (found == 0 && n_sandboxed == 0)
        nb_doctor_report(d, "browser", 0, nb_doctor_say(d, "desteklenen tarayıcı bulunamadı", "no supported browser found"),
               nb_doctor_say(d, "Firefox ya da Chromium kurunuz", "install Firefox or Chromium"));
}

void nb_doctor_check_browsers(doctor *d)
{
    const char *home = getenv("HOME");
    if (home != NULL)
        check_browsers(d, home);
}

const char *const nb_doctor_host_fix = "sh installer/install.sh --user";

const char *const nb_doctor_pcsc_service = "pcscd";

const char *const nb_doctor_pcsc_fix = "sudo apt-get install pcscd && sudo systemctl start pcscd.socket";

const char *nb_doctor_trust_fix(const doctor *d)
{
    return nb_doctor_say(d, "nesbridge'i paketinden yeniden kurunuz (anahtar /etc/nesbridge/trust.d içine gelir)",
                         "reinstall nesbridge from its package (the key goes to /etc/nesbridge/trust.d)");
}
