/* SPDX-License-Identifier: Apache-2.0 */
/* make win msi: nesbridge-host.exe cross-built with mingw-w64 and run under
 * wine (version, framed requests, callers, bad input); both MSIs' tables
 * read with msiinfo; then each MSI installed and removed under wine, with
 * the registry keys, the files and `doctor` checked in between. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { execFileSync, spawnSync } = require("child_process");
const { Host, CALLER } = require("../battery/host.js");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));
const WIN = path.join(BUILD, "win");
const EXE = path.join(WIN, "nesbridge-host.exe");
const VERSION = fs.readFileSync(path.join(ROOT, "host", "version.h"), "utf8").match(/NB_HOST_VERSION "([^"]+)"/)[1];
const MSI = { machine: path.join(WIN, `nesbridge-${VERSION}-x64.msi`), user: path.join(WIN, `nesbridge-${VERSION}-x64-user.msi`) };
const PREFIX = path.join(WIN, "wine-test");
const NAME = "tr.gov.kamusm.nesbridge";
const ORIGIN = "https://onayla.kamusm.gov.tr";
/* No display, no Mono or Gecko downloads, no debug chatter. */
const WINE_ENV = Object.assign({}, process.env, { WINEPREFIX: PREFIX, WINEDEBUG: "-all", WINEDLLOVERRIDES: "mscoree,mshtml=", DISPLAY: "" });
const KEYS = [`Software\\Google\\Chrome\\NativeMessagingHosts\\${NAME}`, `Software\\Microsoft\\Edge\\NativeMessagingHosts\\${NAME}`,
  `Software\\Mozilla\\NativeMessagingHosts\\${NAME}`];

const wine = (args, opts) => spawnSync("wine", args, Object.assign({ env: WINE_ENV, encoding: "utf8", timeout: 120000 }, opts || {}));
/* `doctor --json` in English: the parsed report and the exit status. */
function doctorJson(exe, extraEnv) {
  const r = wine([exe, "doctor", "--json"], { env: Object.assign({}, WINE_ENV, { LANG: "C" }, extraEnv || {}) });
  return { report: JSON.parse(r.stdout), status: r.status };
}
const request = (cmd, args, id) => JSON.stringify({ id: id === undefined ? 1 : id, cmd, origin: ORIGIN, args });

before(() => {
  execFileSync("make", ["-s", "--no-print-directory", "win", "msi", "BUILD=" + BUILD], { cwd: ROOT, stdio: "ignore" });
  fs.rmSync(PREFIX, { recursive: true, force: true });
  const boot = wine(["wineboot", "--init"]);
  assert.strictEqual(boot.status, 0, boot.stderr);
});

after(() => {
  spawnSync("wineserver", ["-k"], { env: WINE_ENV });
});

test("the exe is 64-bit, uses ASLR, DEP and high-entropy ASLR, and needs only system DLLs", () => {
  const dump = execFileSync("x86_64-w64-mingw32-objdump", ["-p", EXE], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.match(dump, /file format pei-x86-64/);
  const characteristics = parseInt(dump.match(/DllCharacteristics\s+([0-9a-f]+)/)[1], 16);
  for (const [bit, what] of [[0x20, "HIGH_ENTROPY_VA"], [0x40, "DYNAMIC_BASE"], [0x100, "NX_COMPAT"]])
    assert.ok(characteristics & bit, what);
  const dlls = [...dump.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1].toLowerCase()).sort();
  /* bcrypt.dll: the system CSPRNG for handle ids and nonces (BCryptGenRandom). */
  assert.deepStrictEqual(dlls, ["advapi32.dll", "bcrypt.dll", "kernel32.dll", "msvcrt.dll", "user32.dll", "winscard.dll", "ws2_32.dll"]);
});

/* Turkish letters in the folder (a user profile named Şükrü, on a Windows
 * whose ANSI code page is 1252): the exe's manifest makes UTF-8 its code
 * page, so its own path, trust.d and the key in it are found. */
