# SPDX-License-Identifier: Apache-2.0
"""Stand-ins for the session services a sandboxed browser uses to start a
native-messaging host, on the test's own session bus: what each publishes
under the names, paths and interfaces of the real one.

  --portal            xdg-desktop-portal with the WebExtensions interface
                      (Ubuntu's; property version = 1), and its permission
                      store (org.freedesktop.impl.portal.PermissionStore)
  --portal-plain      an xdg-desktop-portal without that interface (Debian's,
                      Fedora's), with its permission store
  --store JSON        the permission store's "webextensions" table:
                      {"<host name>": {"<app id>": ["yes"|"no"|"ask"]}}
  --proxy             xdg-native-messaging-proxy (version = 1)

Prints "ready" once every name is owned; runs until killed. Run with
Debian's /usr/bin/python3 (python3-dbus, python3-gi)."""

import json
import os
import sys

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
WEBEXT = "org.freedesktop.portal.WebExtensions"
STORE_NAME = "org.freedesktop.impl.portal.PermissionStore"
STORE_PATH = "/org/freedesktop/impl/portal/PermissionStore"
PROXY_NAME = "org.freedesktop.NativeMessagingProxy"
PROXY_PATH = "/org/freedesktop/nativemessagingproxy"
PROPS = "org.freedesktop.DBus.Properties"


class Error(dbus.exceptions.DBusException):
    def __init__(self, name, message):
        super().__init__(message, name=name)


def no_such(iface):
    # What GDBus (which the real services use) answers for an interface the
    # object does not export.
    return Error("org.freedesktop.DBus.Error.InvalidArgs", "No such interface '%s'" % iface)


def search_path(mode, proxy):
    """The manifest directories of the real portal (web-extensions.c) and
    proxy (xnmp-impl.c), in their order."""
    home = os.environ["HOME"]
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    if mode == "chromium":
        return [os.path.join(config, "google-chrome", "NativeMessagingHosts"),
                os.path.join(config, "chromium", "NativeMessagingHosts"),
                "/etc/opt/chrome/native-messaging-hosts", "/etc/chromium/native-messaging-hosts"]
    dirs = [os.path.join(home, ".mozilla", "native-messaging-hosts")]
    if proxy:
        dirs.append(os.path.join(config, "mozilla", "native-messaging-hosts"))
    return dirs + ["/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"]


def find_manifest(name, mode, proxy):
    for d in search_path(mode, proxy):
        try:
            with open(os.path.join(d, name + ".json"), encoding="utf-8") as f:
                m = json.load(f)
        except (OSError, ValueError):
            continue
        if m.get("name") == name and m.get("type") == "stdio" and str(m.get("path", "")).startswith("/"):
            return json.dumps(m)
    raise Error("org.freedesktop.portal.Error.NotFound", "Could not find native messaging host")


class Portal(dbus.service.Object):
    def __init__(self, bus, webext):
        super().__init__(bus, PORTAL_PATH)
        self.webext = webext
        self.sessions = 0

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface != WEBEXT or not self.webext:
            raise no_such(iface)
        if prop != "version":
            raise Error("org.freedesktop.DBus.Error.InvalidArgs", "No such property '%s'" % prop)
        return dbus.UInt32(1)

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        if iface != WEBEXT or not self.webext:
            raise no_such(iface)
        return {"version": dbus.UInt32(1)}

    @dbus.service.method(WEBEXT, in_signature="a{sv}", out_signature="o", sender_keyword="sender")
    def CreateSession(self, options, sender=None):
        if not self.webext:
            raise Error("org.freedesktop.DBus.Error.UnknownMethod", "No such interface")
        self.sessions += 1
        return dbus.ObjectPath("%s/session/%s/s%d" % (PORTAL_PATH, sender[1:].replace(".", "_"), self.sessions))

    @dbus.service.method(WEBEXT, in_signature="oss", out_signature="s")
    def GetManifest(self, session, name, extension_or_origin):
        if not self.webext:
            raise Error("org.freedesktop.DBus.Error.UnknownMethod", "No such interface")
        return find_manifest(name, "mozilla" if "@" in extension_or_origin else "chromium", False)


class Store(dbus.service.Object):
    def __init__(self, bus, table):
        super().__init__(bus, STORE_PATH)
        self.table = table

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface != STORE_NAME or prop != "version":
            raise no_such(iface)
        return dbus.UInt32(2)

    @dbus.service.method(STORE_NAME, in_signature="ss", out_signature="a{sas}v")
    def Lookup(self, table, id_):
        entry = self.table.get(id_) if table == "webextensions" else None
        if entry is None:
            raise Error("org.freedesktop.portal.Error.NotFound", "No entry for %s" % id_)
        perms = dbus.Dictionary({k: dbus.Array(v, signature="s") for k, v in entry.items()}, signature="sas")
        return perms, dbus.Byte(0)

    @dbus.service.method(STORE_NAME, in_signature="sss", out_signature="")
    def DeletePermission(self, table, id_, app):
        entry = self.table.get(id_) if table == "webextensions" else None
        if entry is None:
            raise Error("org.freedesktop.portal.Error.NotFound", "No entry for %s" % id_)
        entry.pop(app, None)

    @dbus.service.method(STORE_NAME, in_signature="sbssas", out_signature="")
    def SetPermission(self, table, create, id_, app, permissions):
        if table != "webextensions" or (id_ not in self.table and not create):
            raise Error("org.freedesktop.portal.Error.NotFound", "Id %s not found" % id_)
        self.table.setdefault(id_, {})[app] = [str(p) for p in permissions]


class Proxy(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, PROXY_PATH)

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface != PROXY_NAME or prop != "version":
            raise no_such(iface)
        return dbus.UInt32(1)

    @dbus.service.method(PROXY_NAME, in_signature="ssa{sv}", out_signature="s")
    def GetManifest(self, name, mode, options):
        return find_manifest(name, mode, True)


def main(argv):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    keep = []
    table = {}
    if "--store" in argv:
        table = json.loads(argv[argv.index("--store") + 1])
    if "--portal" in argv or "--portal-plain" in argv:
        keep.append(dbus.service.BusName(STORE_NAME, bus))
        keep.append(Store(bus, table))
        keep.append(dbus.service.BusName(PORTAL_NAME, bus))
        keep.append(Portal(bus, "--portal" in argv))
    if "--proxy" in argv:
        keep.append(dbus.service.BusName(PROXY_NAME, bus))
        keep.append(Proxy(bus))
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main(sys.argv[1:])
