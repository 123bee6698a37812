/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the browser tests: the test web server, the dev build of
 * the extension, the host's configuration and manifests, and launching
 * Debian's Chromium (through playwright-core) and Firefox ESR (sideloaded
 * add-on, results posted back to the server). */
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const os = require("os");
const { execFileSync, spawn } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));
const HOST = path.join(BUILD, "nesbridge-host");
const CHROMIUM = "/usr/lib/chromium/chromium";
const FIREFOX = "/usr/bin/firefox-esr";
const HOST_NAME = "tr.gov.kamusm.nesbridge";
const ADDON_ID = "nesbridge@kamusm.gov.tr";

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), "nb-" + name + "-"));
}

/* Signs a script that asks for a PIN and VERIFYs it (tests only). */
function signPinScript(signing, nonce, atr) {
  const notAfter = new Date(Date.now() + 120000).toISOString().replace(/\.\d+Z$/, "Z");
  const script = JSON.stringify({
    version: 1, nonce, atr, not_after: notAfter,
    steps: [{ new_pin: { apdu_prefix: "00200081", min_len: 6, max_len: 8, charset: "digits", confirm: true,
      pad_to: 8, pad_byte: "FF" }, expect: ["9000"] }],
  });
  const file = path.join(signing.dir, "script-" + Date.now() + ".json");
  fs.writeFileSync(file, script);
  return execFileSync(path.join(BUILD, "nesbridge-sign"), ["--key", signing.key, "--in", file]).toString();
}

/* A throw-away authority key: private for signing, public in the trust dir. */
function makeSigningKey(dir) {
  const trust = path.join(dir, "trust");
  fs.mkdirSync(trust, { mode: 0o755 });
  const key = path.join(dir, "authority.key");
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], { stdio: "ignore" });
  execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-out", path.join(trust, "authority.pem")], { stdio: "ignore" });
  fs.chmodSync(path.join(trust, "authority.pem"), 0o644);
  return { dir, key, trust };
}

/* Serves the test pages and nes-bridge.js, collects posted results. */
async function startServer(signing) {
  const waiters = new Map();
  const results = new Map();
  const gates = new Map(); /* name -> {open, waiting: [res]} */
  const gate = (name) => {
    if (!gates.has(name)) gates.set(name, { open: false, waiting: [] });
    return gates.get(name);
  };
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8" };
  const handler = (req, res) => {
    const url = new URL(req.url, "http://x");
    if (req.method === "POST" && url.pathname.startsWith("/result/")) {
      let body = "";
      req.on("data", (c) => { body += c; });
      req.on("end", () => {
        const run = decodeURIComponent(url.pathname.slice(8));
        results.set(run, JSON.parse(body));
        if (waiters.has(run)) waiters.get(run)();
        res.end("ok");
      });
      return;
    }
    if (req.method === "POST" && url.pathname === "/sign" && signing) {
      let body = "";
      req.on("data", (c) => { body += c; });
      req.on("end", () => {
        const { nonce, atr } = JSON.parse(body);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(signPinScript(signing, nonce, atr));
      });
      return;
    }
    /* A page waits here until the test opens the gate. */
    if (url.pathname.startsWith("/gate/")) {
      const g = gate(decodeURIComponent(url.pathname.slice(6)));
      if (g.open) res.end("open");
      else g.waiting.push(res);
      return;
    }
    let file = null;
    if (url.pathname.startsWith("/pages/")) file = path.join(__dirname, "pages", path.basename(url.pathname));
    else if (url.pathname.startsWith("/lib/")) file = path.join(ROOT, "extension", "page", path.basename(url.pathname));
    if (file === null || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    res.end(fs.readFileSync(file));
  };
  const servers = [];
  const listen = (port) => new Promise((resolve, reject) => {
    const s = http.createServer(handler);
    s.on("error", reject);
    s.listen(port, "127.0.0.1", () => { servers.push(s); resolve(s.address().port); });
  });
  const portA = await listen(0);
  const portB = await listen(0);
  return {
    allowed: "http://localhost:" + portA,        /* extension and host serve it */
    extensionOnly: "http://localhost:" + portB,  /* the extension serves it, the host does not */
    foreign: "http://127.0.0.1:" + portA,        /* nobody serves it */
    waitResult(run, ms) {
      if (results.has(run)) return Promise.resolve(results.get(run));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no result for " + run)), ms);
        waiters.set(run, () => { clearTimeout(timer); resolve(results.get(run)); });
      });
    },
    open(name) {
      const g = gate(name);
      g.open = true;
      for (const res of g.waiting.splice(0)) res.end("open");
    },
    close() {
      for (const g of gates.values()) for (const res of g.waiting.splice(0)) res.end("closed");
      for (const s of servers) s.close();
    },
  };
}

