/* SPDX-License-Identifier: Apache-2.0 */
/* The few session-bus questions `doctor` asks about sandboxed browsers,
 * through GDBus (GLib's gio). gio is loaded with dlopen only when doctor
 * asks, so the relay path never links or loads it; wherever the portal or
 * the proxy runs, gio is there (both are built on it). Every call of one
 * connection shares one deadline: nothing here waits longer. */
#ifndef NB_DOCTOR_DBUS_H
#define NB_DOCTOR_DBUS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nb_dbus nb_dbus;

typedef enum {
    NB_DBUS_OK,
    NB_DBUS_NO_LIBRARY, /* libgio-2.0 cannot be loaded */
    NB_DBUS_NO_BUS,     /* no session bus address, or it does not answer */
} nb_dbus_status;

/* Connects to the session bus: $DBUS_SESSION_BUS_ADDRESS, else
 * $XDG_RUNTIME_DIR/bus. NULL with *status and a reason in why. */
nb_dbus *nb_dbus_open(int deadline_ms, nb_dbus_status *status, char *why, size_t why_len);
void nb_dbus_close(nb_dbus *bus);

/* 1: the name has an owner now; 2: the bus can start it (activatable);
 * 0: neither; -1: the bus did not answer. */
int nb_dbus_name(nb_dbus *bus, const char *name);

/* An unsigned 32-bit property: 1 read into *out; 0 the object does not
 * offer that interface or property; -1 the call failed otherwise. */
int nb_dbus_u32_property(nb_dbus *bus, const char *dest, const char *path, const char *iface, const char *prop,
                         uint32_t *out);

/* The permission store's entry of app for (table, id), its strings joined
 * by ','. 1 found; 0 no entry (never asked); -1 the store did not answer. */
int nb_dbus_permission(nb_dbus *bus, const char *table, const char *id, const char *app, char *out, size_t out_len);

/* The last failure's message, for the report. */
const char *nb_dbus_error(const nb_dbus *bus);

#endif
