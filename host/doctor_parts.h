/* SPDX-License-Identifier: Apache-2.0 */
/* What the parts of `nesbridge-host doctor` share: doctor.c holds the
 * report and the checks common to every system; doctor_unix.c and
 * doctor_win.c find each browser's manifest where that system keeps it. */
#ifndef NB_DOCTOR_PARTS_H
#define NB_DOCTOR_PARTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define NB_HOST_NAME "tr.gov.kamusm.nesbridge"

typedef struct {
    int english;
    int json;
    int problems;
    cJSON *report;
} doctor;

/* The Turkish or the English text, by locale. */
const char *nb_doctor_say(const doctor *d, const char *tr, const char *en);

/* One line of the report: ok, or a problem with the command that fixes it. */
void nb_doctor_report(doctor *d, const char *area, int ok, const char *what, const char *fix);

/* Checks one manifest file (firefox: allowed_extensions, else
 * allowed_origins); writes what was found; returns 1 when good. */
int nb_doctor_check_manifest(doctor *d, const char *browser_name, int firefox, const char *file, char *what,
                             size_t what_len);

/* Per system: each installed browser's manifest, snap and flatpak. */
void nb_doctor_check_browsers(doctor *d);

/* Linux: a browser installed as a snap or a Flatpak (doctor_unix.c finds
 * them; doctor_sandbox.c checks how each can start the host). */
typedef struct {
    const char *name;     /* "Firefox" */
    int firefox;          /* Firefox family (allowed_extensions, prefs.js) */
    const char *user_dir; /* the browser's directory in its sandbox's home, e.g. ".mozilla" */
    int flatpak;          /* 0: a snap */
    const char *id;       /* snap name or Flatpak app id */
    const char *app_home; /* the home the sandbox gives it: ~/snap/<name>/common, ~/.var/app/<id> */
    const char *app_dir;  /* Flatpak: <installation>/app/<id>, for its metadata; else NULL */
    const char *installation; /* Flatpak: the installation holding it (for overrides); else NULL */
} nb_sandboxed;

/* For each: the portal, the proxy or neither; the manifest where that one
 * looks; the permission store; the browser's version and preferences. */
void nb_doctor_check_sandboxed(doctor *d, const nb_sandboxed *list, size_t n, const char *home);

/* Per system: how to install the host, and to start the smart card service. */
extern const char *const nb_doctor_host_fix;
extern const char *const nb_doctor_pcsc_fix;
extern const char *const nb_doctor_pcsc_service; /* its name, for the report */
/* Per system: how to reinstall so that the authority's key comes back. */
const char *nb_doctor_trust_fix(const doctor *d);

#endif