/* A dev build of the extension for the test origins, plus its .xpi. */
function buildExtension(dir, origins) {
  execFileSync("node", [path.join(ROOT, "extension", "build.js"), dir, ...origins], { stdio: "ignore" });
  const xpi = dir + ".xpi";
  fs.rmSync(xpi, { force: true });
  execFileSync("zip", ["-q", "-r", "-X", xpi, "."], { cwd: dir });
  return { dir, xpi };
}

/* The host's configuration: the test origin is allowed, nothing else. */
function hostConfig(dir, allowedOrigin, trustDir, cardTimeoutMs) {
  const conf = path.join(dir, "nesbridge.conf");
  fs.writeFileSync(conf, "allow_origin = " + allowedOrigin + "\n" + (trustDir ? "trust_dir = " + trustDir + "\n" : "") +
    (cardTimeoutMs ? "card_timeout_ms = " + cardTimeoutMs + "\n" : ""), { mode: 0o600 });
  return conf;
}

function nativeManifest(kind, hostPath) {
  const template = fs.readFileSync(path.join(ROOT, "manifests", kind + ".json.in"), "utf8");
  return template.replace("@HOST_PATH@", hostPath);
}

/* lang: the holder's preferred language (navigator.language, which the
 * PIN window follows), e.g. "tr-TR". */
async function launchChromium(extensionDir, { withHost, env, headed, lang }) {
  const { chromium } = require("playwright-core");
  const userDataDir = tempDir("chromium");
  if (lang) {
    fs.mkdirSync(path.join(userDataDir, "Default"));
    fs.writeFileSync(path.join(userDataDir, "Default", "Preferences"),
      JSON.stringify({ intl: { accept_languages: lang + "," + lang.split("-")[0] } }));
  }
  if (withHost) {
    const hosts = path.join(userDataDir, "NativeMessagingHosts");
    fs.mkdirSync(hosts);
    fs.writeFileSync(path.join(hosts, HOST_NAME + ".json"), nativeManifest("chromium", HOST));
  }
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false,
    env: Object.assign({}, process.env, env),
    args: [
      ...(headed ? [] : ["--headless=new"]), "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-extensions-except=" + extensionDir, "--load-extension=" + extensionDir,
    ],
  });
  /* Wait for the extension's service worker: the content script needs it. */
  if (context.serviceWorkers().length === 0) await context.waitForEvent("serviceworker", { timeout: 10000 });
  return {
    context,
    extensionId: new URL(context.serviceWorkers()[0].url()).host,
    newPage: () => context.newPage(),
    /* The extension's PIN window, once it has loaded: a page of this
     * context (an extension popup window), not a frame of any tab. */
    async pinWindow(trigger) {
      const opened = context.waitForEvent("page", { timeout: 15000 });
      if (trigger) await trigger();
      const popup = await opened;
      await popup.waitForFunction(() => document.getElementById("pin") !== null &&
        !document.getElementById("pin").disabled, null, { timeout: 15000 });
      return popup;
    },
    async run(url) {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 15000 });
      const result = await page.evaluate(() => window.__result);
      return { page, result };
    },
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/* Firefox ESR with the add-on sideloaded into a fresh profile. HOME points
 * at a temporary directory that holds the native manifest (or not). */
