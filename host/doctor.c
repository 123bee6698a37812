/* SPDX-License-Identifier: Apache-2.0 */
#include "doctor.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "caller.h"
#include "crypto_load.h"
#include "doctor_parts.h"
#include "errors.h"
#include "platform.h"
#include "readers.h"
#include "trust.h"

const char *nb_doctor_say(const doctor *d, const char *tr, const char *en)
{
    return d->english ? en : tr;
}

/* One line of the report: ok or a problem with the command that fixes it. */
void nb_doctor_report(doctor *d, const char *area, int ok, const char *what, const char *fix)
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
    printf("[%s] %-16s %s\n", ok ? " ok " : nb_doctor_say(d, "SORUN", "FAIL"), area, what);
    if (!ok && fix != NULL)
        printf("       %s %s\n", nb_doctor_say(d, "çözüm:", "fix:"), fix);
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

/* Checks one manifest file; returns 1 when good. */
int nb_doctor_check_manifest(doctor *d, const char *browser_name, int firefox, const char *file, char *what,
                             size_t what_len)
{
    char *text = read_small(file);
    if (text == NULL) {
        snprintf(what, what_len, "%s: %s %s", browser_name, nb_doctor_say(d, "manifest yok:", "no manifest:"), file);
        return 0;
    }
    cJSON *m = cJSON_Parse(text);
    free(text);
    int ok = 0;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(m, "path");
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(m, firefox ? "allowed_extensions" : "allowed_origins");
    char host[4096];
    char expected[128];
    snprintf(expected, sizeof(expected), firefox ? "%s" : "chrome-extension://%s/",
             firefox ? NB_FIREFOX_ADDON_ID : NB_CHROME_EXTENSION_ID);
    int allows = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, allowed) allows |= cJSON_IsString(item) && strcmp(item->valuestring, expected) == 0;
    if (m == NULL)
        snprintf(what, what_len, "%s: %s %s", browser_name, nb_doctor_say(d, "manifest geçerli JSON değil:", "manifest is not valid JSON:"), file);
    else if (!cJSON_IsString(name) || strcmp(name->valuestring, NB_HOST_NAME) != 0)
        snprintf(what, what_len, "%s: %s", browser_name, nb_doctor_say(d, "manifest'te ad yanlış", "wrong name in the manifest"));
    else if (!cJSON_IsString(path) || !nb_manifest_host_path(file, path->valuestring, host, sizeof(host)))
        snprintf(what, what_len, "%s: %s", browser_name, nb_doctor_say(d, "manifest'te program yolu yok", "no host path in the manifest"));
    else if (!nb_is_executable(host))
        snprintf(what, what_len, "%s: %s %s", browser_name, nb_doctor_say(d, "program çalıştırılamıyor:", "host not executable:"), host);
    else if (!allows)
        snprintf(what, what_len, "%s: %s %s", browser_name, nb_doctor_say(d, "manifest eklentimize izin vermiyor; beklenen", "manifest does not allow our extension; expected"), expected);
    else {
        snprintf(what, what_len, "%s: %s (%s)", browser_name, file, host);
        ok = 1;
    }
    cJSON_Delete(m);
    return ok;
}

static void check_pcsc(doctor *d, const nb_backend *backend)
{
    nb_context ctx;
    char what[4200];
    if (backend->establish(backend->self, &ctx) != NB_SCARD_S_SUCCESS) {
        if (d->english)
            snprintf(what, sizeof(what), "the smart card service (%s) cannot be reached", nb_doctor_pcsc_service);
        else
            snprintf(what, sizeof(what), "akıllı kart hizmetine (%s) ulaşılamıyor", nb_doctor_pcsc_service);
        nb_doctor_report(d, "pcscd", 0, what, nb_doctor_pcsc_fix);
        return;
    }
    nb_doctor_report(d, "pcscd", 1, nb_doctor_say(d, "akıllı kart hizmeti çalışıyor", "the smart card service runs"), NULL);
    char names[4096];
    uint32_t rv = nb_read_reader_names(backend, ctx, names, sizeof(names));
    if (rv != NB_SCARD_S_SUCCESS || names[0] == '\0') {
        nb_doctor_report(d, "reader", 0, nb_doctor_say(d, "kart okuyucu yok", "no card reader"), nb_doctor_say(d, "kart okuyucunuzu takınız", "connect your card reader"));
    } else {
        for (const char *p = names; *p != '\0'; p += strlen(p) + 1) {
            nb_reader_state st = {.reader = p, .current_state = NB_STATE_UNAWARE};
            int card = backend->get_status_change(backend->self, ctx, 0, &st, 1) == NB_SCARD_S_SUCCESS &&
                       (st.event_state & NB_STATE_PRESENT);
            snprintf(what, sizeof(what), "%s: %s", p, card ? nb_doctor_say(d, "kart takılı", "card present") : nb_doctor_say(d, "kart yok", "no card"));
            nb_doctor_report(d, "reader", 1, what, NULL);
        }
    }
    backend->release(backend->self, ctx);
}

