/* SPDX-License-Identifier: Apache-2.0 */
/* Session-bus questions for doctor through GDBus, loaded with dlopen (see
 * doctor_dbus.h for why). The few GLib calls used are declared here by
 * their stable ABI (GLib 2.x never changes them), so building needs no GLib
 * headers. */
#include "doctor_dbus.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* GLib's public GError. */
typedef struct {
    uint32_t domain;
    int code;
    char *message;
} g_error;

/* GDBusConnectionFlags: AUTHENTICATION_CLIENT | MESSAGE_BUS_CONNECTION. */
#define CONNECTION_FLAGS ((1 << 0) | (1 << 3))

struct nb_dbus {
    void *(*new_for_address_sync)(const char *address, int flags, void *observer, void *cancellable, g_error **error);
    void *(*call_sync)(void *conn, const char *dest, const char *path, const char *iface, const char *method,
                       void *params, const char *reply_type, int flags, int timeout_ms, void *cancellable,
                       g_error **error);
    void *(*new_string)(const char *s);
    void *(*new_tuple)(void *const *children, size_t n);
    void *(*child)(void *v, size_t i);
    size_t (*n_children)(void *v);
    const char *(*get_string)(void *v, size_t *len);
    void *(*get_variant)(void *v);
    const char *(*type_string)(void *v);
    uint32_t (*get_uint32)(void *v);
    int (*get_boolean)(void *v);
    void *(*lookup_value)(void *dict, const char *key, const char *type);
    void (*variant_unref)(void *v);
    void (*error_free)(g_error *e);
    char *(*remote_error)(const g_error *e);
    void (*g_free)(void *p);
    void *(*cancellable_new)(void);
    void (*cancellable_cancel)(void *c);
    void (*object_unref)(void *o);

    void *conn;
    void *cancellable;
    /* The deadline: a thread cancels every pending call when it passes. */
    struct timespec deadline;
    pthread_t timer;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int timer_running;
    int done;
    char error[512];
};

#define LOAD(field, name)                                                                                              \
    do {                                                                                                               \
        void *sym = dlsym(lib, name);                                                                                  \
        if (sym == NULL)                                                                                               \
            return 0;                                                                                                  \
        memcpy(&bus->field, &sym, sizeof(sym));                                                                        \
    } while (0)

static int load(nb_dbus *bus, void *lib)
{
    LOAD(new_for_address_sync, "g_dbus_connection_new_for_address_sync");
    LOAD(call_sync, "g_dbus_connection_call_sync");
    LOAD(new_string, "g_variant_new_string");
    LOAD(new_tuple, "g_variant_new_tuple");
    LOAD(child, "g_variant_get_child_value");
    LOAD(n_children, "g_variant_n_children");
    LOAD(get_string, "g_variant_get_string");
    LOAD(get_variant, "g_variant_get_variant");
    LOAD(type_string, "g_variant_get_type_string");
    LOAD(get_uint32, "g_variant_get_uint32");
    LOAD(get_boolean, "g_variant_get_boolean");
    LOAD(lookup_value, "g_variant_lookup_value");
    LOAD(variant_unref, "g_variant_unref");
    LOAD(error_free, "g_error_free");
    LOAD(remote_error, "g_dbus_error_get_remote_error");
    LOAD(g_free, "g_free");
    LOAD(cancellable_new, "g_cancellable_new");
    LOAD(cancellable_cancel, "g_cancellable_cancel");
    LOAD(object_unref, "g_object_unref");
    return 1;
}

static void *timer_main(void *arg)
{
    nb_dbus *bus = arg;
    pthread_mutex_lock(&bus->lock);
    while (!bus->done) {
        if (pthread_cond_timedwait(&bus->wake, &bus->lock, &bus->deadline) == ETIMEDOUT) {
            bus->cancellable_cancel(bus->cancellable);
            break;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    return NULL;
}

/* What is left of the deadline, in ms (at least 1: GDBus reads 0 as its
 * own default of 25 s). */
static int remaining_ms(const nb_dbus *bus)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(bus->deadline.tv_sec - now.tv_sec) * 1000 + (bus->deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms < 1 ? 1 : ms > 60000 ? 60000 : (int)ms;
}

static void keep_error(nb_dbus *bus, g_error *e)
{
    snprintf(bus->error, sizeof(bus->error), "%s", e != NULL && e->message != NULL ? e->message : "?");
}

/* A D-Bus address holds a path with bytes outside [-0-9A-Za-z_/.] escaped. */
static int address_for_path(const char *path, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "unix:path=");
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        int plain = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    *p == '-' || *p == '_' || *p == '/' || *p == '.';
        if (n + 4 >= len)
            return 0;
        n += (size_t)snprintf(out + n, len - n, plain ? "%c" : "%%%02x", *p);
    }
    return 1;
}

