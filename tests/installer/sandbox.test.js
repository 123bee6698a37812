/* SPDX-License-Identifier: Apache-2.0 */
/* `nesbridge-host doctor` on snap and Flatpak browsers, against a real
 * session bus (dbus-daemon) and stand-ins for the WebExtensions portal, its
 * permission store and xdg-native-messaging-proxy (sandbox_services.py).
 * Snap and Flatpak installs are a test root for /snap/bin and
 * /var/lib/flatpak (NESBRIDGE_SANDBOX_ROOT). Each case: the words in
 * English and Turkish, the exit code, and --json. Needs pcscd with the
 * virtual reader, like doctor.test.js. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync, execFileSync } = require("child_process");

const { HOST, MANIFEST, NO_SCRATCH, goodHome, doctor } = require("./doctor_home");
const { startBus, startServices } = require("./session_bus");

const PORTAL_PREF = "widget.use-xdg-desktop-portal.native-messaging";
const PROXY_PREF = "widget.use-xdg-desktop-portal.native-messaging-proxy";
let bus, busDir;

before(() => {
  if (NO_SCRATCH) return;
  busDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-bus-"));
  bus = startBus(busDir);
});

after(() => {
  if (bus) bus.stop();
  if (busDir) fs.rmSync(busDir, { recursive: true, force: true });
});

/* A Firefox-family profile as Firefox leaves it: profiles.ini, the version
 * that last ran it, and its preferences. */
function writeProfile(base, version, prefs) {
  const dir = path.join(base, "abcd1234.default");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(base, "profiles.ini"),
    "[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default\nIsRelative=1\nPath=abcd1234.default\nDefault=1\n");
  fs.writeFileSync(path.join(dir, "compatibility.ini"), `[Compatibility]\nLastVersion=${version}.0_20240704121409/20240704121409\nLastOSABI=Linux_x86_64-gcc3\n`);
  fs.writeFileSync(path.join(dir, "prefs.js"), '// Mozilla User Preferences\nuser_pref("browser.startup.page", 3);\n' +
    Object.entries(prefs || {}).map(([k, v]) => `user_pref("${k}", ${v});\n`).join(""));
}

/* A home whose only browser is a sandboxed one, set up by install.sh with
 * the sandbox root in place, as on a fresh Ubuntu. */