test("wine: a folder with Turkish letters, ANSI code page 1252", () => {
  assert.ok(fs.readFileSync(EXE).includes("<activeCodePage xmlns=\"http://schemas.microsoft.com/SMI/2019/WindowsSettings\">UTF-8</activeCodePage>"));
  const acp = wine(["reg", "query", "HKLM\\System\\CurrentControlSet\\Control\\Nls\\CodePage", "/v", "ACP"]).stdout;
  assert.match(acp, /ACP\s+REG_SZ\s+1252/);
  const dir = path.join(PREFIX, "drive_c", "Kullanıcı Şükrü", "nesbridge");
  fs.mkdirSync(path.join(dir, "trust.d"), { recursive: true });
  fs.copyFileSync(EXE, path.join(dir, "nesbridge-host.exe"));
  const { publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  fs.writeFileSync(path.join(dir, "trust.d", "authority.pem"), publicKey.export({ type: "spki", format: "pem" }));
  /* LC_ALL: wine reads the Unix path in argv as UTF-8. */
  const checks = doctorJson(path.join(dir, "nesbridge-host.exe"), { LC_ALL: "C.UTF-8" }).report.checks;
  assert.strictEqual(checks.find((c) => c.area === "host").what, "host: C:\\Kullanıcı Şükrü\\nesbridge\\nesbridge-host.exe");
  assert.strictEqual(checks.find((c) => c.area === "trust").what, "1 authority key(s) trusted");
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

test("wine: --version", () => {
  const r = wine([EXE, "--version"]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout.trim(), `nesbridge-host ${VERSION} (protocol 1)`);
});

test("wine: started by hand (not by a browser) it prints its usage and exits 2", () => {
  const r = wine([EXE]);
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /Browsers start it themselves/);
});

test("wine: Chrome's way of starting it: framed hello, bad input, PC/SC, clean exit", async () => {
  const host = new Host([CALLER, "--parent-window=0"], { command: ["wine", EXE], env: WINE_ENV });
  try {
    const hello = await host.call(request("hello", { protocol: 1 }), 20000);
    assert.deepStrictEqual({ ok: hello.ok, protocol: hello.result.protocol, version: hello.result.host_version },
      { ok: true, protocol: 1, version: VERSION });
    /* Binary mode: a body with \n and \r\n must reach the parser intact. */
    const spaced = await host.call('{"id":2,\n"cmd":"hello",\r\n"origin":"' + ORIGIN + '","args":{"protocol":1}}', 5000);
    assert.strictEqual(spaced.ok, true, JSON.stringify(spaced));
    const bad = await host.call("{not json", 5000);
    assert.strictEqual(bad.error.code, "bad-request");
    const unknown = await host.call(request("format-disk", {}, 3), 5000);
    assert.strictEqual(unknown.error.code, "unknown-command");
    /* wine's winscard.dll has no readers behind it: whatever it answers,
     * the reply is well formed and the host goes on. */
    const readers = await host.call(request("list-readers", {}, 4), 5000);
    assert.strictEqual(readers.id, 4);
    assert.ok(readers.ok === true || typeof readers.error.code === "string", JSON.stringify(readers));
    assert.strictEqual((await host.call(request("hello", { protocol: 1 }, 5), 5000)).ok, true);
  } finally {
    const end = await host.end(10000);
    assert.deepStrictEqual(end, { code: 0, signal: null }, host.stderr);
  }
});

test("wine: Firefox's way of starting it, and a foreign extension refused", async () => {
  const firefox = new Host(["C:\\nesbridge\\" + NAME + ".json", "nesbridge@kamusm.gov.tr"], { command: ["wine", EXE], env: WINE_ENV });
  assert.strictEqual((await firefox.call(request("hello", { protocol: 1 }), 20000)).ok, true);
  await firefox.end(10000);
  const stranger = new Host(["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"], { command: ["wine", EXE], env: WINE_ENV });
  const refused = await stranger.call(request("hello", { protocol: 1 }), 20000);
  assert.strictEqual(refused.error.code, "caller-not-allowed");
  await stranger.end(10000);
});

test("wine: an oversized frame is refused and the host stops", async () => {
  const host = new Host([CALLER], { command: ["wine", EXE], env: WINE_ENV });
  const header = Buffer.alloc(4);
  header.writeUInt32LE(262145);
  host.raw(header);
  const reply = await host.reply(20000);
  assert.strictEqual(reply.error.code, "message-too-large");
  const end = await host.end(10000);
  assert.strictEqual(end.code, 1);
});

function msiTable(msi, table) {
  const text = execFileSync("msiinfo", ["export", msi, table], { encoding: "utf8" });
  return text.split(/\r?\n/).slice(3).filter((l) => l !== "").map((l) => l.split("\t"));
}

for (const [scope, root, rootName] of [["machine", "2", "HKLM"], ["user", "1", "HKCU"]]) {
  test(`MSI (${scope}): tables name the exe, both manifests, trust.d and the ${rootName} keys`, () => {
    const msi = MSI[scope];
    const tables = execFileSync("msiinfo", ["tables", msi], { encoding: "utf8" }).split(/\s+/);
    for (const t of ["File", "Component", "Directory", "Registry", "Feature", "Property", "Upgrade", "CreateFolder"])
      assert.ok(tables.includes(t), t);
    const files = msiTable(msi, "File").map((r) => r[2]).sort();
    assert.deepStrictEqual(files, ["LICENSE.txt", "README.txt", "THIRD-PARTY-NOTICES.txt", "nesbridge-host.exe",
      `${NAME}.chrome.json`, `${NAME}.firefox.json`]);
    const rows = msiTable(msi, "Registry").map((r) => ({ id: r[0], root: r[1], key: r[2].replace(/\\$/, ""), name: r[3], value: r[4] }));
    const registry = rows.filter((r) => r.key !== "Software\\nesbridge");
    assert.deepStrictEqual(registry.map((r) => r.key).sort(), KEYS.slice().sort());
    const components = msiTable(msi, "Component");
    const removed = msiTable(msi, "RemoveFile").map((r) => r[3]).sort();
    if (scope === "user") {
      /* In a profile every component is keyed by an HKCU value (ICE38) and
       * every folder made is removed again (ICE64). */
      const ids = new Set(rows.map((r) => r.id));
      for (const c of components) assert.ok(ids.has(c[5]), c[0] + " has a file as key path");
      assert.ok(rows.every((r) => r.root === "1"));
      assert.deepStrictEqual(removed, ["INSTALLDIR", "TRUSTDIR", "UserPrograms"]);
    } else {
      assert.deepStrictEqual(rows, registry, "nothing but the browsers' keys");
      assert.deepStrictEqual(removed, ["INSTALLDIR"]);
    }
    for (const r of registry) {
      assert.strictEqual(r.root, root, r.key);
      assert.strictEqual(r.name, "", "the default value");
      assert.strictEqual(r.value, `[INSTALLDIR]${NAME}.${r.key.includes("Mozilla") ? "firefox" : "chrome"}.json`);
    }
    const dirs = Object.fromEntries(msiTable(msi, "Directory").map((r) => [r[0], r]));
    assert.strictEqual(dirs.INSTALLDIR[2], "nesbridge");
    assert.strictEqual(dirs.TRUSTDIR[1], "INSTALLDIR");
    assert.strictEqual(dirs.TRUSTDIR[2], "trust.d");
    assert.ok(scope === "machine" ? dirs.ProgramFiles64Folder : dirs.LocalAppDataFolder);
    const props = Object.fromEntries(msiTable(msi, "Property").map((r) => [r[0], r[1]]));
    assert.strictEqual(props.ProductName, "nesbridge");
    assert.strictEqual(props.ProductVersion, VERSION);
    assert.strictEqual(props.ALLUSERS, scope === "machine" ? "1" : undefined);
    const summary = execFileSync("msiinfo", ["suminfo", msi], { encoding: "utf8" });
    assert.match(summary, /Template: x64;1033/);
  });
}

test("the two MSIs can live side by side: different upgrade codes and component ids", () => {
  const upgrade = (msi) => Object.fromEntries(msiTable(msi, "Property").map((r) => [r[0], r[1]])).UpgradeCode;
  assert.notStrictEqual(upgrade(MSI.machine), upgrade(MSI.user));
  const ids = (msi) => msiTable(msi, "Component").map((r) => r[1]);
  const shared = ids(MSI.machine).filter((id) => ids(MSI.user).includes(id));
  assert.deepStrictEqual(shared, []);
});

function regDefault(root, key) {
  const r = wine(["reg", "query", `${root}\\${key}`]);
  if (r.status !== 0) return null;
  const m = r.stdout.match(/\(Default\)\s+REG_SZ\s+(.+)/);
  return m ? m[1].trim() : null;
}

/* The shim tests' exe, trust.d and nesbridge.conf live on C:, as on
 * Windows. Not in the build folder: a clone under /tmp is Z:\tmp\... to
 * wine, which gives Everyone delete rights on /tmp (it has no sticky bit),
 * so the host rightly trusts nothing below it. */
const SHIM_DIR = path.join(PREFIX, "drive_c", "nbshim");

const unixPath = (winPath) => path.join(PREFIX, "drive_c", winPath.replace(/^C:\\/i, "").replace(/\\/g, "/"));

for (const [scope, root] of [["machine", "HKLM"], ["user", "HKCU"]]) {
  test(`wine: the ${scope} MSI installs, doctor finds all three browsers, and it uninstalls cleanly`, async () => {
    const install = wine(["msiexec", "/i", MSI[scope], "/qn"]);
    assert.strictEqual(install.status, 0, install.stderr);
    const manifests = KEYS.map((k) => regDefault(root, k));
    for (const m of manifests) assert.ok(m !== null && m.endsWith(".json"), String(m));
    const dir = path.dirname(unixPath(manifests[0]));
    assert.ok(scope === "machine" ? /Program Files\/nesbridge$/.test(dir) : /AppData\/Local\/Programs\/nesbridge$/.test(dir), dir);
    const chrome = JSON.parse(fs.readFileSync(unixPath(manifests[0]), "utf8"));
    assert.deepStrictEqual([chrome.name, chrome.path, chrome.allowed_origins], [NAME, "nesbridge-host.exe", [CALLER]]);
    const firefox = JSON.parse(fs.readFileSync(unixPath(manifests[2]), "utf8"));
    assert.deepStrictEqual([firefox.path, firefox.allowed_extensions], ["nesbridge-host.exe", ["nesbridge@kamusm.gov.tr"]]);
    /* The licences go with the exe: ours, and those of what it links. */
    assert.match(fs.readFileSync(path.join(dir, "LICENSE.txt"), "utf8"), /Apache License\s+Version 2\.0/);
    const notices = fs.readFileSync(path.join(dir, "THIRD-PARTY-NOTICES.txt"), "utf8");
    assert.match(notices, /==== OpenSSL \(libcrypto\) ====[\s\S]*Apache License/);
    assert.match(notices, /==== cJSON ====[\s\S]*Dave Gamble/);

    /* The trust store is trust.d beside the exe: one key there is found. */
    const { publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    fs.writeFileSync(path.join(dir, "trust.d", "authority.pem"), publicKey.export({ type: "spki", format: "pem" }));
    const exe = manifests[0].replace(/[^\\]+$/, "nesbridge-host.exe");
    const doctor = doctorJson(exe);
    const report = doctor.report;
    const byArea = (area) => report.checks.filter((c) => c.area === area);
    assert.strictEqual(byArea("host")[0].ok, true);
    const found = byArea("manifest");
    assert.deepStrictEqual(found.map((c) => c.what.split(":")[0]), ["Google Chrome", "Microsoft Edge", "Firefox"]);
    for (const c of found) {
      assert.strictEqual(c.ok, true, c.what);
      assert.ok(c.what.endsWith(`[${root}]`), c.what);
    }
    assert.deepStrictEqual(byArea("trust").map((c) => [c.ok, c.what]), [[true, "1 authority key(s) trusted"]]);
    /* A key or folder that others may write is no trust anchor: wine turns
     * the Unix "other" bits into an ACE for Everyone, which the host reads
     * from the DACL. */
    const trusted = () => doctorJson(exe).report.checks.find((c) => c.area === "trust").what;
    fs.chmodSync(path.join(dir, "trust.d", "authority.pem"), 0o666);
    assert.strictEqual(trusted(), "0 authority key(s) trusted");
    fs.chmodSync(path.join(dir, "trust.d", "authority.pem"), 0o644);
    fs.chmodSync(path.join(dir, "trust.d"), 0o777);
    assert.strictEqual(trusted(), "0 authority key(s) trusted");
    fs.chmodSync(path.join(dir, "trust.d"), 0o755);
    assert.strictEqual(trusted(), "1 authority key(s) trusted");
    /* No smart card service under wine: reported, with its fix, and exit 1. */
    assert.deepStrictEqual(byArea("pcscd").map((c) => [c.ok, c.fix]), [[false, "sc start SCardSvr"]]);
    assert.strictEqual(doctor.status, 1);
    assert.strictEqual(report.ok, false);

    /* The installed exe answers a browser. */
    const host = new Host([CALLER], { command: ["wine", exe], env: WINE_ENV });
    assert.strictEqual((await host.call(request("hello", { protocol: 1 }), 20000)).ok, true);
    await host.end(10000);

    fs.rmSync(path.join(dir, "trust.d", "authority.pem"));
    const remove = wine(["msiexec", "/x", MSI[scope], "/qn"]);
    assert.strictEqual(remove.status, 0, remove.stderr);
    for (const k of KEYS) assert.strictEqual(regDefault(root, k), null, k);
    assert.notStrictEqual(wine(["reg", "query", `${root}\\Software\\nesbridge`]).status, 0, "bookkeeping values left");
    /* Nothing is left inside. wine's msi tries RemoveFolder before the
     * files are gone and so keeps the empty folder; Windows removes it. */
    assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0, dir + " is not empty");
  });
}

test("wine: doctor names a registry key whose manifest is missing, and a broken manifest", () => {
  const key = `HKCU\\${KEYS[2]}`;
  const missing = "C:\\nesbridge-test\\gone.json";
  assert.strictEqual(wine(["reg", "add", key, "/ve", "/d", missing, "/f"]).status, 0);
  let report = doctorJson(EXE).report;
  let firefox = report.checks.find((c) => c.area === "manifest" && c.what.startsWith("Firefox"));
  assert.strictEqual(firefox.ok, false);
  assert.match(firefox.what, /no manifest: C:\\nesbridge-test\\gone\.json \[HKCU\]/);
  assert.strictEqual(firefox.fix, `msiexec /i nesbridge-${VERSION}-x64.msi`);

  fs.mkdirSync(unixPath("C:\\nesbridge-test"), { recursive: true });
  fs.writeFileSync(unixPath(missing), JSON.stringify({ name: NAME, path: "nesbridge-host.exe", type: "stdio", allowed_extensions: ["someone@else"] }));
  report = doctorJson(EXE).report;
  firefox = report.checks.find((c) => c.area === "manifest" && c.what.startsWith("Firefox"));
  assert.match(firefox.what, /host not executable: C:\\nesbridge-test\\nesbridge-host\.exe/);
  wine(["reg", "delete", key, "/f"]);
  fs.rmSync(unixPath("C:\\nesbridge-test"), { recursive: true, force: true });
});

test("wine: doctor names a browser installed without our key, and no browser at all", () => {
  let report = doctorJson(EXE).report;
  assert.deepStrictEqual(report.checks.filter((c) => c.area === "browser").map((c) => [c.ok, c.what, c.fix]),
    [[false, "no supported browser found", "install Chrome, Edge or Firefox"]]);
  const appPath = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\App Paths\\msedge.exe";
  assert.strictEqual(wine(["reg", "add", appPath, "/ve", "/d", "C:\\Edge\\msedge.exe", "/f"]).status, 0);
  report = doctorJson(EXE).report;
  const edge = report.checks.filter((c) => c.area === "manifest");
  assert.deepStrictEqual(edge.map((c) => [c.ok, c.what, c.fix]),
    [[false, `Microsoft Edge: no registry key: HKCU|HKLM\\${KEYS[1]}`, `msiexec /i nesbridge-${VERSION}-x64.msi`]]);
  assert.strictEqual(report.checks.filter((c) => c.area === "browser").length, 0);
  wine(["reg", "delete", appPath, "/f"]);
});

/* The Windows build's PC/SC path, under wine: tests/win/winscard_shim.c
 * stands in for winscard.dll (wine's is a stub) with the virtual NES card,
 * locked by three wrong PINs; tests/win/launch.exe starts the host with
 * Windows pipes, as a browser does. The whole unlock runs through
 * nesbridge-host.exe: reader list with pinpad detection, connect, status,
 * reads, a cancelled wait, transactions, a nonce, the authority's signed
 * script and the new PIN. */
test("wine: the whole unlock through nesbridge-host.exe and a stand-in winscard.dll", async () => {
  execFileSync("make", ["-s", "--no-print-directory", "win-shim", "BUILD=" + BUILD], { cwd: ROOT, stdio: "ignore" });
  const authority = require("../../site/authority.js");
  const dir = SHIM_DIR;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "trust.d"), { recursive: true });
  fs.copyFileSync(EXE, path.join(dir, "nesbridge-host.exe"));
  fs.copyFileSync(path.join(WIN, "shim", "winscard.dll"), path.join(dir, "winscard.dll"));
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  fs.writeFileSync(path.join(dir, "trust.d", "authority.pem"), publicKey.export({ type: "spki", format: "pem" }));
  const env = Object.assign({}, WINE_ENV, { WINEDLLOVERRIDES: "winscard=n;mscoree,mshtml=" });
  const host = new Host([CALLER], { command: ["wine", path.join(WIN, "shim", "launch.exe"), path.join(dir, "nesbridge-host.exe")], env });
  const READER = "nesbridge Wine Shim Reader 0";
  const call = async (cmd, args, id) => {
    const r = await host.call(request(cmd, args, id), 20000);
    assert.strictEqual(r.ok, true, cmd + ": " + JSON.stringify(r));
    return r.result;
  };
  try {
    await call("hello", { protocol: 1 });
    const readers = (await call("list-readers", {})).readers;
    /* pinpad.modify: the Windows CM_IOCTL_GET_FEATURE_REQUEST reached the reader. */
    assert.deepStrictEqual(readers, [{ name: READER, state: ["present"], atr: "3B9F968131FE45806755454B41451293318073B3A1806B", pinpad: { verify: false, modify: true } }]);
    const conn = await call("connect", { reader: READER, share: "shared" });
    assert.deepStrictEqual([conn.protocol, conn.atr], ["t1", "3B9F968131FE45806755454B41451293318073B3A1806B"]);
    const h = conn.handle;
    /* Windows says SCARD_SPECIFIC; the page sees the same bits as on Linux. */
    assert.deepStrictEqual((await call("status", { handle: h })).state, ["present", "powered", "specific"]);
    const serialHex = (await call("transmit", { handle: h, apdu: "00CA005A00" })).data;
    const serial = Buffer.from(serialHex, "hex").toString("ascii");
    assert.strictEqual(serial, "NBWINE0001");
    assert.strictEqual((await call("transmit", { handle: h, apdu: "00200081" })).sw, "6983", "locked");

    /* A wait is cancelled by the next request, through PeekNamedPipe. */
    host.frame(request("wait-for-change", { readers: { [READER]: ["present"] }, timeout_ms: 20000 }, 7));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = Date.now();
    host.frame(request("hello", { protocol: 1 }, 8));
    const cancelled = await host.reply(5000);
    assert.deepStrictEqual([cancelled.id, cancelled.error.code], [7, "system-cancelled"]);
    assert.ok(Date.now() - t0 < 1000, "cancelled in " + (Date.now() - t0) + " ms");
    assert.strictEqual((await host.reply(5000)).id, 8);

    await call("begin-transaction", { handle: h });
    await call("end-transaction", { handle: h, disposition: "leave" });

    const challenge = (await call("transmit", { handle: h, apdu: "0084000008" })).data;
    const { nonce } = await call("get-nonce", { handle: h });
    const signed = authority.signedUnlockScript(privateKey, {
      nonce, atr: conn.atr, serial, challenge, master: Buffer.from("4E4553425249444745444D4F4B455931", "hex"), now: Date.now(),
    });
    const run = await call("run-script", Object.assign({ handle: h, new_pin: "24681357", new_pin_confirm: "24681357" }, signed));
    const done = { sw: "9000", data: null };
    assert.deepStrictEqual(run, { completed: true, stopped_at: null, steps: [done, done, done] });
    assert.strictEqual((await call("transmit", { handle: h, apdu: "00200081" })).sw, "63C3", "unlocked, three tries");
    /* The same script again: its nonce is spent. */
    const replay = await host.call(request("run-script", Object.assign({ handle: h, new_pin: "24681357", new_pin_confirm: "24681357" }, signed), 9), 20000);
    assert.strictEqual(replay.error.code, "nonce-replayed");
    await call("disconnect", { handle: h, disposition: "leave" });
  } finally {
    const end = await host.end(10000);
    assert.deepStrictEqual(end, { code: 0, signal: null }, host.stderr);
  }
});