nb_dbus *nb_dbus_open(int deadline_ms, nb_dbus_status *status, char *why, size_t why_len)
{
    char address[4096 + 64];
    const char *env = getenv("DBUS_SESSION_BUS_ADDRESS");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    *status = NB_DBUS_NO_BUS;
    if (env != NULL && env[0] != '\0') {
        snprintf(address, sizeof(address), "%s", env);
    } else {
        char path[4096];
        if (runtime == NULL || runtime[0] != '/' ||
            (size_t)snprintf(path, sizeof(path), "%s/bus", runtime) >= sizeof(path) || stat(path, &st) != 0 ||
            !S_ISSOCK(st.st_mode) || !address_for_path(path, address, sizeof(address))) {
            snprintf(why, why_len, "DBUS_SESSION_BUS_ADDRESS");
            return NULL;
        }
    }
    /* Once loaded, GLib stays: it cannot be unloaded safely. */
    void *lib = dlopen("libgio-2.0.so.0", RTLD_NOW | RTLD_LOCAL);
    nb_dbus *bus = lib != NULL ? calloc(1, sizeof(*bus)) : NULL;
    if (bus == NULL || !load(bus, lib)) {
        *status = NB_DBUS_NO_LIBRARY;
        snprintf(why, why_len, "libgio-2.0.so.0");
        free(bus);
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&bus->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&bus->lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &bus->deadline);
    bus->deadline.tv_sec += deadline_ms / 1000;
    bus->deadline.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
    if (bus->deadline.tv_nsec >= 1000000000L) {
        bus->deadline.tv_sec++;
        bus->deadline.tv_nsec -= 1000000000L;
    }
    bus->cancellable = bus->cancellable_new();
    bus->timer_running = bus->cancellable != NULL && pthread_create(&bus->timer, NULL, timer_main, bus) == 0;
    g_error *e = NULL;
    /* Without the timer nothing would bound the connection: give up. */
    if (bus->timer_running)
        bus->conn = bus->new_for_address_sync(address, CONNECTION_FLAGS, NULL, bus->cancellable, &e);
    if (bus->conn == NULL) {
        snprintf(why, why_len, "%s", e != NULL && e->message != NULL ? e->message : address);
        if (e != NULL)
            bus->error_free(e);
        nb_dbus_close(bus);
        return NULL;
    }
    *status = NB_DBUS_OK;
    return bus;
}

