/* SPDX-License-Identifier: Apache-2.0 */
/* doctor on Linux: manifests in the browsers' directories under $HOME and
 * in the system ones; snap and flatpak browsers named. */
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

static void check_browsers(doctor *d, const char *home)
{
    int found = 0;
    for (size_t i = 0; i < BROWSER_COUNT; i++) {
        const browser *b = &browsers[i];
        if (b->user_dir == NULL)
            continue;
        char dir[PATH_MAX], user_file[PATH_MAX], what[PATH_MAX + 256];
        snprintf(dir, sizeof(dir), "%s/%s", home, b->user_dir);
        char snap_bin[64] = "";
        if (b->snap != NULL)
            snprintf(snap_bin, sizeof(snap_bin), "/snap/bin/%s", b->snap);
        if (b->snap != NULL && exists(snap_bin)) {
            snprintf(what, sizeof(what), "%s: %s", b->name,
                     nb_doctor_say(d, "snap paketi; snap tarayıcılar dışarıdaki programı başlatamaz",
                         "a snap; snap browsers cannot start a host outside the snap"));
            nb_doctor_report(d, "browser", 0, what, nb_doctor_say(d, "tarayıcıyı dağıtımın paketinden kurunuz", "install the browser from your distribution's packages"));
        }
        if (b->flatpak != NULL) {
            char fp_user[PATH_MAX], fp_sys[PATH_MAX];
            snprintf(fp_user, sizeof(fp_user), "%s/.local/share/flatpak/app/%s", home, b->flatpak);
            snprintf(fp_sys, sizeof(fp_sys), "/var/lib/flatpak/app/%s", b->flatpak);
            if (exists(fp_user) || exists(fp_sys)) {
                snprintf(what, sizeof(what), "%s: %s", b->name,
                         nb_doctor_say(d, "flatpak; korumalı alan dışarıdaki programı başlatamaz",
                             "a flatpak; its sandbox cannot start a host outside it"));
                nb_doctor_report(d, "browser", 0, what, nb_doctor_say(d, "tarayıcıyı dağıtımın paketinden kurunuz", "install the browser from your distribution's packages"));
            }
        }
        if (!exists(dir))
            continue;
        found++;
        snprintf(user_file, sizeof(user_file), "%s/%s/%s.json", home, b->user_hosts, NB_HOST_NAME);
        const char *system_file = system_manifest(b);
        const char *file = exists(user_file) || system_file == NULL ? user_file : system_file;
        int ok = nb_doctor_check_manifest(d, b->name, b->firefox, file, what, sizeof(what));
        nb_doctor_report(d, "manifest", ok, what, "sh installer/install.sh --user");
    }
    if (found == 0)
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
