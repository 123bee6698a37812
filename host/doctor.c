#include "doctor.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "caller.h"
#include "errors.h"
#include "readers.h"
#include "trust.h"

#define HOST_NAME "tr.gov.kamusm.nesbridge"

typedef struct {
    const char *name;
    int firefox;            /* firefox family: allowed_extensions */
    const char *user_dir;   /* relative to $HOME; the browser's own directory */
    const char *user_hosts; /* manifest directory, relative to $HOME */
    const char *system_hosts;
    const char *snap;       /* snap command name, or NULL */
    const char *flatpak;    /* flatpak app id, or NULL */
} browser;

static const browser browsers[] = {
    {"Google Chrome", 0, ".config/google-chrome", ".config/google-chrome/NativeMessagingHosts", "/etc/opt/chrome/native-messaging-hosts", NULL, "com.google.Chrome"},
    {"Chromium", 0, ".config/chromium", ".config/chromium/NativeMessagingHosts", "/etc/chromium/native-messaging-hosts", "chromium", "org.chromium.Chromium"},
    {"Microsoft Edge", 0, ".config/microsoft-edge", ".config/microsoft-edge/NativeMessagingHosts", "/etc/opt/edge/native-messaging-hosts", NULL, "com.microsoft.Edge"},
    {"Brave", 0, ".config/BraveSoftware/Brave-Browser", ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts", "/etc/opt/brave/native-messaging-hosts", "brave", "com.brave.Browser"},
    {"Vivaldi", 0, ".config/vivaldi", ".config/vivaldi/NativeMessagingHosts", "/etc/opt/vivaldi/native-messaging-hosts", NULL, NULL},
    {"Opera", 0, ".config/opera", ".config/opera/NativeMessagingHosts", NULL, "opera", NULL},
    {"Firefox", 1, ".mozilla", ".mozilla/native-messaging-hosts", "/usr/lib/mozilla/native-messaging-hosts", "firefox", "org.mozilla.firefox"},
    {"LibreWolf", 1, ".librewolf", ".librewolf/native-messaging-hosts", "/usr/lib/librewolf/native-messaging-hosts", NULL, "io.gitlab.librewolf-community"},
};

typedef struct {
    int english;
    int json;
    int problems;
    cJSON *report;
} doctor;

static const char *say(const doctor *d, const char *tr, const char *en)
{
    return d->english ? en : tr;
}

/* One line of the report: ok or a problem with the command that fixes it. */
static void report(doctor *d, const char *area, int ok, const char *what, const char *fix)
{
    if (!ok)
        d->problems++;
    if (d->json) {
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "area", area);
        cJSON_AddBoolToObject(item, "ok", ok);
        cJSON_AddStringToObject(item, "what", what);
        if (!ok && fix != NULL)
            cJSON_AddStringToObject(item, "fix", fix);
        cJSON_AddItemToArray(cJSON_GetObjectItem(d->report, "checks"), item);
        return;
    }
    printf("[%s] %-16s %s\n", ok ? " ok " : say(d, "SORUN", "FAIL"), area, what);
    if (!ok && fix != NULL)
        printf("       %s %s\n", say(d, "çözüm:", "fix:"), fix);
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = malloc(65537);
    size_t n = buf != NULL ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Checks one manifest file; returns 1 when good. */
static int check_manifest(doctor *d, const browser *b, const char *file, char *what, size_t what_len)
{
    char *text = read_small(file);
    if (text == NULL) {
        snprintf(what, what_len, "%s: %s %s", b->name, say(d, "manifest yok:", "no manifest:"), file);
        return 0;
    }
    cJSON *m = cJSON_Parse(text);
    free(text);
    int ok = 0;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(m, "path");
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(m, b->firefox ? "allowed_extensions" : "allowed_origins");
    char expected[128];
    snprintf(expected, sizeof(expected), b->firefox ? "%s" : "chrome-extension://%s/",
             b->firefox ? NB_FIREFOX_ADDON_ID : NB_CHROME_EXTENSION_ID);
    int allows = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, allowed) allows |= cJSON_IsString(item) && strcmp(item->valuestring, expected) == 0;
    if (m == NULL)
        snprintf(what, what_len, "%s: %s %s", b->name, say(d, "manifest geçerli JSON değil:", "manifest is not valid JSON:"), file);
    else if (!cJSON_IsString(name) || strcmp(name->valuestring, HOST_NAME) != 0)
        snprintf(what, what_len, "%s: %s", b->name, say(d, "manifest'te ad yanlış", "wrong name in the manifest"));
    else if (!cJSON_IsString(path) || path->valuestring[0] != '/')
        snprintf(what, what_len, "%s: %s", b->name, say(d, "manifest'te program yolu yok", "no host path in the manifest"));
    else if (access(path->valuestring, X_OK) != 0)
        snprintf(what, what_len, "%s: %s %s", b->name, say(d, "program çalıştırılamıyor:", "host not executable:"), path->valuestring);
    else if (!allows)
        snprintf(what, what_len, "%s: %s %s", b->name, say(d, "manifest eklentimize izin vermiyor; beklenen", "manifest does not allow our extension; expected"), expected);
    else {
        snprintf(what, what_len, "%s: %s (%s)", b->name, file, path->valuestring);
        ok = 1;
    }
    cJSON_Delete(m);
    return ok;
}