function launchFirefox(xpi, url, { withHost, env }) {
  const home = tempDir("ffhome");
  const profile = path.join(home, "profile");
  fs.mkdirSync(path.join(profile, "extensions"), { recursive: true });
  fs.copyFileSync(xpi, path.join(profile, "extensions", ADDON_ID + ".xpi"));
  fs.writeFileSync(path.join(profile, "user.js"), [
    'user_pref("xpinstall.signatures.required", false);',
    'user_pref("extensions.autoDisableScopes", 0);',
    'user_pref("extensions.enabledScopes", 15);',
    'user_pref("browser.shell.checkDefaultBrowser", false);',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
    'user_pref("app.update.enabled", false);',
    'user_pref("browser.startup.homepage_override.mstone", "ignore");',
    'user_pref("network.captive-portal-service.enabled", false);',
    'user_pref("extensions.getAddons.cache.enabled", false);',
    'user_pref("extensions.update.enabled", false);',
  ].join("\n") + "\n");
  if (withHost) {
    const hosts = path.join(home, ".mozilla", "native-messaging-hosts");
    fs.mkdirSync(hosts, { recursive: true });
    fs.writeFileSync(path.join(hosts, HOST_NAME + ".json"), nativeManifest("firefox", HOST));
  }
  const child = spawn(FIREFOX, ["--headless", "--no-remote", "-profile", profile, url], {
    env: Object.assign({}, process.env, env, { HOME: home, MOZ_HEADLESS: "1" }),
    stdio: "ignore",
  });
  return {
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) { fs.rmSync(home, { recursive: true, force: true }); resolve(); return; }
        child.once("exit", () => { fs.rmSync(home, { recursive: true, force: true }); resolve(); });
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000);
      });
    },
  };
}

/* Steers the virtual card (tests/vcard.sh runs it with this socket), or
 * with socket "pinpad.sock" the pinpad reader's card and its keypad. */
function vcardControl(command, socketName) {
  const net = require("net");
  return new Promise((resolve, reject) => {
    const socket = net.connect(path.join(BUILD, "vcard-run", socketName || "control.sock"));
    let answer = "";
    socket.on("error", reject);
    socket.on("data", (d) => { answer += d; });
    socket.on("end", () => resolve(answer.trim()));
    socket.on("connect", () => socket.write(command + "\n"));
    setTimeout(() => { socket.destroy(); resolve(answer.trim()); }, 1000);
  }).then((answer) => {
    if (!answer.startsWith("ok")) throw new Error("vcard " + command + ": " + answer);
    return answer;
  });
}

/* The pinpad reader's card and keypad ("keypad DIGITS", "keypad cancel",
 * "keypad timeout", and every card command). */
function pinpadControl(command) {
  return vcardControl(command, "pinpad.sock");
}

/* Waits until the pinpad reader asks for a PIN entry (status keypad=waiting),
 * then types as the holder would: what the keypad gets once the reader
 * shows its prompt. */
async function typeOnKeypad(command, ms) {
  const deadline = Date.now() + (ms || 15000);
  while (!/\bkeypad=waiting\b/.test(await pinpadControl("status"))) {
    if (Date.now() > deadline) throw new Error("the pinpad reader never asked for a PIN");
    await new Promise((r) => setTimeout(r, 50));
  }
  return pinpadControl(command);
}

/* The host processes this test run started: our nesbridge-host binary,
 * with our configuration file in its environment (other runs on this
 * machine have their own). */
function hostPids(configFile) {
  const pids = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv0 = fs.readFileSync("/proc/" + entry + "/cmdline", "latin1").split("\0")[0];
      if (argv0 !== HOST) continue;
      const environ = fs.readFileSync("/proc/" + entry + "/environ", "latin1").split("\0");
      if (environ.includes("NESBRIDGE_CONFIG=" + configFile)) pids.push(Number(entry));
    } catch (e) {
      /* gone, or not ours */
    }
  }
  return pids;
}

/* Kills our hosts; resolves with how many. */
function killHosts(configFile) {
  const pids = hostPids(configFile);
  for (const pid of pids) process.kill(pid, "SIGKILL");
  return pids.length;
}

module.exports = {
  vcardControl, pinpadControl, typeOnKeypad, hostPids, killHosts,
  ROOT, BUILD, HOST, startServer, makeSigningKey, buildExtension, hostConfig, launchChromium, launchFirefox, tempDir,
  nativeManifest,
};