/* The watchdog in the Windows build (winpthreads, PeekNamedPipe): a card
 * that stops answering gets unresponsive-card after card_timeout_ms, read
 * from nesbridge.conf beside the exe, and the host ends; if the port
 * closes meanwhile the host ends at once. */
test("wine: a card that stops answering, with the timeout from nesbridge.conf beside the exe", async () => {
  const dir = SHIM_DIR;
  assert.ok(fs.existsSync(path.join(dir, "winscard.dll")), "runs after the unlock test");
  fs.writeFileSync(path.join(dir, "nesbridge.conf"), "card_timeout_ms = 1000\n", { mode: 0o644 });
  const env = Object.assign({}, WINE_ENV, { WINEDLLOVERRIDES: "winscard=n;mscoree,mshtml=", NB_SHIM_MUTE: "1" });
  const start = () => new Host([CALLER], { command: ["wine", path.join(WIN, "shim", "launch.exe"), path.join(dir, "nesbridge-host.exe")], env });
  const READER = "nesbridge Wine Shim Reader 0";
  try {
    let host = start();
    assert.strictEqual((await host.call(request("hello", { protocol: 1 }), 20000)).ok, true);
    const h = (await host.call(request("connect", { reader: READER, share: "shared" }, 2), 5000)).result.handle;
    host.frame(request("transmit", { handle: h, apdu: "00CA005A00" }, 3));
    let t0 = Date.now();
    const reply = await host.reply(10000);
    const waited = Date.now() - t0;
    assert.deepStrictEqual([reply.id, reply.error.code], [3, "unresponsive-card"]);
    assert.ok(waited >= 900 && waited < 3000, "answered after " + waited + " ms");
    assert.strictEqual((await host.exited).code, 1);

    host = start();
    await host.call(request("hello", { protocol: 1 }), 20000);
    const h2 = (await host.call(request("connect", { reader: READER, share: "shared" }, 2), 5000)).result.handle;
    host.frame(request("transmit", { handle: h2, apdu: "00CA005A00" }, 3));
    await new Promise((resolve) => setTimeout(resolve, 200));
    t0 = Date.now();
    const end = await host.end(5000);
    assert.deepStrictEqual(end, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 1000, "ended " + (Date.now() - t0) + " ms after the port closed");
  } finally {
    fs.rmSync(path.join(dir, "nesbridge.conf"), { force: true });
  }
});