static void check_browsers(doctor *d, const char *home)
{
    int found = 0;
    for (size_t i = 0; i < sizeof(browsers) / sizeof(browsers[0]); i++) {
        const browser *b = &browsers[i];
        char dir[PATH_MAX], user_file[PATH_MAX], what[PATH_MAX + 256];
        snprintf(dir, sizeof(dir), "%s/%s", home, b->user_dir);
        char snap_bin[64] = "";
        if (b->snap != NULL)
            snprintf(snap_bin, sizeof(snap_bin), "/snap/bin/%s", b->snap);
        if (b->snap != NULL && exists(snap_bin)) {
            snprintf(what, sizeof(what), "%s: %s", b->name,
                     say(d, "snap paketi; snap tarayıcılar dışarıdaki programı başlatamaz",
                         "a snap; snap browsers cannot start a host outside the snap"));
            report(d, "browser", 0, what, say(d, "tarayıcıyı dağıtımın paketinden kurunuz", "install the browser from your distribution's packages"));
        }
        if (b->flatpak != NULL) {
            char fp_user[PATH_MAX], fp_sys[PATH_MAX];
            snprintf(fp_user, sizeof(fp_user), "%s/.local/share/flatpak/app/%s", home, b->flatpak);
            snprintf(fp_sys, sizeof(fp_sys), "/var/lib/flatpak/app/%s", b->flatpak);
            if (exists(fp_user) || exists(fp_sys)) {
                snprintf(what, sizeof(what), "%s: %s", b->name,
                         say(d, "flatpak; korumalı alan dışarıdaki programı başlatamaz",
                             "a flatpak; its sandbox cannot start a host outside it"));
                report(d, "browser", 0, what, say(d, "tarayıcıyı dağıtımın paketinden kurunuz", "install the browser from your distribution's packages"));
            }
        }
        if (!exists(dir))
            continue;
        found++;
        snprintf(user_file, sizeof(user_file), "%s/%s/%s.json", home, b->user_hosts, HOST_NAME);
        char system_file[PATH_MAX] = "";
        if (b->system_hosts != NULL)
            snprintf(system_file, sizeof(system_file), "%s/%s.json", b->system_hosts, HOST_NAME);
        const char *file = exists(user_file) || system_file[0] == '\0' || !exists(system_file) ? user_file : system_file;
        int ok = check_manifest(d, b, file, what, sizeof(what));
        report(d, "manifest", ok, what, "sh installer/install.sh --user");
    }
    if (found == 0)
        report(d, "browser", 0, say(d, "desteklenen tarayıcı bulunamadı", "no supported browser found"),
               say(d, "Firefox ya da Chromium kurunuz", "install Firefox or Chromium"));
}

