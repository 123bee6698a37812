/* SPDX-License-Identifier: Apache-2.0 */
#include "caller.h"

#include <string.h>

#define CHROME_PREFIX "chrome-extension://"

static int is_chrome_caller(const char *arg, int *ours)
{
    size_t prefix_len = sizeof(CHROME_PREFIX) - 1;
    if (strncmp(arg, CHROME_PREFIX, prefix_len) != 0)
        return 0;
    const char *id = arg + prefix_len;
    const char *ours_id = NB_CHROME_EXTENSION_ID;
    size_t id_len = strlen(ours_id);
    *ours = strncmp(id, ours_id, id_len) == 0 && strcmp(id + id_len, "/") == 0;
    return 1;
}

/* Firefox add-on ids are "name@domain" or a braced UUID. */
static int looks_like_addon_id(const char *arg)
{
    size_t len = strlen(arg);
    if (len == 0 || len > 255)
        return 0;
    return strchr(arg, '@') != NULL || (arg[0] == '{' && arg[len - 1] == '}');
}

nb_caller_kind nb_caller_check(int argc, char *const argv[])
{
    int ours = 0;
    if (argc == 2 || (argc == 3 && strncmp(argv[2], "--parent-window=", 16) == 0)) {
        if (is_chrome_caller(argv[1], &ours))
            return ours ? NB_CALLER_ALLOWED : NB_CALLER_REFUSED;
        return NB_CALLER_NOT_BROWSER;
    }
    if (argc == 3 && argv[1][0] != '-' && looks_like_addon_id(argv[2]))
        return strcmp(argv[2], NB_FIREFOX_ADDON_ID) == 0 ? NB_CALLER_ALLOWED : NB_CALLER_REFUSED;
    return NB_CALLER_NOT_BROWSER;
}
