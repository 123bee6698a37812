/* SPDX-License-Identifier: Apache-2.0 */
/* doctor for snap and Flatpak browsers. Such a browser cannot start a
 * program outside its sandbox itself; it asks a session service to:
 * - the WebExtensions portal (org.freedesktop.portal.WebExtensions on
 *   org.freedesktop.portal.Desktop; Ubuntu 22.04 and later): it reads the
 *   manifest from the usual host directories, asks the user once and keeps
 *   the answer in the permission store (table "webextensions", id: the
 *   host's name, app: "snap.<name>" or the Flatpak id);
 * - xdg-native-messaging-proxy (org.freedesktop.NativeMessagingProxy),
 *   which Firefox uses from 157 on; it asks nothing.
 * For each browser this says which one applies, whether our manifest is
 * where it looks, what the permission store holds, and whether the
 * browser's version and preferences let it use that path. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor_dbus.h"
#include "doctor_parts.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_IFACE "org.freedesktop.portal.WebExtensions"
#define PROXY_NAME "org.freedesktop.NativeMessagingProxy"
#define PORTAL_PREF "widget.use-xdg-desktop-portal.native-messaging"
#define PROXY_PREF "widget.use-xdg-desktop-portal.native-messaging-proxy"
/* The first Firefox that uses the proxy. */
#define PROXY_FIREFOX 157
/* All D-Bus questions together wait at most this long. */
#define BUS_DEADLINE_MS 8000

typedef enum { PATH_NONE, PATH_PORTAL, PATH_PROXY } path_kind;

/* What the session bus offers; asked once for all browsers. */
typedef struct {
    nb_dbus *bus;
    nb_dbus_status status;
    char why[512];
    int portal; /* 1 offered, 0 not, -1 the bus did not answer */
    uint32_t portal_version;
    int proxy; /* 1 running, 2 startable by the bus, 0 not, -1 no answer */
    char error[512];
} bus_facts;

/* What a Firefox-family browser's profiles say. */
typedef struct {
    int profiles;
    int version; /* highest major version that ran a profile; 0 unknown */
    int portal_pref_set;
    char portal_off[256]; /* a profile where the portal pref is 0 */
    char proxy_off[256];  /* a profile where the proxy pref is 0 */
} firefox_facts;

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void probe_bus(bus_facts *f)
{
    f->bus = nb_dbus_open(BUS_DEADLINE_MS, &f->status, f->why, sizeof(f->why));
    if (f->bus == NULL)
        return;
    /* The proxy by name only: "running on the session bus" (or startable
     * by it); the portal by its interface, since an xdg-desktop-portal
     * without the WebExtensions interface is no help. */
    f->proxy = nb_dbus_name(f->bus, PROXY_NAME);
    f->portal = nb_dbus_u32_property(f->bus, PORTAL_NAME, PORTAL_PATH, PORTAL_IFACE, "version", &f->portal_version);
    if (f->proxy < 0 || f->portal < 0)
        snprintf(f->error, sizeof(f->error), "%s", nb_dbus_error(f->bus));
}

/* The value of `user_pref("name", N);` in a prefs.js or user.js; -1 when
 * the file does not set it. The last line that sets it wins, as in
 * Firefox. */
static long read_pref(const char *file, const char *name)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return -1;
    char key[160];
    snprintf(key, sizeof(key), "user_pref(\"%s\",", name);
    char line[1024];
    long value = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *p = strstr(line, key);
        if (p == NULL)
            continue;
        char *end;
        long v = strtol(p + strlen(key), &end, 10);
        if (end != p + strlen(key) && v >= 0 && v <= 9)
            value = v;
    }
    fclose(f);
    return value;
}

/* The major version in compatibility.ini's LastVersion=128.0_2024.../...;
 * 0 when unknown. */
static int read_version(const char *file)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return 0;
    char line[512];
    int version = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "LastVersion=", 12) == 0) {
            long v = strtol(line + 12, NULL, 10);
            version = v > 0 && v < 100000 ? (int)v : 0;
        }
    }
    fclose(f);
    return version;
}

