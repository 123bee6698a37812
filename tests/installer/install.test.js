/* SPDX-License-Identifier: Apache-2.0 */
/* installer/install.sh: per-user and system installs into temporary roots,
 * every browser path, dry run, idempotence, exact uninstall. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const INSTALL = path.join(ROOT, "installer", "install.sh");

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function setup() {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), "nb-install-"));
  const fakeHost = path.join(top, "nesbridge-host-built");
  fs.writeFileSync(fakeHost, "#!/bin/sh\n", { mode: 0o755 });
  return { top, fakeHost, home: path.join(top, "home") };
}

const run = (env, ...args) => execFileSync("sh", [INSTALL, ...args], { env: Object.assign({ PATH: process.env.PATH }, env) }).toString();

const USER_BROWSERS = {
  ".config/google-chrome": ".config/google-chrome/NativeMessagingHosts",
  ".config/google-chrome-beta": ".config/google-chrome-beta/NativeMessagingHosts",
  ".config/google-chrome-unstable": ".config/google-chrome-unstable/NativeMessagingHosts",
  ".config/chromium": ".config/chromium/NativeMessagingHosts",
  ".config/microsoft-edge": ".config/microsoft-edge/NativeMessagingHosts",
  ".config/BraveSoftware/Brave-Browser": ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
  ".config/vivaldi": ".config/vivaldi/NativeMessagingHosts",
  ".config/opera": ".config/opera/NativeMessagingHosts",
  ".mozilla": ".mozilla/native-messaging-hosts",
  ".librewolf": ".librewolf/native-messaging-hosts",
};

test("per-user install: every browser found gets its manifest; idempotent; exact uninstall", () => {
  const { top, fakeHost, home } = setup();
  for (const dir of Object.keys(USER_BROWSERS)) fs.mkdirSync(path.join(home, dir), { recursive: true });
  const env = { HOME: home };
  const before = listFiles(home);
  const dry = run(env, "--user", "--dry-run", "--host", fakeHost);
  assert.match(dry, /dry run: would install/);
  assert.deepStrictEqual(listFiles(home), before, "a dry run writes nothing");
  run(env, "--user", "--host", fakeHost);
  run(env, "--user", "--host", fakeHost); /* twice: same result */
  const hostPath = path.join(home, ".local", "lib", "nesbridge", "nesbridge-host");
  assert.ok(fs.statSync(hostPath).mode & 0o111);
  for (const [, mdir] of Object.entries(USER_BROWSERS)) {
    const m = JSON.parse(fs.readFileSync(path.join(home, mdir, "tr.gov.kamusm.nesbridge.json"), "utf8"));
    assert.strictEqual(m.path, hostPath);
    assert.strictEqual(m.name, "tr.gov.kamusm.nesbridge");
    if (mdir.includes("native-messaging-hosts")) assert.deepStrictEqual(m.allowed_extensions, ["nesbridge@kamusm.gov.tr"]);
    else assert.deepStrictEqual(m.allowed_origins, ["chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/"]);
  }
  const record = fs.readFileSync(path.join(home, ".local/share/nesbridge/installed-files"), "utf8").trim().split("\n");
  assert.strictEqual(record.length, Object.keys(USER_BROWSERS).length + 1);
  run(env, "--uninstall");
  assert.deepStrictEqual(listFiles(home), before, "uninstall removes exactly what install added");
  fs.rmSync(top, { recursive: true, force: true });
});

test("per-user install with no browser: the host only, and a clear word", () => {
  const { top, fakeHost, home } = setup();
  fs.mkdirSync(home);
  const out = run({ HOME: home }, "--user", "--host", fakeHost);
  assert.match(out, /no browser found/);
  fs.rmSync(top, { recursive: true, force: true });
});