static void check_pcsc(doctor *d, const nb_backend *backend)
{
    nb_context ctx;
    char what[4200];
    if (backend->establish(backend->self, &ctx) != NB_SCARD_S_SUCCESS) {
        report(d, "pcscd", 0, say(d, "akıllı kart hizmetine (pcscd) ulaşılamıyor", "the smart card service (pcscd) cannot be reached"),
               "sudo apt-get install pcscd && sudo systemctl start pcscd.socket");
        return;
    }
    report(d, "pcscd", 1, say(d, "akıllı kart hizmeti çalışıyor", "the smart card service runs"), NULL);
    char names[4096];
    uint32_t rv = nb_read_reader_names(backend, ctx, names, sizeof(names));
    if (rv != NB_SCARD_S_SUCCESS || names[0] == '\0') {
        report(d, "reader", 0, say(d, "kart okuyucu yok", "no card reader"), say(d, "kart okuyucunuzu takınız", "connect your card reader"));
    } else {
        for (const char *p = names; *p != '\0'; p += strlen(p) + 1) {
            nb_reader_state st = {.reader = p, .current_state = NB_STATE_UNAWARE};
            int card = backend->get_status_change(backend->self, ctx, 0, &st, 1) == NB_SCARD_S_SUCCESS &&
                       (st.event_state & NB_STATE_PRESENT);
            snprintf(what, sizeof(what), "%s: %s", p, card ? say(d, "kart takılı", "card present") : say(d, "kart yok", "no card"));
            report(d, "reader", 1, what, NULL);
        }
    }
    backend->release(backend->self, ctx);
}

static void check_trust(doctor *d, const nb_config *config)
{
    const char *dirs[] = {NB_TRUST_SYSTEM_DIR, config != NULL ? config->trust_dir : NULL};
    nb_trust_store *store = nb_trust_load(dirs, 2);
    size_t n = nb_trust_count(store);
    nb_trust_free(store);
    char what[256];
    snprintf(what, sizeof(what), "%zu %s", n, say(d, "Kamu SM anahtarı güvenilir", "authority key(s) trusted"));
    report(d, "trust", n > 0, what, say(d, "nesbridge'i paketinden yeniden kurunuz (anahtar " NB_TRUST_SYSTEM_DIR " içine gelir)",
                                       "reinstall nesbridge from its package (the key goes to " NB_TRUST_SYSTEM_DIR ")"));
}

int nb_doctor_run(int json, const char *self_path, const nb_config *config, const nb_backend *backend)
{
    doctor d = {0};
    const char *all = getenv("LC_ALL"), *lang_env = getenv("LANG");
    const char *lang = all != NULL && all[0] != '\0' ? all : lang_env != NULL ? lang_env : "";
    d.english = strncmp(lang, "tr", 2) != 0;
    d.json = json;
    if (json) {
        d.report = cJSON_CreateObject();
        cJSON_AddArrayToObject(d.report, "checks");
    }
    char what[PATH_MAX + 64];
    snprintf(what, sizeof(what), "%s %s", say(&d, "program:", "host:"), self_path);
    report(&d, "host", access(self_path, X_OK) == 0, what, "make");
    const char *home = getenv("HOME");
    if (home != NULL)
        check_browsers(&d, home);
    check_pcsc(&d, backend);
    check_trust(&d, config);
    if (json) {
        cJSON_AddBoolToObject(d.report, "ok", d.problems == 0);
        char *text = cJSON_Print(d.report);
        puts(text);
        free(text);
        cJSON_Delete(d.report);
    } else {
        printf("%s\n", d.problems == 0 ? say(&d, "Her şey yerinde.", "Everything is in place.")
                                       : say(&d, "Sorunlar var; yukarıdaki çözümleri uygulayınız.", "There are problems; apply the fixes above."));
    }
    return d.problems == 0 ? 0 : 1;
}