static void read_profile(firefox_facts *ff, const char *dir, const char *label)
{
    char file[2 * PATH_MAX + 32];
    ff->profiles++;
    snprintf(file, sizeof(file), "%s/compatibility.ini", dir);
    int v = read_version(file);
    if (v > ff->version)
        ff->version = v;
    static const char *const prefs_files[] = {"prefs.js", "user.js"}; /* user.js last: it wins */
    long portal = -1, proxy = -1;
    for (size_t i = 0; i < 2; i++) {
        snprintf(file, sizeof(file), "%s/%s", dir, prefs_files[i]);
        long p = read_pref(file, PORTAL_PREF), q = read_pref(file, PROXY_PREF);
        portal = p >= 0 ? p : portal;
        proxy = q >= 0 ? q : proxy;
    }
    ff->portal_pref_set |= portal >= 0;
    if (portal == 0 && ff->portal_off[0] == '\0')
        snprintf(ff->portal_off, sizeof(ff->portal_off), "%s", label);
    if (proxy == 0 && ff->proxy_off[0] == '\0')
        snprintf(ff->proxy_off, sizeof(ff->proxy_off), "%s", label);
}

/* Every profile listed in profiles.ini: <app_home>/<user_dir>/firefox
 * (Firefox), else <app_home>/<user_dir> (LibreWolf). */
static void read_profiles(firefox_facts *ff, const nb_sandboxed *b)
{
    char base[PATH_MAX], ini[PATH_MAX + 16];
    snprintf(base, sizeof(base), "%s/%s/firefox", b->app_home, b->user_dir);
    snprintf(ini, sizeof(ini), "%s/profiles.ini", base);
    if (!exists(ini)) {
        snprintf(base, sizeof(base), "%s/%s", b->app_home, b->user_dir);
        snprintf(ini, sizeof(ini), "%s/profiles.ini", base);
    }
    FILE *f = fopen(ini, "r");
    if (f == NULL)
        return;
    char line[PATH_MAX], path[PATH_MAX] = "";
    int relative = 1, in_profile = 0;
    for (int more = 1; more;) {
        more = fgets(line, sizeof(line), f) != NULL;
        line[strcspn(line, "\r\n")] = '\0';
        /* A section ends at the next one or at the end of the file. */
        if ((!more || line[0] == '[') && in_profile && path[0] != '\0' && ff->profiles < 16) {
            char dir[2 * PATH_MAX];
            if (relative)
                snprintf(dir, sizeof(dir), "%s/%s", base, path);
            else
                snprintf(dir, sizeof(dir), "%s", path);
            read_profile(ff, dir, path);
        }
        if (!more)
            break;
        if (line[0] == '[') {
            in_profile = strncmp(line, "[Profile", 8) == 0;
            path[0] = '\0';
            relative = 1;
        } else if (strncmp(line, "Path=", 5) == 0) {
            snprintf(path, sizeof(path), "%s", line + 5);
        } else if (strncmp(line, "IsRelative=", 11) == 0) {
            relative = line[11] != '0';
        }
    }
    fclose(f);
}

/* Whether a Flatpak may talk to the proxy: its metadata, then the
 * installation's overrides, then the user's; the last word wins. */
static int flatpak_may_talk_to_proxy(const nb_sandboxed *b, const char *home)
{
    char files[5][PATH_MAX + 64];
    snprintf(files[0], sizeof(files[0]), "%s/current/active/metadata", b->app_dir);
    snprintf(files[1], sizeof(files[1]), "%s/overrides/global", b->installation);
    snprintf(files[2], sizeof(files[2]), "%s/overrides/%s", b->installation, b->id);
    snprintf(files[3], sizeof(files[3]), "%s/.local/share/flatpak/overrides/global", home);
    snprintf(files[4], sizeof(files[4]), "%s/.local/share/flatpak/overrides/%s", home, b->id);
    int may = 0;
    for (size_t i = 0; i < 5; i++) {
        FILE *f = fopen(files[i], "r");
        if (f == NULL)
            continue;
        char line[512];
        while (fgets(line, sizeof(line), f) != NULL) {
            if (strncmp(line, PROXY_NAME "=", sizeof(PROXY_NAME)) != 0)
                continue;
            const char *v = line + sizeof(PROXY_NAME);
            may = strncmp(v, "talk", 4) == 0 || strncmp(v, "own", 3) == 0;
        }
        fclose(f);
    }
    return may;
}

