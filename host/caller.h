/* SPDX-License-Identifier: Apache-2.0 */
/* Who started the host: browsers pass the calling extension in argv. */
#ifndef NB_CALLER_H
#define NB_CALLER_H

#include <stddef.h>

/* Fixed by the "key" in extension/manifest.json (see docs/protocol.md). */
#define NB_CHROME_EXTENSION_ID "ffpjpdkbfkaajpicelpogecbmppnpjkp"
#define NB_FIREFOX_ADDON_ID "nesbridge@kamusm.gov.tr"

typedef enum {
    NB_CALLER_ALLOWED,    /* our extension, from Chromium or Firefox */
    NB_CALLER_REFUSED,    /* a browser's caller form, but another extension */
    NB_CALLER_NOT_BROWSER /* not a form any browser uses */
} nb_caller_kind;

/* Classifies argv (argv[0] is the program). Chromium-family browsers pass
 * "chrome-extension://ID/" (on Windows also "--parent-window=N");
 * Firefox passes the manifest path, then the add-on id. */
nb_caller_kind nb_caller_check(int argc, char *const argv[]);

#endif