/* Why a trust anchor or the configuration was refused, in the reader's
 * language. */
static const char *anchor_reason(const doctor *d, nb_anchor_problem problem)
{
    switch (problem) {
    case NB_ANCHOR_LINK:
        return nb_doctor_say(d, "sembolik bağlantı; izlenmez", "a symbolic link, never followed");
    case NB_ANCHOR_WRONG_TYPE:
        return nb_doctor_say(d, "beklenen türde değil (dosya ya da klasör)", "not the expected kind (file or directory)");
    case NB_ANCHOR_OWNER:
        return nb_doctor_say(d, "başka bir kullanıcıya ait (yalnızca root ya da bu kullanıcı geçerli)",
                             "owned by another user (only root or this user count)");
    case NB_ANCHOR_WRITABLE:
        return nb_doctor_say(d, "sahibinden başkaları yazabiliyor", "others than its owner may write it");
    case NB_ANCHOR_PARENT_OWNER:
        return nb_doctor_say(d, "üstündeki bir klasör başka bir kullanıcıya ait", "a directory above it is owned by another user");
    case NB_ANCHOR_PARENT_WRITABLE:
        return nb_doctor_say(d, "üstündeki bir klasöre başkaları yazabiliyor", "others may write a directory above it");
    case NB_ANCHOR_UNREADABLE:
        return nb_doctor_say(d, "açılamıyor ya da incelenemiyor", "cannot be opened or examined");
    case NB_ANCHOR_BAD_KEY:
        return nb_doctor_say(d, "P-256 ya da RSA>=3072 açık anahtarı değil, ya da anahtar sayısı çok",
                             "not a P-256 or RSA>=3072 public key, or too many keys");
    case NB_ANCHOR_OK:
    case NB_ANCHOR_MISSING:
        break;
    }
    return nb_doctor_say(d, "reddedildi", "refused");
}

/* One report line for a refused file or directory: what, why, and where
 * the rule failed when that is a directory above it. */
static void report_refused(doctor *d, const char *area, const char *label, const char *path, const nb_anchor_why *why)
{
    char what[2 * 4096 + 512];
    if (why->where[0] != '\0' && strcmp(why->where, path) != 0)
        snprintf(what, sizeof(what), "%s %s: %s (%s)", label, path, anchor_reason(d, why->problem), why->where);
    else
        snprintf(what, sizeof(what), "%s %s: %s", label, path, anchor_reason(d, why->problem));
    const char *fix =
        why->problem == NB_ANCHOR_BAD_KEY
            ? nb_doctor_say(d, "dosyayı kaldırınız ya da Kamu SM'nin açık anahtarıyla değiştiriniz",
                            "remove the file or replace it with the authority's public key")
            : nb_doctor_say(d, "dosyayı ve üstündeki klasörleri root'a (ya da size) ait, yalnızca sahibinin yazabileceği kılınız; bağlantı yerine dosyanın kendisini koyunuz",
                            "make the file and every directory above it owned by root (or you) and writable by the owner only; put the file itself, not a link");
    nb_doctor_report(d, area, 0, what, fix);
}

typedef struct {
    doctor *d;
    char lines[NB_TRUST_MAX_KEYS][4096];
    nb_anchor_why whys[NB_TRUST_MAX_KEYS];
    size_t count;
} refused_list;

static void note_refused(void *arg, const char *path, const nb_anchor_why *why)
{
    refused_list *list = arg;
    if (list->count == NB_TRUST_MAX_KEYS)
        return;
    snprintf(list->lines[list->count], sizeof(list->lines[0]), "%s", path);
    list->whys[list->count++] = *why;
}