test("system install into a root: system paths of every browser family", () => {
  const { top, fakeHost, home } = setup();
  fs.mkdirSync(home);
  const root = path.join(top, "root");
  const systemDirs = ["etc/opt/chrome", "etc/chromium", "etc/opt/edge", "etc/opt/brave", "etc/opt/vivaldi",
    "usr/lib/mozilla", "usr/lib64/mozilla", "usr/lib/librewolf"];
  for (const d of systemDirs) fs.mkdirSync(path.join(root, d), { recursive: true });
  run({ HOME: home }, "--system", "--root", root, "--host", fakeHost);
  assert.ok(fs.existsSync(path.join(root, "usr/lib/nesbridge/nesbridge-host")));
  for (const d of systemDirs) {
    const m = JSON.parse(fs.readFileSync(path.join(root, d, "native-messaging-hosts", "tr.gov.kamusm.nesbridge.json"), "utf8"));
    assert.strictEqual(m.path, "/usr/lib/nesbridge/nesbridge-host", "the manifest names the path on the target system");
  }
  run({ HOME: home }, "--system", "--root", root, "--uninstall");
  assert.deepStrictEqual(listFiles(root), []);
  fs.rmSync(top, { recursive: true, force: true });
});

/* A snap or Flatpak browser starts the host through the WebExtensions
 * portal or xdg-native-messaging-proxy, which read the home directory's
 * host folders, not the sandbox's: install.sh makes them even when no
 * unsandboxed browser uses them, and says what doctor says. */
test("per-user install with a snap Firefox and a Flatpak Chromium: manifests where the portal and the proxy look", () => {
  const { top, fakeHost, home } = setup();
  fs.mkdirSync(home);
  const root = path.join(top, "root");
  fs.mkdirSync(path.join(root, "snap", "bin"), { recursive: true });
  fs.writeFileSync(path.join(root, "snap", "bin", "firefox"), "");
  fs.mkdirSync(path.join(home, ".local", "share", "flatpak", "app", "org.chromium.Chromium"), { recursive: true });
  const env = { HOME: home, NESBRIDGE_SANDBOX_ROOT: root };
  const before = listFiles(home);
  const out = run(env, "--user", "--host", fakeHost);
  const firefox = path.join(home, ".mozilla", "native-messaging-hosts", "tr.gov.kamusm.nesbridge.json");
  const chromium = path.join(home, ".config", "chromium", "NativeMessagingHosts", "tr.gov.kamusm.nesbridge.json");
  assert.deepStrictEqual(JSON.parse(fs.readFileSync(firefox, "utf8")).allowed_extensions, ["nesbridge@kamusm.gov.tr"]);
  assert.deepStrictEqual(JSON.parse(fs.readFileSync(chromium, "utf8")).allowed_origins, ["chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/"]);
  assert.ok(!fs.existsSync(path.join(home, "snap")), "nothing in the snap's private folder");
  assert.match(out, new RegExp("note: Firefox \\(snap\\) starts nesbridge through the WebExtensions portal or xdg-native-messaging-proxy, which read " +
    firefox.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\. The portal asks once whether Firefox may start it: answer Allow\\."));
  assert.match(out, /note: Chromium \(Flatpak\) starts nesbridge through the WebExtensions portal or xdg-native-messaging-proxy, which read .*\/\.config\/chromium\/NativeMessagingHosts\/tr\.gov\.kamusm\.nesbridge\.json/);
  assert.match(out, /Run `nesbridge-host doctor` to see which of the two this system has and what is missing; with neither, install the xdg-native-messaging-proxy package/);
  assert.doesNotMatch(out, /cannot start|distribution's packages to use nesbridge/);
  /* A system install names the system folders, which both read too. */
  const sys = run({ HOME: home, NESBRIDGE_SANDBOX_ROOT: root }, "--system", "--dry-run", "--root", path.join(top, "sysroot"), "--host", fakeHost);
  assert.match(sys, /note: Firefox \(snap\) .* which read \/usr\/lib\/mozilla\/native-messaging-hosts\/tr\.gov\.kamusm\.nesbridge\.json/);
  run(env, "--uninstall");
  assert.deepStrictEqual(listFiles(home), before, "uninstall removes exactly what install added");
  fs.rmSync(top, { recursive: true, force: true });
});

test("bad options are refused", () => {
  assert.throws(() => run({ HOME: os.tmpdir() }, "--frobnicate"));
});
