/* SPDX-License-Identifier: Apache-2.0 */
/* The background's PIN window logic (extension/background.js) against a
 * fake chrome.* API: who may answer, what reaches the host, what the page
 * and the window hear. */
"use strict";

const { test, mock } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const NB = require("../../extension/common.js");

const SOURCE = fs.readFileSync(path.join(__dirname, "..", "..", "extension", "background.js"), "utf8");
const COMMON = fs.readFileSync(path.join(__dirname, "..", "..", "extension", "common.js"), "utf8");
const ORIGIN = "https://nesbireysel.kamusm.gov.tr";
const BASE = "chrome-extension://nesbridgeid/";

function emitter() {
  const listeners = [];
  return {
    addListener: (f) => listeners.push(f),
    removeListener: (f) => listeners.splice(listeners.indexOf(f), 1),
    emit: (...a) => listeners.slice().forEach((f) => f(...a)),
  };
}

/* A runtime port; what the test posts into it arrives as a copy made in
 * the background's realm, as a browser's structured clone would. */
function fakePort(name, sender, intoBackground) {
  const onMessage = emitter();
  const emit = onMessage.emit;
  onMessage.emit = (m) => emit(intoBackground(JSON.stringify(m)));
  const port = {
    name, sender, sent: [], disconnected: false,
    onMessage, onDisconnect: emitter(),
    postMessage(m) {
      if (port.disconnected) throw new Error("disconnected port");
      port.sent.push(JSON.parse(JSON.stringify(m)));
    },
    disconnect() { port.disconnected = true; },
  };
  return port;
}

/* Loads background.js into a fresh context with a fake browser. */
function load() {
  const onConnect = emitter();
  const onRemoved = emitter();
  const world = { natives: [], created: [], removed: [] };
  let nextWindow = 100;
  const chrome = {
    runtime: {
      id: "nesbridgeid", lastError: undefined, onConnect,
      getURL: (p) => BASE + p,
      connectNative(name) {
        const native = fakePort(name, null, intoBackground);
        world.natives.push(native);
        return native;
      },
    },
    windows: {
      onRemoved,
      create(opts, callback) {
        const id = nextWindow++;
        world.created.push(Object.assign({ id }, opts));
        setImmediate(() => callback({ id }));
      },
      remove(id, callback) {
        world.removed.push(id);
        setImmediate(() => { onRemoved.emit(id); callback(); });
      },
    },
  };
  const context = vm.createContext({
    chrome, crypto: globalThis.crypto, URL, atob, TextDecoder, TextEncoder,
    setTimeout: (...a) => setTimeout(...a), clearTimeout: (...a) => clearTimeout(...a),
  });
  const intoBackground = (json) => vm.runInContext("JSON.parse(" + JSON.stringify(json) + ")", context);
  vm.runInContext(COMMON, context);
  vm.runInContext(SOURCE, context);
  world.page = (tabId, origin) => {
    const from = origin || ORIGIN;
    const port = fakePort("nesbridge-page", { id: "nesbridgeid", tab: { id: tabId || 5 }, origin: from, url: from + "/kilit" },
      intoBackground);
    onConnect.emit(port);
    return port;
  };
  /* The PIN window's page connecting, as the window of create() #n. */
  world.window = (n, override) => {
    const created = world.created[n];
    const token = created.url.split("#")[1];
    const port = fakePort("nesbridge-pin:" + token, Object.assign({ id: "nesbridgeid", url: created.url, frameId: 0,
      tab: { id: 900 + n, windowId: created.id } }, override || {}), intoBackground);
    onConnect.emit(port);
    return port;
  };
  world.close = (n) => onRemoved.emit(world.created[n].id);
  return world;
}

const tick = () => new Promise((r) => setImmediate(r));
const SCRIPT = Buffer.from(JSON.stringify({ version: 1, steps: [{ new_pin: { apdu_prefix: "002C0181", min_len: 6,
  max_len: 8, charset: "digits", confirm: true, pad_to: 8, pad_byte: "FF" }, expect: ["9000"] }] })).toString("base64");
