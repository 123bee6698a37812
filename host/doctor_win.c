/* SPDX-License-Identifier: Apache-2.0 */
/* doctor on Windows: browsers find a native-messaging manifest through a
 * registry key (HKCU first, then HKLM) whose default value is the
 * manifest's path. The MSI writes those keys; this checks them. */
#include <stdio.h>
#include <string.h>

#include <windows.h>

#include "doctor_parts.h"
#include "platform.h"
#include "version.h"

typedef struct {
    const char *name;
    int firefox;            /* firefox family: allowed_extensions */
    const char *hosts_key;  /* under HKCU or HKLM */
    const char *executable; /* its name under App Paths, to see it is installed */
} browser;

static const browser browsers[] = {
    {"Google Chrome", 0, "Software\\Google\\Chrome\\NativeMessagingHosts\\" NB_HOST_NAME, "chrome.exe"},
    {"Microsoft Edge", 0, "Software\\Microsoft\\Edge\\NativeMessagingHosts\\" NB_HOST_NAME, "msedge.exe"},
    {"Firefox", 1, "Software\\Mozilla\\NativeMessagingHosts\\" NB_HOST_NAME, "firefox.exe"},
};

#define APP_PATHS "Software\\Microsoft\\Windows\\CurrentVersion\\App Paths\\"

/* The default value of root\subkey, in the 64-bit view; 1 when found. */
static int read_default(HKEY root, const char *subkey, char *out, DWORD size)
{
    HKEY key;
    if (RegOpenKeyExA(root, subkey, 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &key) != ERROR_SUCCESS)
        return 0;
    DWORD type = 0, len = size - 1;
    LONG rc = RegQueryValueExA(key, NULL, NULL, &type, (BYTE *)out, &len);
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS || (type != REG_SZ && type != REG_EXPAND_SZ))
        return 0;
    out[len < size ? len : size - 1] = '\0';
    return 1;
}

static int installed(const char *executable)
{
    char key[256], value[NB_WIN_PATH_MAX];
    snprintf(key, sizeof(key), APP_PATHS "%s", executable);
    return read_default(HKEY_CURRENT_USER, key, value, sizeof(value)) ||
           read_default(HKEY_LOCAL_MACHINE, key, value, sizeof(value));
}

void nb_doctor_check_browsers(doctor *d)
{
    int found = 0;
    for (size_t i = 0; i < sizeof(browsers) / sizeof(browsers[0]); i++) {
        const browser *b = &browsers[i];
        char file[NB_WIN_PATH_MAX], what[NB_WIN_PATH_MAX + 512];
        const char *where = "HKCU";
        int registered = read_default(HKEY_CURRENT_USER, b->hosts_key, file, sizeof(file));
        if (!registered) {
            where = "HKLM";
            registered = read_default(HKEY_LOCAL_MACHINE, b->hosts_key, file, sizeof(file));
        }
        if (registered) {
            found++;
            int ok = nb_doctor_check_manifest(d, b->name, b->firefox, file, what, sizeof(what));
            size_t used = strlen(what);
            snprintf(what + used, sizeof(what) - used, " [%s]", where);
            nb_doctor_report(d, "manifest", ok, what, nb_doctor_host_fix);
        } else if (installed(b->executable)) {
            found++;
            snprintf(what, sizeof(what), "%s: %s HKCU|HKLM\\%s", b->name,
                     nb_doctor_say(d, "kayıt defterinde anahtar yok:", "no registry key:"), b->hosts_key);
            nb_doctor_report(d, "manifest", 0, what, nb_doctor_host_fix);
        }
    }
    if (found == 0)
        nb_doctor_report(d, "browser", 0, nb_doctor_say(d, "desteklenen tarayıcı bulunamadı", "no supported browser found"),
                         nb_doctor_say(d, "Chrome, Edge ya da Firefox kurunuz", "install Chrome, Edge or Firefox"));
}

const char *const nb_doctor_host_fix = "msiexec /i nesbridge-" NB_HOST_VERSION "-x64.msi";

const char *const nb_doctor_pcsc_service = "SCardSvr";

const char *const nb_doctor_pcsc_fix = "sc start SCardSvr";

const char *nb_doctor_trust_fix(const doctor *d)
{
    return nb_doctor_say(d, "nesbridge'i MSI paketinden yeniden kurunuz (anahtar programın yanındaki trust.d içine gelir)",
                         "reinstall nesbridge from its MSI (the key goes to trust.d beside the program)");
}
