/* SPDX-License-Identifier: Apache-2.0 */
/* A small Marionette client (Firefox's remote protocol; Debian ships no
 * geckodriver): install the add-on, open pages, find and fill elements,
 * switch to the extension's PIN window. Messages are "length:JSON"; commands are
 * [0, id, name, params], answers [1, id, error, result]. */
"use strict";

const net = require("net");
const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");
const H = require("../browser/harness");

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

async function connect(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("error", reject);
        socket.once("connect", () => resolve(socket));
      });
    } catch (e) {
      if (Date.now() > deadline) throw new Error("Marionette did not listen on port " + port);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function session(socket) {
  let buffer = Buffer.alloc(0);
  const waiting = new Map();
  let nextId = 1, greeted;
  const greeting = new Promise((r) => { greeted = r; });
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const colon = buffer.indexOf(":");
      if (colon < 0) return;
      const len = Number(buffer.subarray(0, colon).toString());
      if (buffer.length < colon + 1 + len) return;
      const message = JSON.parse(buffer.subarray(colon + 1, colon + 1 + len).toString());
      buffer = buffer.subarray(colon + 1 + len);
      if (!Array.isArray(message)) { greeted(message); continue; }
      const [, id, error, result] = message;
      const w = waiting.get(id);
      if (!w) continue;
      waiting.delete(id);
      if (error) w.reject(new Error(error.error + ": " + error.message));
      else w.resolve(result);
    }
  });
  await greeting;
  const command = (name, params) => {
    const id = nextId++;
    const body = Buffer.from(JSON.stringify([0, id, name, params || {}]));
    socket.write(Buffer.concat([Buffer.from(body.length + ":"), body]));
    return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
  };
  await command("WebDriver:NewSession", { capabilities: { alwaysMatch: { timeouts: { implicit: 10000 } } } });
  return command;
}

/* Firefox ESR, headless, with Marionette on a free port and the add-on
 * installed temporarily; HOME holds the native manifest. systemAccess:
 * Marionette may also run script in the browser's own (chrome) context,
 * e.g. to end the add-on's background as Firefox does when it is idle. */
async function launchFirefox(xpi, { env, port, prefs, systemAccess }) {
  const home = H.tempDir("ffhome");
  const profile = path.join(home, "profile");
  fs.mkdirSync(profile, { recursive: true });
  fs.writeFileSync(path.join(profile, "user.js"), [
    `user_pref("marionette.port", ${port});`,
    'user_pref("browser.shell.checkDefaultBrowser", false);',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("app.update.enabled", false);',
    'user_pref("extensions.update.enabled", false);',
    ...Object.entries(prefs || {}).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`),
  ].join("\n") + "\n");
  const hosts = path.join(home, ".mozilla", "native-messaging-hosts");
  fs.mkdirSync(hosts, { recursive: true });
  fs.writeFileSync(path.join(hosts, "tr.gov.kamusm.nesbridge.json"), H.nativeManifest("firefox", H.HOST));
  const child = spawn("/usr/bin/firefox-esr", ["--headless", "--marionette", "--no-remote",
    ...(systemAccess ? ["-remote-allow-system-access"] : []), "-profile", profile], {
    env: Object.assign({}, process.env, env, { HOME: home }), stdio: "ignore" });
  const socket = await connect(port, 30000);
  const command = await session(socket);
  await command("Addon:Install", { path: xpi, temporary: true });
  const find = async (css) => (await command("WebDriver:FindElement", { using: "css selector", value: css })).value[ELEMENT];
  const api = {
    command,
    goto: (url) => command("WebDriver:Navigate", { url }),
    url: async () => (await command("WebDriver:GetCurrentURL")).value,
    click: async (css) => command("WebDriver:ElementClick", { id: await find(css) }),
    fill: async (css, text) => {
      const id = await find(css);
      await command("WebDriver:ElementClear", { id });
      await command("WebDriver:ElementSendKeys", { id, text });
    },
    text: async (css) => (await command("WebDriver:GetElementText", { id: await find(css) })).value,
    evaluate: async (script, args) => (await command("WebDriver:ExecuteAsyncScript", {
      script: "const done = arguments[arguments.length - 1]; (async () => { " + script + " })().then(done, (e) => done('error: ' + e));",
      args: args || [] })).value,
    waitFor: async (script, ms) => {
      const deadline = Date.now() + (ms || 15000);
      for (;;) {
        if ((await command("WebDriver:ExecuteScript", { script: "return Boolean(" + script + ");" })).value) return;
        if (Date.now() > deadline) throw new Error("timed out waiting for " + script);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    handle: async () => (await command("WebDriver:GetWindowHandle")).value,
    handles: async () => { const r = await command("WebDriver:GetWindowHandles"); return [].concat(r.value || r); },
    switchTo: (handle) => command("WebDriver:SwitchToWindow", { handle, focus: true }),
    closeWindow: () => command("WebDriver:CloseWindow"),
    /* Waits for a window that is not among known and has loaded url's
     * prefix (the extension's PIN window), and switches to it. */
    async intoNewWindow(known, prefix, ms) {
      const deadline = Date.now() + (ms || 15000);
      for (;;) {
        const fresh = (await api.handles()).filter((h) => !known.includes(h));
        if (fresh.length > 0) {
          await api.switchTo(fresh[0]);
          if ((await api.url()).startsWith(prefix)) return fresh[0];
        }
        if (Date.now() > deadline) throw new Error("no new window at " + prefix);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitGone(handle, ms) {
      const deadline = Date.now() + (ms || 15000);
      while ((await api.handles()).includes(handle)) {
        if (Date.now() > deadline) throw new Error("window " + handle + " did not close");
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /* Runs script in the browser's chrome context (needs systemAccess),
     * then back to content. */
    async chrome(script) {
      await command("Marionette:SetContext", { value: "chrome" });
      try {
        return await api.evaluate(script);
      } finally {
        await command("Marionette:SetContext", { value: "content" });
      }
    },
    keys: async (css, text) => command("WebDriver:ElementSendKeys", { id: await find(css), text }),
    screenshot: async (file) => fs.writeFileSync(file, Buffer.from((await command("WebDriver:TakeScreenshot", { full: true })).value, "base64")),
    close() {
      return new Promise((resolve) => {
        socket.destroy();
        const done = () => { fs.rmSync(home, { recursive: true, force: true }); resolve(); };
        if (child.exitCode !== null) return done();
        child.once("exit", done);
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000);
      });
    },
  };
  return api;
}

module.exports = { launchFirefox };