const RUN = { cmd: "run-script", args: { handle: 77, script: SCRIPT, signature: "c2ln", key_id: "AB".repeat(32) } };

/* A page connected to a card through reader R, then asking for a PIN. */
async function askFromPage(world, extra) {
  const page = world.page();
  page.onMessage.emit({ id: "c", cmd: "connect", args: { reader: "R" } });
  const native = world.natives[0];
  native.onMessage.emit({ id: native.sent[0].id, ok: true, result: { handle: 77, protocol: "t1", atr: "3B" } });
  page.onMessage.emit(Object.assign({ id: "run" }, RUN, { ask_pin: { serial: "NES123" } }, extra || {}));
  await tick();
  return { page, native };
}

test("the PIN window: opened by the extension, told who asks; the PIN goes to the host, never to the page", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const world = load();
    const { page, native } = await askFromPage(world);
    assert.strictEqual(world.created.length, 1);
    const created = world.created[0];
    assert.match(created.url, /^chrome-extension:\/\/nesbridgeid\/pin\.html#[0-9a-f]{48}$/);
    assert.strictEqual(created.type, "popup");
    assert.strictEqual(native.sent.length, 1, "nothing goes to the host before the PIN");
    const win = world.window(0);
    assert.deepStrictEqual(win.sent, [{ type: "show", origin: ORIGIN, reader: "R", serial: "NES123", min: 6, max: 8,
      confirm: true, action: "unblock" }]);
    win.onMessage.emit({ type: "pin", pin: "24681357", confirm: "24681357" });
    await tick();
    const request = native.sent[1];
    assert.deepStrictEqual(request.args, Object.assign({}, RUN.args, { new_pin: "24681357", new_pin_confirm: "24681357" }));
    assert.strictEqual(request.origin, ORIGIN);
    native.onMessage.emit({ id: request.id, ok: true, result: { completed: true, stopped_at: null, steps: [{ sw: "9000", data: null }] } });
    assert.deepStrictEqual(win.sent[1], { type: "done", done: true, code: null });
    assert.deepStrictEqual(page.sent.at(-1), { id: "run", ok: true,
      result: { completed: true, stopped_at: null, steps: [{ sw: "9000", data: null }] } });
    assert.ok(!JSON.stringify(page.sent).includes("24681357"), "the page never hears the PIN");
    assert.deepStrictEqual(world.removed, [], "the window stays to say how it ended");
    mock.timers.tick(2500);
    assert.deepStrictEqual(world.removed, [created.id], "then closes itself");
  } finally {
    mock.timers.reset();
  }
});

test("the PIN window hears done only when the script completed; host refusals keep their code", async () => {
  const world = load();
  const { page, native } = await askFromPage(world);
  const win = world.window(0);
  win.onMessage.emit({ type: "pin", pin: "123456", confirm: "123456" });
  await tick();
  native.onMessage.emit({ id: native.sent[1].id, ok: true, result: { completed: false, stopped_at: 0, steps: [{ sw: "63C2", data: null }] } });
  assert.deepStrictEqual(win.sent[1], { type: "done", done: false, code: "not-completed" });
  assert.strictEqual(page.sent.at(-1).result.completed, false);
  /* A host refusal goes to the page as it is; the window shows the code. */
  for (const code of ["pin-format", "pin-mismatch", "pin-required"]) {
    const w2 = load();
    const p2 = await askFromPage(w2);
    const win2 = w2.window(0);
    win2.onMessage.emit({ type: "pin", pin: "123456", confirm: "123456" });
    await tick();
    p2.native.onMessage.emit({ id: p2.native.sent[1].id, ok: false, error: { code, message: "m" } });
    assert.deepStrictEqual(p2.page.sent.at(-1), { id: "run", ok: false, error: { code, message: "m" } });
    assert.deepStrictEqual(win2.sent[1], { type: "done", done: false, code });
  }
});