/* The manifest the portal or the proxy would read: the first that exists
 * in its search list (their sources: the portal's web-extensions.c, the
 * proxy's xnmp-impl.c). */
static int find_manifest(const nb_sandboxed *b, path_kind path, const char *home, char *file, size_t len,
                         char *first, size_t first_len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    char config[PATH_MAX];
    if (xdg != NULL && xdg[0] == '/')
        snprintf(config, sizeof(config), "%s", xdg);
    else
        snprintf(config, sizeof(config), "%s/.config", home);
    char dirs[4][PATH_MAX + 64];
    size_t n = 0;
    if (b->firefox) {
        snprintf(dirs[n++], sizeof(dirs[0]), "%s/.mozilla/native-messaging-hosts", home);
        if (path == PATH_PROXY)
            snprintf(dirs[n++], sizeof(dirs[0]), "%s/mozilla/native-messaging-hosts", config);
        snprintf(dirs[n++], sizeof(dirs[0]), "/usr/lib/mozilla/native-messaging-hosts");
        snprintf(dirs[n++], sizeof(dirs[0]), "/usr/lib64/mozilla/native-messaging-hosts");
    } else {
        snprintf(dirs[n++], sizeof(dirs[0]), "%s/google-chrome/NativeMessagingHosts", config);
        snprintf(dirs[n++], sizeof(dirs[0]), "%s/chromium/NativeMessagingHosts", config);
        snprintf(dirs[n++], sizeof(dirs[0]), "/etc/opt/chrome/native-messaging-hosts");
        snprintf(dirs[n++], sizeof(dirs[0]), "/etc/chromium/native-messaging-hosts");
    }
    for (size_t i = 0; i < n; i++) {
        if ((size_t)snprintf(file, len, "%s/%s.json", dirs[i], NB_HOST_NAME) >= len)
            continue;
        if (i == 0)
            snprintf(first, first_len, "%s", file);
        if (exists(file))
            return 1;
    }
    return 0;
}

static void report_path(doctor *d, const nb_sandboxed *b, const char *label, const bus_facts *bf, path_kind path)
{
    char what[1024];
    if (path == PATH_PORTAL) {
        snprintf(what, sizeof(what), "%s: %s (%s, %s %u)", label,
                 nb_doctor_say(d, "nesbridge'i WebExtensions portalı üzerinden başlatır", "starts nesbridge through the WebExtensions portal"),
                 PORTAL_NAME, nb_doctor_say(d, "sürüm", "version"), bf->portal_version);
        nb_doctor_report(d, "sandbox", 1, what, NULL);
    } else if (path == PATH_PROXY) {
        snprintf(what, sizeof(what), "%s: %s (%s, %s)", label,
                 nb_doctor_say(d, "nesbridge'i xdg-native-messaging-proxy üzerinden başlatır", "starts nesbridge through xdg-native-messaging-proxy"),
                 PROXY_NAME,
                 bf->proxy == 1 ? nb_doctor_say(d, "oturum veri yolunda çalışıyor", "running on the session bus")
                                : nb_doctor_say(d, "oturum veri yolu gerektiğinde başlatır", "the session bus starts it when needed"));
        nb_doctor_report(d, "sandbox", 1, what, NULL);
    } else {
        snprintf(what, sizeof(what), "%s: %s", label,
                 nb_doctor_say(d, "oturum veri yolunda ne WebExtensions portalı ne de xdg-native-messaging-proxy var; bu tarayıcı nesbridge'i başlatamaz",
                               "neither the WebExtensions portal nor xdg-native-messaging-proxy is on the session bus; this browser cannot start nesbridge"));
        char fix[512];
        if (d->english)
            snprintf(fix, sizeof(fix),
                     "install the package that adds the proxy (sudo apt install xdg-native-messaging-proxy; Fedora: sudo dnf install xdg-native-messaging-proxy) and log in again; or use %s from your distribution's packages",
                     b->name);
        else
            snprintf(fix, sizeof(fix),
                     "vekili ekleyen paketi kurup (sudo apt install xdg-native-messaging-proxy; Fedora: sudo dnf install xdg-native-messaging-proxy) oturumu yeniden açınız; ya da %s tarayıcısını dağıtımın paketinden kullanınız",
                     b->name);
        nb_doctor_report(d, "sandbox", 0, what, fix);
    }
}