function sandboxedHome(kind, opts) {
  const o = Object.assign({ version: 128, prefs: {} }, opts || {});
  let root;
  const s = goodHome({
    dirs: [],
    before: (top, home) => {
      root = path.join(top, "root");
      if (kind === "snap-firefox") {
        fs.mkdirSync(path.join(root, "snap", "bin"), { recursive: true });
        fs.writeFileSync(path.join(root, "snap", "bin", "firefox"), "");
        writeProfile(path.join(home, "snap", "firefox", "common", ".mozilla", "firefox"), o.version, o.prefs);
      } else if (kind === "snap-chromium") {
        fs.mkdirSync(path.join(root, "snap", "bin"), { recursive: true });
        fs.writeFileSync(path.join(root, "snap", "bin", "chromium"), "");
      } else if (kind === "flatpak-firefox") {
        const app = path.join(root, "var", "lib", "flatpak", "app", "org.mozilla.firefox", "current", "active");
        fs.mkdirSync(app, { recursive: true });
        fs.writeFileSync(path.join(app, "metadata"), "[Application]\nname=org.mozilla.firefox\n\n[Context]\nshared=network;ipc;\n\n" +
          "[Session Bus Policy]\norg.freedesktop.FileManager1=talk\n" + (o.talk ? "org.freedesktop.NativeMessagingProxy=talk\n" : ""));
        writeProfile(path.join(home, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox"), o.version, o.prefs);
      }
    },
  });
  s.root = root;
  return s;
}

/* goodHome's install.sh ran before the sandbox root existed; this runs it
 * again with the root, so that it sees the snap or Flatpak. */
function install(s) {
  execFileSync("sh", [path.join(__dirname, "..", "..", "installer", "install.sh"), "--user", "--host", HOST],
    { env: { PATH: process.env.PATH, HOME: s.home, NESBRIDGE_SANDBOX_ROOT: s.root } });
}

function run(s, extra, json) {
  return doctor(s, Object.assign({ NESBRIDGE_SANDBOX_ROOT: s.root, DBUS_SESSION_BUS_ADDRESS: bus.address }, extra || {}), json);
}

/* English, Turkish and JSON of one set-up. */
function all(s, extra) {
  const en = run(s, extra);
  const tr = run(s, Object.assign({ LANG: "tr_TR.UTF-8" }, extra || {}));
  const js = run(s, extra, true);
  return { en, tr, json: JSON.parse(js.out), jsonCode: js.code };
}

const find = (j, area, re) => j.checks.filter((c) => c.area === area && re.test(c.what));

async function withServices(s, args, fn) {
  const svc = await startServices(bus, s.home, args);
  try {
    return fn();
  } finally {
    await svc.stop();
  }
}

const STORE = (app, answer) => JSON.stringify({ "tr.gov.kamusm.nesbridge": { [app]: [answer] } });

test("snap Firefox, portal present, permission allowed: everything in place", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox");
  install(s);
  await withServices(s, ["--portal", "--store", STORE("snap.firefox", "yes")], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 0, r.en.out);
    assert.match(r.en.out, /\[ ok \] sandbox +Firefox \(snap\): starts nesbridge through the WebExtensions portal \(org\.freedesktop\.portal\.Desktop, version 1\)/);
    assert.match(r.en.out, /\[ ok \] manifest +Firefox \(snap\), portal: .*\/home\/\.mozilla\/native-messaging-hosts\/tr\.gov\.kamusm\.nesbridge\.json/);
    assert.match(r.en.out, /\[ ok \] permission +Firefox \(snap\): allowed \(webextensions\/tr\.gov\.kamusm\.nesbridge\/snap\.firefox\)/);
    assert.match(r.en.out, /\[ ok \] browser +Firefox \(snap\): version 128; widget\.use-xdg-desktop-portal\.native-messaging not off/);
    assert.doesNotMatch(r.en.out, /cannot start a host outside|install the browser from your distribution/);
    assert.match(r.en.out, /Everything is in place\./);
    assert.strictEqual(r.tr.code, 0);
    assert.match(r.tr.out, /Firefox \(snap\): nesbridge'i WebExtensions portalı üzerinden başlatır \(org\.freedesktop\.portal\.Desktop, sürüm 1\)/);
    assert.match(r.tr.out, /Firefox \(snap\): izin verilmiş/);
    assert.match(r.tr.out, /Her şey yerinde\./);
    assert.strictEqual(r.jsonCode, 0);
    assert.strictEqual(r.json.ok, true);
    assert.strictEqual(find(r.json, "sandbox", /WebExtensions portal/).length, 1);
    assert.strictEqual(find(r.json, "permission", /allowed/)[0].ok, true);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("snap Firefox, portal present, permission refused: named, and the printed command undoes it", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox");
  install(s);
  await withServices(s, ["--portal", "--store", STORE("snap.firefox", "no")], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 1, r.en.out);
    assert.match(r.en.out, /\[FAIL\] permission +Firefox \(snap\): refused; the portal will not start nesbridge for this browser: no/);
    assert.match(r.en.out, /fix: gdbus call --session --dest org\.freedesktop\.impl\.portal\.PermissionStore --object-path \/org\/freedesktop\/impl\/portal\/PermissionStore --method org\.freedesktop\.impl\.portal\.PermissionStore\.DeletePermission webextensions tr\.gov\.kamusm\.nesbridge snap\.firefox\n/);
    assert.strictEqual(r.tr.code, 1);
    assert.match(r.tr.out, /\[SORUN\] permission +Firefox \(snap\): reddedilmiş; portal bu tarayıcı için nesbridge'i başlatmaz/);
    assert.match(r.tr.out, /çözüm: gdbus call .*DeletePermission webextensions tr\.gov\.kamusm\.nesbridge snap\.firefox/);
    assert.strictEqual(r.jsonCode, 1);
    const perm = find(r.json, "permission", /refused/);
    assert.strictEqual(perm.length, 1);
    assert.strictEqual(perm[0].ok, false);
    /* The fix, run as printed, against the store: the question comes back. */
    execFileSync("sh", ["-c", perm[0].fix], { env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: bus.address }, stdio: "ignore" });
    const again = run(s);
    assert.strictEqual(again.code, 0, again.out);
    assert.match(again.out, /\[ ok \] permission +Firefox \(snap\): not asked yet/);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("snap Firefox, portal present, never asked: doctor says the portal will ask once", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox");
  install(s);
  await withServices(s, ["--portal"], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 0, r.en.out);
    assert.match(r.en.out, /\[ ok \] permission +Firefox \(snap\): not asked yet: the first time the extension connects, the portal asks once whether the browser may start nesbridge; answer "Allow"/);
    assert.match(r.tr.out, /\[ ok \] permission +Firefox \(snap\): henüz sorulmadı: eklenti ilk bağlandığında portal bir kez/);
    assert.strictEqual(r.tr.code, 0);
    assert.strictEqual(r.jsonCode, 0);
    assert.strictEqual(find(r.json, "permission", /not asked yet/)[0].ok, true);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("snap Firefox 157, proxy present: through the proxy, no question asked", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox", { version: 157 });
  install(s);
  await withServices(s, ["--proxy"], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 0, r.en.out);
    assert.match(r.en.out, /\[ ok \] sandbox +Firefox \(snap\): starts nesbridge through xdg-native-messaging-proxy \(org\.freedesktop\.NativeMessagingProxy, running on the session bus\)/);
    assert.match(r.en.out, /\[ ok \] manifest +Firefox \(snap\), proxy: .*\.mozilla\/native-messaging-hosts/);
    assert.match(r.en.out, /\[ ok \] browser +Firefox \(snap\): version 157; widget\.use-xdg-desktop-portal\.native-messaging-proxy not off/);
    assert.doesNotMatch(r.en.out, /permission/);
    assert.match(r.tr.out, /nesbridge'i xdg-native-messaging-proxy üzerinden başlatır \(org\.freedesktop\.NativeMessagingProxy, oturum veri yolunda çalışıyor\)/);
    assert.strictEqual(r.tr.code, 0);
    assert.strictEqual(r.jsonCode, 0);
    assert.strictEqual(find(r.json, "sandbox", /xdg-native-messaging-proxy/)[0].ok, true);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("snap Firefox older than 157 with only the proxy: too old, and how to update", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox", { version: 140 });
  install(s);
  await withServices(s, ["--proxy"], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 1, r.en.out);
    assert.match(r.en.out, /\[FAIL\] browser +Firefox \(snap\): version 140; Firefox uses xdg-native-messaging-proxy only from 157 on\n +fix: sudo snap refresh firefox/);
    assert.match(r.tr.out, /sürüm 140; Firefox xdg-native-messaging-proxy'yi ancak 157 sürümünden itibaren kullanır/);
    assert.strictEqual(r.jsonCode, 1);
    assert.strictEqual(find(r.json, "browser", /only from 157 on/)[0].fix, "sudo snap refresh firefox");
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("portal and proxy both present: Firefox before 157 takes the portal, from 157 on the proxy", { skip: NO_SCRATCH }, async () => {
  const old = sandboxedHome("snap-firefox", { version: 128 });
  const neu = sandboxedHome("snap-firefox", { version: 160 });
  install(old);
  install(neu);
  await withServices(old, ["--portal", "--proxy", "--store", STORE("snap.firefox", "yes")], () => {
    const a = run(old);
    assert.strictEqual(a.code, 0, a.out);
    assert.match(a.out, /Firefox \(snap\): starts nesbridge through the WebExtensions portal/);
    const b = run(neu);
    assert.strictEqual(b.code, 0, b.out);
    assert.match(b.out, /Firefox \(snap\): starts nesbridge through xdg-native-messaging-proxy/);
  });
  fs.rmSync(old.top, { recursive: true, force: true });
  fs.rmSync(neu.top, { recursive: true, force: true });
});

for (const [name, args] of [["neither service", []], ["an xdg-desktop-portal without the WebExtensions interface", ["--portal-plain"]]]) {
  test("snap Firefox with " + name + ": only now another browser, and the package that adds the proxy", { skip: NO_SCRATCH }, async () => {
    const s = sandboxedHome("snap-firefox");
    install(s);
    const check = () => {
      const r = all(s);
      assert.strictEqual(r.en.code, 1, r.en.out);
      assert.match(r.en.out, /\[FAIL\] sandbox +Firefox \(snap\): neither the WebExtensions portal nor xdg-native-messaging-proxy is on the session bus; this browser cannot start nesbridge/);
      assert.match(r.en.out, /fix: install the package that adds the proxy \(sudo apt install xdg-native-messaging-proxy; Fedora: sudo dnf install xdg-native-messaging-proxy\) and log in again; or use Firefox from your distribution's packages/);
      assert.match(r.tr.out, /\[SORUN\] sandbox +Firefox \(snap\): oturum veri yolunda ne WebExtensions portalı ne de xdg-native-messaging-proxy var/);
      assert.match(r.tr.out, /çözüm: vekili ekleyen paketi kurup \(sudo apt install xdg-native-messaging-proxy/);
      assert.strictEqual(r.tr.code, 1);
      assert.strictEqual(r.jsonCode, 1);
      const c = find(r.json, "sandbox", /neither/);
      assert.strictEqual(c.length, 1);
      assert.match(c[0].fix, /xdg-native-messaging-proxy/);
      /* No manifest or permission line for a path that does not exist. */
      assert.deepStrictEqual(find(r.json, "permission", /./), []);
    };
    if (args.length === 0) check();
    else await withServices(s, args, check);
    fs.rmSync(s.top, { recursive: true, force: true });
  });
}

test("snap Firefox whose portal preference is turned off: the profile and the about:config fix", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox", { prefs: { [PORTAL_PREF]: 0 } });
  install(s);
  await withServices(s, ["--portal", "--store", STORE("snap.firefox", "yes")], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 1, r.en.out);
    assert.match(r.en.out, /\[FAIL\] browser +Firefox \(snap\): the preference widget\.use-xdg-desktop-portal\.native-messaging is 0 \(off\) in profile abcd1234\.default\n +fix: in about:config set widget\.use-xdg-desktop-portal\.native-messaging to 2, then restart the browser/);
    assert.match(r.tr.out, /\[SORUN\] browser +Firefox \(snap\): abcd1234\.default profilinde widget\.use-xdg-desktop-portal\.native-messaging tercihi 0 \(kapalı\)/);
    assert.strictEqual(r.tr.code, 1);
    assert.strictEqual(r.jsonCode, 1);
    assert.match(find(r.json, "browser", /0 \(off\)/)[0].fix, /about:config/);
  });
  /* user.js wins over prefs.js, as in Firefox. */
  fs.writeFileSync(path.join(s.home, "snap", "firefox", "common", ".mozilla", "firefox", "abcd1234.default", "user.js"), `user_pref("${PORTAL_PREF}", 2);\n`);
  await withServices(s, ["--portal", "--store", STORE("snap.firefox", "yes")], () => {
    const r = run(s);
    assert.strictEqual(r.code, 0, r.out);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("Flatpak Firefox with the proxy: it needs leave to talk to it", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("flatpak-firefox", { version: 158, prefs: { [PROXY_PREF]: 2 } });
  install(s);
  await withServices(s, ["--proxy"], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 1, r.en.out);
    assert.match(r.en.out, /\[ ok \] sandbox +Firefox \(Flatpak\): starts nesbridge through xdg-native-messaging-proxy/);
    assert.match(r.en.out, /\[FAIL\] sandbox +Firefox \(Flatpak\): the Flatpak may not talk to org\.freedesktop\.NativeMessagingProxy\n +fix: flatpak override --user --talk-name=org\.freedesktop\.NativeMessagingProxy org\.mozilla\.firefox/);
    assert.match(r.tr.out, /Flatpak'in oturum veri yolunda şu ada erişim izni yok: org\.freedesktop\.NativeMessagingProxy/);
    assert.strictEqual(r.jsonCode, 1);
    /* The fix as flatpak would write it: the user's override file. */
    const overrides = path.join(s.home, ".local", "share", "flatpak", "overrides");
    fs.mkdirSync(overrides, { recursive: true });
    fs.writeFileSync(path.join(overrides, "org.mozilla.firefox"), "[Session Bus Policy]\norg.freedesktop.NativeMessagingProxy=talk\n");
    const fixed = run(s);
    assert.strictEqual(fixed.code, 0, fixed.out);
    assert.match(fixed.out, /\[ ok \] browser +Firefox \(Flatpak\): version 158; widget\.use-xdg-desktop-portal\.native-messaging-proxy not off/);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("snap Chromium with the portal: its manifest in ~/.config/chromium, its own permission entry", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-chromium");
  install(s);
  assert.ok(fs.existsSync(path.join(s.home, ".config", "chromium", "NativeMessagingHosts", MANIFEST)), "install.sh put it where the portal looks");
  await withServices(s, ["--portal", "--store", STORE("snap.firefox", "yes")], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 0, r.en.out);
    assert.match(r.en.out, /\[ ok \] sandbox +Chromium \(snap\): starts nesbridge through the WebExtensions portal/);
    assert.match(r.en.out, /\[ ok \] manifest +Chromium \(snap\), portal: .*\.config\/chromium\/NativeMessagingHosts\/tr\.gov\.kamusm\.nesbridge\.json/);
    assert.match(r.en.out, /\[ ok \] permission +Chromium \(snap\): not asked yet.*snap\.chromium/);
    assert.match(r.tr.out, /Chromium \(snap\): nesbridge'i WebExtensions portalı üzerinden başlatır/);
    assert.strictEqual(r.jsonCode, 0);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("snap Firefox with no manifest where the portal looks: the installer's command", { skip: NO_SCRATCH }, async () => {
  const s = sandboxedHome("snap-firefox");
  /* No install with the root: the snap's presence was unknown to install.sh. */
  await withServices(s, ["--portal", "--store", STORE("snap.firefox", "yes")], () => {
    const r = all(s);
    assert.strictEqual(r.en.code, 1, r.en.out);
    assert.match(r.en.out, /\[FAIL\] manifest +Firefox \(snap\), portal: no manifest where the portal looks: .*\/home\/\.mozilla\/native-messaging-hosts\/tr\.gov\.kamusm\.nesbridge\.json\n +fix: sh installer\/install\.sh --user/);
    assert.match(r.tr.out, /\[SORUN\] manifest +Firefox \(snap\), portal: portalın baktığı yerde manifest yok:/);
    assert.strictEqual(r.jsonCode, 1);
  });
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("no session bus: doctor says so instead of guessing", { skip: NO_SCRATCH }, () => {
  const s = sandboxedHome("snap-firefox");
  install(s);
  const env = { DBUS_SESSION_BUS_ADDRESS: "", XDG_RUNTIME_DIR: path.join(s.top, "no-runtime-dir") };
  const r = all(s, env);
  assert.strictEqual(r.en.code, 1, r.en.out);
  assert.match(r.en.out, /\[FAIL\] sandbox +Firefox \(snap\): the session bus cannot be reached, so whether the portal or the proxy is there is not known/);
  assert.match(r.en.out, /fix: run doctor in your desktop session \(not over ssh or with sudo\)/);
  assert.match(r.tr.out, /oturum veri yoluna ulaşılamıyor/);
  assert.strictEqual(r.jsonCode, 1);
  fs.rmSync(s.top, { recursive: true, force: true });
});

test("a bus that accepts but never answers: doctor ends by its deadline", { skip: NO_SCRATCH }, () => {
  const s = sandboxedHome("snap-firefox");
  install(s);
  /* A listening socket that never speaks (the process sleeps after listen). */
  const sock = path.join(s.top, "mute.sock");
  const mute = require("child_process").spawn("/usr/bin/python3", ["-c",
    "import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(8)\nprint('ready',flush=True)\ntime.sleep(120)", sock],
  { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const start = Date.now();
    while (!fs.existsSync(sock) && Date.now() - start < 10000) spawnSync("sleep", ["0.05"]);
    const t0 = Date.now();
    const r = run(s, { DBUS_SESSION_BUS_ADDRESS: "unix:path=" + sock });
    const took = Date.now() - t0;
    assert.strictEqual(r.code, 1, r.out);
    assert.match(r.out, /Firefox \(snap\): the session bus cannot be reached/);
    assert.ok(took < 20000, "doctor took " + took + " ms");
  } finally {
    mute.kill();
  }
  fs.rmSync(s.top, { recursive: true, force: true });
});

/* The relay path never links gio, and doctor loads it only when a snap or
 * Flatpak browser is there. */
test("gio is no dependency of the host, and doctor loads it only for a sandboxed browser", { skip: NO_SCRATCH }, () => {
  const needed = execFileSync("readelf", ["-d", HOST], { encoding: "utf8" });
  assert.doesNotMatch(needed, /libgio|libglib|libgobject|libdbus|libsystemd/);
  const hello = spawnSync(HOST, ["--version"], { env: { PATH: process.env.PATH, LD_DEBUG: "libs" }, encoding: "utf8" });
  assert.match(hello.stdout, /nesbridge-host/);
  assert.doesNotMatch(hello.stderr, /libgio/);
  const plain = goodHome();
  const r = doctor(plain, { LD_DEBUG: "libs" });
  assert.strictEqual(r.code, 0, r.out);
  assert.doesNotMatch(r.err, /libgio/);
  const s = sandboxedHome("snap-firefox");
  const q = run(s, { LD_DEBUG: "libs" });
  assert.match(q.err, /libgio-2\.0\.so\.0/);
  fs.rmSync(plain.top, { recursive: true, force: true });
  fs.rmSync(s.top, { recursive: true, force: true });
});