test("closing the window, Escape, or a PIN against the rules: the page hears its own code and nothing reaches the host", async () => {
  const cases = [
    ["closed", (world) => world.close(0), "pin-cancelled"],
    ["window page gone", (world, win) => win.onDisconnect.emit(), "pin-cancelled"],
    ["escape", (world, win) => win.onMessage.emit({ type: "cancel" }), "pin-cancelled"],
    ["too short", (world, win) => win.onMessage.emit({ type: "pin", pin: "123", confirm: "123" }), "pin-format"],
    ["differs", (world, win) => win.onMessage.emit({ type: "pin", pin: "123456", confirm: "654321" }), "pin-mismatch"],
  ];
  for (const [name, act, code] of cases) {
    const world = load();
    const { page, native } = await askFromPage(world);
    const win = world.window(0);
    act(world, win);
    await tick();
    assert.strictEqual(page.sent.at(-1).id, "run", name);
    assert.strictEqual(page.sent.at(-1).error.code, code, name);
    assert.strictEqual(native.sent.length, 1, name + ": only the connect reached the host");
    if (name === "escape" || name === "too short") assert.deepStrictEqual(world.removed, [world.created[0].id], name);
    /* The tab may ask again, in a new window. */
    page.onMessage.emit(Object.assign({ id: "again" }, RUN, { ask_pin: {} }));
    await tick();
    assert.strictEqual(world.created.length, 2, name);
  }
});

test("one PIN window per tab; a page going away closes its window", async () => {
  const world = load();
  const { page, native } = await askFromPage(world);
  page.onMessage.emit(Object.assign({ id: "second" }, RUN, { ask_pin: {} }));
  await tick();
  assert.strictEqual(world.created.length, 1);
  assert.deepStrictEqual(page.sent.at(-1).id, "second");
  assert.strictEqual(page.sent.at(-1).error.code, "bad-request");
  assert.match(page.sent.at(-1).error.message, /already open/);
  /* Another tab has its own. */
  const other = world.page(6);
  other.onMessage.emit(Object.assign({ id: "o" }, RUN, { ask_pin: {} }));
  await tick();
  assert.strictEqual(world.created.length, 2);
  page.onDisconnect.emit();
  assert.deepStrictEqual(world.removed, [world.created[0].id]);
  assert.ok(native.disconnected);
  /* A script that asks for no PIN cannot open a window. */
  const w2 = load();
  const p2 = w2.page();
  p2.onMessage.emit({ id: "x", cmd: "run-script", args: Object.assign({}, RUN.args,
    { script: Buffer.from('{"steps":[]}').toString("base64") }), ask_pin: {} });
  await tick();
  assert.strictEqual(w2.created.length, 0);
  assert.strictEqual(p2.sent[0].error.code, "bad-request");
});

test("only the window the extension opened may answer: frames, other pages and replayed tokens are refused", async () => {
  for (const override of [{ frameId: 3 }, { url: BASE + "pin.html#" + "0".repeat(48) }, { id: "another-extension" },
    { tab: { id: 5, windowId: 1 } }]) {
    const world = load();
    await askFromPage(world);
    await tick();
    const impostor = world.window(0, override);
    assert.ok(impostor.disconnected, JSON.stringify(override));
    assert.deepStrictEqual(impostor.sent, []);
  }
  const world = load();
  await askFromPage(world);
  const win = world.window(0);
  const twin = world.window(0);
  assert.ok(twin.disconnected, "a second port for the same window");
  assert.strictEqual(win.sent.length, 1);
});

test("the host gets the sender's origin, never the one a page message claims", () => {
  const world = load();
  const page = world.page(5, "https://a.kamusm.gov.tr");
  page.onMessage.emit({ id: 1, cmd: "hello", args: { protocol: 1 }, origin: "https://kamusm.gov.tr" });
  page.onMessage.emit({ id: 2, cmd: "list-readers", origin: "https://kamusm.gov.tr", args: { origin: "x" } });
  const native = world.natives[0];
  assert.strictEqual(native.sent.length, 2);
  assert.deepStrictEqual(native.sent.map((m) => m.origin), ["https://a.kamusm.gov.tr", "https://a.kamusm.gov.tr"]);
  assert.deepStrictEqual(Object.keys(native.sent[0]).sort(), ["args", "cmd", "id", "origin"]);
  /* args are the page's to fill (the host refuses an unknown key). */
  assert.deepStrictEqual(native.sent[1].args, { origin: "x" });
});

