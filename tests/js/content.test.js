/* SPDX-License-Identifier: Apache-2.0 */
/* The content script (extension/content.js) against a fake window and a
 * fake chrome.runtime: what the page hears when the port to the
 * background goes away. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const EXT = path.join(__dirname, "..", "..", "extension");
const ORIGIN = "https://nesbireysel.kamusm.gov.tr";

function emitter() {
  const listeners = [];
  return {
    addListener: (f) => listeners.push(f),
    emit: (...a) => listeners.slice().forEach((f) => f(...a)),
  };
}

/* Loads common.js and content.js into a fresh context: window messages
 * the page posts go to the content script, its replies are recorded. */
function load() {
  const world = { ports: [], toPage: [], throwOnConnect: false };
  const listeners = [];
  const window = {
    location: { origin: ORIGIN }, isSecureContext: true,
    addEventListener: (type, f) => listeners.push(f),
    postMessage(data, targetOrigin) {
      assert.strictEqual(targetOrigin, ORIGIN);
      if (data.nesbridge === "reply" || data.nesbridge === "pong") world.toPage.push(JSON.parse(JSON.stringify(data)));
    },
  };
  const chrome = {
    runtime: {
      lastError: undefined,
      connect({ name }) {
        if (world.throwOnConnect) throw new Error("Extension context invalidated.");
        const port = { name, sent: [], onMessage: emitter(), onDisconnect: emitter(), postMessage: (m) => port.sent.push(m) };
        world.ports.push(port);
        return port;
      },
    },
  };
  const context = vm.createContext({ window, chrome, URL, TextEncoder, TextDecoder, atob });
  vm.runInContext(fs.readFileSync(path.join(EXT, "common.js"), "utf8"), context);
  vm.runInContext(fs.readFileSync(path.join(EXT, "content.js"), "utf8"), context);
  world.post = (data) => listeners.forEach((f) => f({ source: window, origin: ORIGIN, data }));
  return world;
}

const request = (id, cmd, args) => ({ nesbridge: "request", id, cmd, args: args || {} });

test("a dropped port to the background fails everything pending at once, with extension-unavailable", () => {
  const world = load();
  world.post(request("a", "hello", { protocol: 1 }));
  world.post(request("b", "wait-for-change", { readers: {}, timeout_ms: 60000 }));
  world.post(request("b", "list-readers")); /* the page reused an id: both get an answer */
  world.post(request(7, "list-readers"));
  const port = world.ports[0];
  assert.strictEqual(port.sent.length, 4);
  port.onMessage.emit({ id: "a", ok: true, result: { protocol: 1 } });
  port.onDisconnect.emit();
  assert.deepStrictEqual(world.toPage.map((m) => [m.id, m.ok ? "ok" : m.error.code]),
    [["a", "ok"], ["b", "extension-unavailable"], ["b", "extension-unavailable"], [7, "extension-unavailable"]]);
  /* The next request opens a new port, and a later drop fails only its own. */
  world.post(request("c", "list-readers"));
  assert.strictEqual(world.ports.length, 2);
  world.ports[1].onMessage.emit({ id: "c", ok: true, result: { truncated: false, readers: [] } });
  world.ports[1].onDisconnect.emit();
  assert.strictEqual(world.toPage.length, 5);
  assert.strictEqual(world.toPage[4].ok, true);
});

test("an orphaned content script (the extension reloaded) answers extension-unavailable at once", () => {
  const world = load();
  world.throwOnConnect = true;
  world.post(request("x", "hello", { protocol: 1 }));
  assert.deepStrictEqual(world.toPage.map((m) => [m.id, m.error.code]), [["x", "extension-unavailable"]]);
});