static void report_manifest(doctor *d, const nb_sandboxed *b, const char *label, path_kind path, const char *home)
{
    char file[PATH_MAX + 128], first[PATH_MAX + 128], what[2 * PATH_MAX + 512];
    char who[300];
    snprintf(who, sizeof(who), "%s, %s", label, path == PATH_PORTAL ? nb_doctor_say(d, "portal", "portal") : nb_doctor_say(d, "vekil", "proxy"));
    if (!find_manifest(b, path, home, file, sizeof(file), first, sizeof(first))) {
        snprintf(what, sizeof(what), "%s: %s %s", who,
                 path == PATH_PORTAL ? nb_doctor_say(d, "portalın baktığı yerde manifest yok:", "no manifest where the portal looks:")
                                     : nb_doctor_say(d, "vekilin baktığı yerde manifest yok:", "no manifest where the proxy looks:"),
                 first);
        nb_doctor_report(d, "manifest", 0, what, "sh installer/install.sh --user");
        return;
    }
    int ok = nb_doctor_check_manifest(d, who, b->firefox, file, what, sizeof(what));
    nb_doctor_report(d, "manifest", ok, what, "sh installer/install.sh --user");
}

static void report_permission(doctor *d, const nb_sandboxed *b, const char *label, bus_facts *bf)
{
    char app[300], perm[128], what[1024], fix[1024];
    if (b->flatpak)
        snprintf(app, sizeof(app), "%s", b->id);
    else
        snprintf(app, sizeof(app), "snap.%s", b->id);
    int found = nb_dbus_permission(bf->bus, "webextensions", NB_HOST_NAME, app, perm, sizeof(perm));
    char where[400];
    snprintf(where, sizeof(where), "webextensions/%s/%s", NB_HOST_NAME, app);
    if (found < 0) {
        snprintf(what, sizeof(what), "%s: %s (%s)", label,
                 nb_doctor_say(d, "izin deposu (org.freedesktop.impl.portal.PermissionStore) yanıt vermedi", "the permission store (org.freedesktop.impl.portal.PermissionStore) did not answer"),
                 nb_dbus_error(bf->bus));
        nb_doctor_report(d, "permission", 0, what, nb_doctor_say(d, "oturumu kapatıp yeniden açınız", "log out and in again"));
    } else if (found == 0) {
        snprintf(what, sizeof(what), "%s: %s (%s)", label,
                 nb_doctor_say(d, "henüz sorulmadı: eklenti ilk bağlandığında portal bir kez, tarayıcının nesbridge'i başlatıp başlatamayacağını sorar; \"İzin ver\" deyiniz",
                               "not asked yet: the first time the extension connects, the portal asks once whether the browser may start nesbridge; answer \"Allow\""),
                 where);
        nb_doctor_report(d, "permission", 1, what, NULL);
    } else if (strcmp(perm, "yes") == 0) {
        snprintf(what, sizeof(what), "%s: %s (%s)", label, nb_doctor_say(d, "izin verilmiş", "allowed"), where);
        nb_doctor_report(d, "permission", 1, what, NULL);
    } else if (strcmp(perm, "ask") == 0) {
        snprintf(what, sizeof(what), "%s: %s (%s)", label, nb_doctor_say(d, "portal her seferinde sorar", "the portal asks every time"), where);
        nb_doctor_report(d, "permission", 1, what, NULL);
    } else {
        /* "no", or anything the portal would not read as yes or ask. */
        snprintf(what, sizeof(what), "%s: %s: %s (%s); %s", label,
                 nb_doctor_say(d, "reddedilmiş; portal bu tarayıcı için nesbridge'i başlatmaz", "refused; the portal will not start nesbridge for this browser"),
                 perm, where,
                 nb_doctor_say(d, "aşağıdaki komut bu yanıtı siler, portal yeniden sorar", "the command below forgets that answer and the portal asks again"));
        /* Only this app's answer goes; the command works without flatpak. */
        snprintf(fix, sizeof(fix),
                 "gdbus call --session --dest org.freedesktop.impl.portal.PermissionStore --object-path /org/freedesktop/impl/portal/PermissionStore --method org.freedesktop.impl.portal.PermissionStore.DeletePermission webextensions %s %s",
                 NB_HOST_NAME, app);
        nb_doctor_report(d, "permission", 0, what, fix);
    }
}