void nb_dbus_close(nb_dbus *bus)
{
    if (bus == NULL)
        return;
    if (bus->timer_running) {
        pthread_mutex_lock(&bus->lock);
        bus->done = 1;
        pthread_cond_signal(&bus->wake);
        pthread_mutex_unlock(&bus->lock);
        pthread_join(bus->timer, NULL);
    }
    if (bus->conn != NULL)
        bus->object_unref(bus->conn);
    if (bus->cancellable != NULL)
        bus->object_unref(bus->cancellable);
    pthread_cond_destroy(&bus->wake);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

const char *nb_dbus_error(const nb_dbus *bus)
{
    return bus->error;
}

/* One method call with string arguments; the reply is checked against
 * reply_type by GDBus. NULL on failure, with the D-Bus error's name in
 * remote (empty when it had none). */
static void *call(nb_dbus *bus, const char *dest, const char *path, const char *iface, const char *method,
                  const char *const *args, size_t nargs, const char *reply_type, char *remote, size_t remote_len)
{
    void *children[4];
    for (size_t i = 0; i < nargs && i < 4; i++)
        children[i] = bus->new_string(args[i]);
    g_error *e = NULL;
    void *reply = bus->call_sync(bus->conn, dest, path, iface, method, bus->new_tuple(children, nargs < 4 ? nargs : 4),
                                 reply_type, 0, remaining_ms(bus), bus->cancellable, &e);
    remote[0] = '\0';
    if (reply == NULL) {
        keep_error(bus, e);
        char *name = e != NULL ? bus->remote_error(e) : NULL;
        if (name != NULL)
            snprintf(remote, remote_len, "%s", name);
        bus->g_free(name);
        if (e != NULL)
            bus->error_free(e);
    }
    return reply;
}

#define DBUS_DEST "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus"

int nb_dbus_name(nb_dbus *bus, const char *name)
{
    char remote[256];
    const char *args[] = {name};
    void *reply = call(bus, DBUS_DEST, "NameHasOwner", args, 1, "(b)", remote, sizeof(remote));
    if (reply == NULL)
        return -1;
    void *b = bus->child(reply, 0);
    int owned = bus->get_boolean(b) != 0;
    bus->variant_unref(b);
    bus->variant_unref(reply);
    if (owned)
        return 1;
    reply = call(bus, DBUS_DEST, "ListActivatableNames", NULL, 0, "(as)", remote, sizeof(remote));
    if (reply == NULL)
        return -1;
    void *names = bus->child(reply, 0);
    int found = 0;
    size_t n = bus->n_children(names);
    for (size_t i = 0; i < n && !found; i++) {
        void *s = bus->child(names, i);
        found = strcmp(bus->get_string(s, NULL), name) == 0;
        bus->variant_unref(s);
    }
    bus->variant_unref(names);
    bus->variant_unref(reply);
    return found ? 2 : 0;
}

/* The errors that mean "nobody offers this", as opposed to a failure. */
static int means_absent(const char *remote)
{
    static const char *const absent[] = {
        "org.freedesktop.DBus.Error.ServiceUnknown",    "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.UnknownObject",     "org.freedesktop.DBus.Error.UnknownInterface",
        "org.freedesktop.DBus.Error.UnknownProperty",   "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.InvalidArgs",
    };
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        if (strcmp(remote, absent[i]) == 0)
            return 1;
    return 0;
}

int nb_dbus_u32_property(nb_dbus *bus, const char *dest, const char *path, const char *iface, const char *prop,
                         uint32_t *out)
{
    char remote[256];
    const char *args[] = {iface, prop};
    void *reply = call(bus, dest, path, "org.freedesktop.DBus.Properties", "Get", args, 2, "(v)", remote, sizeof(remote));
    if (reply == NULL)
        return means_absent(remote) ? 0 : -1;
    void *boxed = bus->child(reply, 0);
    void *value = bus->get_variant(boxed);
    int ok = strcmp(bus->type_string(value), "u") == 0;
    if (ok)
        *out = bus->get_uint32(value);
    else
        snprintf(bus->error, sizeof(bus->error), "%s.%s: %s", iface, prop, bus->type_string(value));
    bus->variant_unref(value);
    bus->variant_unref(boxed);
    bus->variant_unref(reply);
    return ok ? 1 : -1;
}

int nb_dbus_permission(nb_dbus *bus, const char *table, const char *id, const char *app, char *out, size_t out_len)
{
    char remote[256];
    const char *args[] = {table, id};
    void *reply = call(bus, "org.freedesktop.impl.portal.PermissionStore", "/org/freedesktop/impl/portal/PermissionStore",
                       "org.freedesktop.impl.portal.PermissionStore", "Lookup", args, 2, "(a{sas}v)", remote,
                       sizeof(remote));
    if (reply == NULL)
        return strcmp(remote, "org.freedesktop.portal.Error.NotFound") == 0 ? 0 : -1;
    void *apps = bus->child(reply, 0);
    void *perms = bus->lookup_value(apps, app, "as");
    int found = perms != NULL;
    size_t used = 0;
    out[0] = '\0';
    size_t n = found ? bus->n_children(perms) : 0;
    for (size_t i = 0; i < n; i++) {
        void *s = bus->child(perms, i);
        if (i > 0 && used + 1 < out_len)
            out[used++] = ',';
        /* The store's strings reach the report: plain words only. */
        for (const char *p = bus->get_string(s, NULL); *p != '\0' && used + 1 < out_len; p++) {
            int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        *p == '-' || *p == '_';
            out[used++] = plain ? *p : '?';
        }
        out[used] = '\0';
        bus->variant_unref(s);
    }
    if (perms != NULL)
        bus->variant_unref(perms);
    bus->variant_unref(apps);
    bus->variant_unref(reply);
    return found;
}