test("a reply with id null fails the page's oldest pending request with the host's error", () => {
  const world = load();
  const page = world.page();
  page.onMessage.emit({ id: "a", cmd: "hello", args: { protocol: 1 } });
  page.onMessage.emit({ id: "b", cmd: "list-readers" });
  const native = world.natives[0];
  native.onMessage.emit({ id: null, ok: false, error: { code: "bad-request", message: "nesting over 8" } });
  assert.deepStrictEqual(page.sent, [{ id: "a", ok: false, error: { code: "bad-request", message: "nesting over 8" } }]);
  native.onMessage.emit({ id: native.sent[1].id, ok: true, result: { truncated: false, readers: [] } });
  assert.deepStrictEqual(page.sent[1], { id: "b", ok: true, result: { truncated: false, readers: [] } });
  /* Nothing pending: a stray null reply answers nobody. */
  native.onMessage.emit({ id: null, ok: false, error: { code: "bad-request", message: "m" } });
  assert.strictEqual(page.sent.length, 2);
});

test("a lost native port fails everything pending on it at once; a newer port is not touched by an older one", () => {
  const world = load();
  const page = world.page();
  page.onMessage.emit({ id: 1, cmd: "hello", args: { protocol: 1 } });
  const first = world.natives[0];
  first.onMessage.emit({ id: first.sent[0].id, ok: true, result: { protocol: 1 } });
  page.onMessage.emit({ id: 2, cmd: "wait-for-change", args: { readers: {}, timeout_ms: 1000 } });
  page.onMessage.emit({ id: 3, cmd: "list-readers" });
  first.onDisconnect.emit();
  assert.deepStrictEqual(page.sent.slice(1).map((r) => [r.id, r.error.code]),
    [[2, "native-disconnected"], [3, "native-disconnected"]]);
  /* The next request starts a new host; the old port's late events change nothing. */
  page.onMessage.emit({ id: 4, cmd: "hello", args: { protocol: 1 } });
  assert.strictEqual(world.natives.length, 2);
  const second = world.natives[1];
  first.onDisconnect.emit();
  first.onMessage.emit({ id: second.sent[0].id, ok: true, result: { protocol: 99 } });
  assert.strictEqual(page.sent.length, 3, "the old port answers nothing");
  second.onMessage.emit({ id: second.sent[0].id, ok: true, result: { protocol: 1 } });
  assert.deepStrictEqual(page.sent[3], { id: 4, ok: true, result: { protocol: 1 } });
  /* A host that was never there: native-unavailable. */
  page.onMessage.emit({ id: 5, cmd: "list-readers" });
  second.onDisconnect.emit();
  assert.deepStrictEqual([page.sent[4].id, page.sent[4].error.code], [5, "native-disconnected"]);
  page.onMessage.emit({ id: 6, cmd: "hello", args: { protocol: 1 } });
  world.natives[2].onDisconnect.emit();
  assert.deepStrictEqual([page.sent[5].id, page.sent[5].error.code], [6, "native-unavailable"]);
});