/* Version and preferences of a Firefox-family browser for this path. */
static void report_firefox(doctor *d, const nb_sandboxed *b, const char *label, const firefox_facts *ff, path_kind path)
{
    char what[1024], fix[512];
    if (b->flatpak)
        snprintf(fix, sizeof(fix), "flatpak update %s", b->id);
    else
        snprintf(fix, sizeof(fix), "sudo snap refresh %s", b->id);
    if (ff->profiles == 0) {
        snprintf(what, sizeof(what), "%s: %s", label,
                 nb_doctor_say(d, "henüz profil yok (tarayıcı hiç çalışmamış); sürümü ve tercihleri bilinmiyor",
                               "no profile yet (the browser has not run): its version and preferences are not known"));
        nb_doctor_report(d, "browser", 1, what, NULL);
        return;
    }
    const char *off = path == PATH_PORTAL ? ff->portal_off : ff->proxy_off;
    const char *pref = path == PATH_PORTAL ? PORTAL_PREF : PROXY_PREF;
    if (path == PATH_PROXY && ff->version > 0 && ff->version < PROXY_FIREFOX) {
        if (d->english)
            snprintf(what, sizeof(what), "%s: version %d; Firefox uses xdg-native-messaging-proxy only from %d on", label, ff->version, PROXY_FIREFOX);
        else
            snprintf(what, sizeof(what), "%s: sürüm %d; Firefox xdg-native-messaging-proxy'yi ancak %d sürümünden itibaren kullanır", label, ff->version, PROXY_FIREFOX);
        nb_doctor_report(d, "browser", 0, what, fix);
    } else if (off[0] != '\0') {
        if (d->english)
            snprintf(what, sizeof(what), "%s: the preference %s is 0 (off) in profile %s", label, pref, off);
        else
            snprintf(what, sizeof(what), "%s: %s profilinde %s tercihi 0 (kapalı)", label, off, pref);
        char pref_fix[512];
        if (d->english)
            snprintf(pref_fix, sizeof(pref_fix), "in about:config set %s to %d, then restart the browser", pref, path == PATH_PORTAL ? 2 : 1);
        else
            snprintf(pref_fix, sizeof(pref_fix), "about:config sayfasında %s değerini %d yapıp tarayıcıyı yeniden başlatınız", pref, path == PATH_PORTAL ? 2 : 1);
        nb_doctor_report(d, "browser", 0, what, pref_fix);
    } else {
        char version[64] = "";
        if (ff->version > 0)
            snprintf(version, sizeof(version), "%s %d; ", nb_doctor_say(d, "sürüm", "version"), ff->version);
        const char *state = path == PATH_PORTAL && !ff->portal_pref_set && b->flatpak
                                ? nb_doctor_say(d, "ayarlanmamış (tarayıcının varsayılanı); eklenti nesbridge'e ulaşamazsa about:config'te 1 yapınız",
                                                "not set (the browser's default); if the extension cannot reach nesbridge, set it to 1 in about:config")
                                : nb_doctor_say(d, "kapalı değil", "not off");
        snprintf(what, sizeof(what), "%s: %s%s %s", label, version, pref, state);
        nb_doctor_report(d, "browser", 1, what, NULL);
    }
}