static void check_trust(doctor *d, const nb_config *config)
{
    const char *dirs[] = {nb_system_trust_dir(), config != NULL ? config->trust_dir : NULL};
    refused_list *refused = calloc(1, sizeof(*refused));
    const nb_crypto_api *crypto = nb_crypto_loaded();
    nb_trust_store *store = nb_trust_load_reporting(crypto, dirs, 2, refused != NULL ? note_refused : NULL, refused);
    size_t n = nb_trust_count(store);
    nb_trust_free(store);
    if (crypto == NULL) {
        /* No key can be read, so no signed script can be checked; the
         * files' own rules were still checked, below. */
        char what[640];
        snprintf(what, sizeof(what), "%s (%s)",
                 nb_doctor_say(d, "libcrypto yüklenemiyor; imzalı betik doğrulanamaz", "libcrypto cannot be loaded; no signed script can be checked"),
                 nb_crypto_load_error());
        nb_doctor_report(d, "trust", 0, what,
                         nb_doctor_say(d, "OpenSSL 3 kitaplığını kurunuz (Debian: libssl3)", "install the OpenSSL 3 library (Debian: libssl3)"));
    } else {
        char what[256];
        snprintf(what, sizeof(what), "%zu %s", n, nb_doctor_say(d, "Kamu SM anahtarı güvenilir", "authority key(s) trusted"));
        nb_doctor_report(d, "trust", n > 0, what, nb_doctor_trust_fix(d));
    }
    /* Each key file or directory that was refused, after the count. */
    for (size_t i = 0; refused != NULL && i < refused->count; i++)
        report_refused(d, "trust", nb_doctor_say(d, "yok sayıldı:", "ignored:"), refused->lines[i], &refused->whys[i]);
    free(refused);
}

/* The configuration file, when it was refused: the host runs with the
 * defaults then (and says so on stderr). */
static void check_config(doctor *d)
{
    const char *path = nb_config_path();
    nb_config cfg;
    nb_anchor_why why;
    char err[4096 + 256] = "";
    if (nb_config_load_why(&cfg, path, err, sizeof(err), &why) == 0) {
        nb_config_free(&cfg);
        return;
    }
    if (why.problem != NB_ANCHOR_OK) {
        report_refused(d, "config", nb_doctor_say(d, "yapılandırma yok sayıldı:", "configuration ignored:"), path, &why);
        return;
    }
    char what[sizeof(err) + 64];
    snprintf(what, sizeof(what), "%s %s", nb_doctor_say(d, "yapılandırma yok sayıldı:", "configuration ignored:"), err);
    nb_doctor_report(d, "config", 0, what,
                     nb_doctor_say(d, "dosyadaki satırı düzeltiniz (docs/protocol.md, Configuration file)",
                                   "fix that line of the file (docs/protocol.md, Configuration file)"));
}

int nb_doctor_run(int json, const char *self_path, const nb_config *config, const nb_backend *backend)
{
    doctor d = {0};
    const char *all = getenv("LC_ALL"), *lang_env = getenv("LANG");
    const char *lang = all != NULL && all[0] != '\0' ? all : lang_env != NULL ? lang_env : "";
    d.english = !(lang[0] == 't' && lang[1] == 'r');
    d.json = json;
    if (json) {
        d.report = cJSON_CreateObject();
        cJSON_AddArrayToObject(d.report, "checks");
    }
    char what[PATH_MAX + 64];
    snprintf(what, sizeof(what), "%s %s", nb_doctor_say(&d, "program:", "host:"), self_path);
    nb_doctor_report(&d, "host", nb_is_executable(self_path), what, nb_doctor_host_fix);
    nb_doctor_check_browsers(&d);
    check_pcsc(&d, backend);
    check_config(&d);
    check_trust(&d, config);
    if (json) {
        cJSON_AddBoolToObject(d.report, "ok", d.problems == 0);
        char *text = cJSON_Print(d.report);
        puts(text);
        free(text);
        cJSON_Delete(d.report);
    } else {
        printf("%s\n", d.problems == 0 ? nb_doctor_say(&d, "Her şey yerinde.", "Everything is in place.")
                                       : nb_doctor_say(&d, "Sorunlar var; yukarıdaki çözümleri uygulayınız.", "There are problems; apply the fixes above."));
    }
    return d.problems == 0 ? 0 : 1;
}