test("a request too large for native messaging is refused with message-too-large and nothing is sent", () => {
  const world = load();
  const page = world.page();
  /* The native message: {"id":N,"cmd":"transmit","origin":...,"args":{"handle":1,"apdu":"..."}} */
  const frame = (apdu) => NB.nativeSize({ id: Number.MAX_SAFE_INTEGER, cmd: "transmit", origin: ORIGIN,
    args: { handle: 1, apdu } });
  const fits = "00".repeat(1000);
  const pad = NB.MAX_REQUEST_BYTES - frame(fits);
  const atLimit = fits + "A".repeat(pad);
  assert.strictEqual(frame(atLimit), NB.MAX_REQUEST_BYTES);
  page.onMessage.emit({ id: "over", cmd: "transmit", args: { handle: 1, apdu: atLimit + "A" } });
  assert.deepStrictEqual([page.sent[0].id, page.sent[0].error.code], ["over", "message-too-large"]);
  assert.strictEqual(world.natives.length, 0, "no host was even started");
  page.onMessage.emit({ id: "limit", cmd: "transmit", args: { handle: 1, apdu: atLimit } });
  assert.strictEqual(world.natives[0].sent.length, 1, "at the limit it goes");
  /* Multi-byte characters count as their UTF-8 bytes. */
  page.onMessage.emit({ id: "utf8", cmd: "transmit", args: { handle: 1, apdu: "ş".repeat(131072) } });
  assert.strictEqual(page.sent.at(-1).error.code, "message-too-large");
  assert.strictEqual(world.natives[0].sent.length, 1);
});

test("a run-script with ask_pin too large for the host is refused before any window opens", async () => {
  const world = load();
  const page = world.page();
  page.onMessage.emit(Object.assign({ id: "big" }, RUN, { args: Object.assign({}, RUN.args, { signature: "A".repeat(262144) }),
    ask_pin: {} }));
  await tick();
  assert.strictEqual(world.created.length, 0);
  assert.deepStrictEqual([page.sent[0].id, page.sent[0].error.code], ["big", "message-too-large"]);
});

test("cancel from the page closes its PIN window still asking; the run-script ends with pin-cancelled", async () => {
  const world = load();
  const { page, native } = await askFromPage(world);
  page.onMessage.emit({ id: "stop", cmd: "cancel" });
  await tick();
  assert.deepStrictEqual(world.removed, [world.created[0].id]);
  const run = page.sent.find((r) => r.id === "run");
  assert.strictEqual(run.error.code, "pin-cancelled");
  assert.deepStrictEqual(native.sent.map((m) => m.cmd), ["connect", "cancel"], "no run-script reached the host");
});

test("with a pinpad the window has no field: the script goes to the host once it shows, and its closing stops nothing", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const world = load();
    const pinpadRun = Object.assign({}, RUN, { args: Object.assign({ pinpad: true }, RUN.args) });
    const { page, native } = await askFromPage(world, pinpadRun);
    assert.strictEqual(native.sent.length, 1, "nothing goes to the host before the window shows");
    const win = world.window(0);
    assert.deepStrictEqual(win.sent, [{ type: "show", origin: ORIGIN, reader: "R", serial: "NES123", min: 6, max: 8,
      confirm: true, action: "unblock", keypad: true }]);
    await tick();
    const request = native.sent[1];
    assert.deepStrictEqual(request.args, pinpadRun.args, "no PIN added: the holder types it on the reader");
    /* Escape, Cancel or closing the window cannot stop the reader: the
     * run goes on, and the window is still one per tab. */
    win.onMessage.emit({ type: "cancel" });
    world.close(0);
    win.onDisconnect.emit();
    await tick();
    assert.ok(!page.sent.some((r) => r.id === "run"), "the page hears the reader's answer, not the window's");
    page.onMessage.emit(Object.assign({ id: "second" }, RUN, { ask_pin: {} }));
    await tick();
    assert.deepStrictEqual([page.sent.at(-1).id, page.sent.at(-1).error.code], ["second", "bad-request"]);
    assert.strictEqual(world.created.length, 1);
    /* The holder pressed Cancel on the reader: the host's code reaches the page. */
    native.onMessage.emit({ id: request.id, ok: false, error: { code: "pin-cancelled", message: "6401" } });
    assert.deepStrictEqual(page.sent.at(-1), { id: "run", ok: false, error: { code: "pin-cancelled", message: "6401" } });
    /* The next request of the tab opens a new window. */
    page.onMessage.emit(Object.assign({ id: "again" }, pinpadRun, { ask_pin: {} }));
    await tick();
    assert.strictEqual(world.created.length, 2);
  } finally {
    mock.timers.reset();
  }
});