/* Which path this browser takes. Firefox from 157 on prefers the proxy;
 * otherwise the portal. A path the browser's version or preference shuts
 * is taken only when there is no other, so that its problem is named. */
static path_kind choose_path(const nb_sandboxed *b, const bus_facts *bf, const firefox_facts *ff)
{
    int portal = bf->portal == 1, proxy = bf->proxy == 1 || bf->proxy == 2;
    int proxy_usable = proxy && !(b->firefox && ((ff->version > 0 && ff->version < PROXY_FIREFOX) || ff->proxy_off[0] != '\0'));
    int portal_usable = portal && !(b->firefox && ff->portal_off[0] != '\0');
    if (b->firefox && proxy_usable)
        return PATH_PROXY;
    if (portal_usable)
        return PATH_PORTAL;
    if (proxy_usable)
        return PATH_PROXY;
    return portal ? PATH_PORTAL : proxy ? PATH_PROXY : PATH_NONE;
}

static void check_one(doctor *d, const nb_sandboxed *b, bus_facts *bf, const char *home)
{
    char label[256], what[1024];
    snprintf(label, sizeof(label), "%s (%s)", b->name, b->flatpak ? "Flatpak" : "snap");
    if (bf->bus == NULL) {
        if (bf->status == NB_DBUS_NO_LIBRARY) {
            snprintf(what, sizeof(what), "%s: %s (%s)", label,
                     nb_doctor_say(d, "oturum veri yoluna sorulamadı: GLib'in gio kitaplığı yüklenemiyor", "cannot ask the session bus: GLib's gio library cannot be loaded"),
                     bf->why);
            nb_doctor_report(d, "sandbox", 0, what, "sudo apt install libglib2.0-0");
        } else {
            snprintf(what, sizeof(what), "%s: %s (%s)", label,
                     nb_doctor_say(d, "oturum veri yoluna ulaşılamıyor; portal ya da vekil olup olmadığı anlaşılamadı",
                                   "the session bus cannot be reached, so whether the portal or the proxy is there is not known"),
                     bf->why);
            nb_doctor_report(d, "sandbox", 0, what,
                             nb_doctor_say(d, "doctor'u masaüstü oturumunuzda çalıştırınız (ssh ya da sudo ile değil)",
                                           "run doctor in your desktop session (not over ssh or with sudo)"));
        }
        return;
    }
    if (bf->portal < 0 || bf->proxy < 0) {
        snprintf(what, sizeof(what), "%s: %s (%s)", label,
                 nb_doctor_say(d, "oturum veri yolu zamanında yanıt vermedi", "the session bus did not answer in time"), bf->error);
        nb_doctor_report(d, "sandbox", 0, what, nb_doctor_say(d, "oturumu kapatıp yeniden açınız", "log out and in again"));
        return;
    }
    firefox_facts ff = {0};
    if (b->firefox)
        read_profiles(&ff, b);
    path_kind path = choose_path(b, bf, &ff);
    report_path(d, b, label, bf, path);
    if (path == PATH_NONE)
        return;
    report_manifest(d, b, label, path, home);
    if (path == PATH_PORTAL)
        report_permission(d, b, label, bf);
    if (path == PATH_PROXY && b->flatpak && !flatpak_may_talk_to_proxy(b, home)) {
        snprintf(what, sizeof(what), "%s: %s %s", label,
                 nb_doctor_say(d, "Flatpak'in oturum veri yolunda şu ada erişim izni yok:", "the Flatpak may not talk to"), PROXY_NAME);
        char fix[512];
        snprintf(fix, sizeof(fix), "flatpak override --user --talk-name=%s %s", PROXY_NAME, b->id);
        nb_doctor_report(d, "sandbox", 0, what, fix);
    }
    if (b->firefox)
        report_firefox(d, b, label, &ff, path);
}

void nb_doctor_check_sandboxed(doctor *d, const nb_sandboxed *list, size_t n, const char *home)
{
    if (n == 0)
        return;
    bus_facts bf = {0};
    probe_bus(&bf);
    for (size_t i = 0; i < n; i++)
        check_one(d, &list[i], &bf, home);
    nb_dbus_close(bf.bus);
}
