/* SPDX-License-Identifier: Apache-2.0 */
/* The page library (extension/page/nes-bridge.js) against a fake window
 * whose "extension" answers from a script: deadlines, AbortSignal, a host
 * that ends, the cards a page wants. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const SOURCE = fs.readFileSync(path.join(__dirname, "..", "..", "extension", "page", "nes-bridge.js"), "utf8");
const ORIGIN = "https://nesbireysel.kamusm.gov.tr";
const VIRTUAL_ATR = "3B88018066414B49534E4273";
const AKIS_V1 = "3BBA11008131FE4D55454B41452056312E30AE";
const AKIS_V12 = "3B9F968131FE45806755454B41451212318073B3A180EA";

/* host(request, world) answers a request: a reply object ({ok, result} or
 * {ok: false, error}), or undefined for none (yet). world.answer(id, reply)
 * answers later. timers: when given, records setTimeout delays. */
function load(host, options) {
  const opts = options || {};
  const world = { requests: [], delays: [], extension: opts.extension !== false };
  const listeners = [];
  const global = {
    location: { origin: ORIGIN },
    addEventListener: (type, f) => listeners.push(f),
    postMessage(data) {
      const copy = JSON.parse(JSON.stringify(data));
      setImmediate(() => {
        for (const f of listeners.slice()) f({ source: world.inside, origin: ORIGIN, data: copy });
        if (!world.extension) return;
        if (copy.nesbridge === "ping") global.postMessage({ nesbridge: "pong", protocol: 1 });
        if (copy.nesbridge === "request") {
          world.requests.push(copy);
          const reply = host(copy, world);
          if (reply) world.answer(copy.id, reply);
        }
      });
    },
    setTimeout: (f, ms) => { world.delays.push(ms); return setTimeout(f, ms); },
    clearTimeout: (t) => clearTimeout(t),
    Date, Promise, Error, TypeError, Map, Set, JSON, RegExp, Math, Number, Object, Array, String,
  };
  global.globalThis = global;
  world.answer = (id, reply) => global.postMessage(Object.assign({ nesbridge: "reply", id }, reply));
  const context = vm.createContext(global);
  world.inside = vm.runInContext("globalThis", context); /* the window as the library sees itself */
  vm.runInContext(SOURCE, context);
  world.NB = global.NesBridge;
  world.cmds = () => world.requests.map((r) => r.cmd);
  return world;
}

const ok = (result) => ({ ok: true, result });
const fail = (code) => ({ ok: false, error: { code, message: code } });
const HELLO = ok({ protocol: 1, host_version: "t", features: [] });
const codeOf = (p) => p.then(() => "resolved", (e) => e.code || String(e));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/* Waits until cond() holds, at most 5 s: on a loaded machine a step takes
 * longer than any fixed sleep. */
async function until(cond, what) {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error("never happened: " + what);
    await sleep(5);
  }
}
/* Objects made in the library's realm, compared as plain data. */
const plain = async (p) => JSON.parse(JSON.stringify(await p));

test("every call has a deadline: a default per command, or the caller's; then timeout", async () => {
  const world = load((r) => (r.cmd === "hello" ? HELLO : undefined));
  const t0 = Date.now();
  assert.strictEqual(await codeOf(world.NB.transmit(1, "00A40000", { timeoutMs: 80 })), "timeout");
  assert.ok(Date.now() - t0 < 1000);
  assert.deepStrictEqual(world.cmds(), ["hello", "transmit"], "nothing cancelled: a transmit cannot be");
  /* The defaults, as setTimeout saw them. */
  const defaults = load(() => undefined);
  const NB = defaults.NB;
  const started = [NB.hello(), NB.request("list-readers", {}, undefined, {}),
    NB.request("transmit", { handle: 1, apdu: "00" }), NB.request("wait-for-change", { readers: {}, timeout_ms: 5000 }),
    NB.request("run-script", { handle: 1 }, { ask_pin: {} }), NB.request("run-script", { handle: 1, pinpad: true }),
    NB.request("run-script", { handle: 1 })];
  for (const p of started) p.catch(() => {});
  await until(() => defaults.delays.filter((d) => d !== 1000).length >= 7, "seven deadlines set");
  assert.deepStrictEqual(defaults.delays.filter((d) => d !== 1000).sort((a, b) => a - b),
    [15000, 15000, 20000, 45000, 120000, 180000, 600000]);
  assert.strictEqual(await codeOf(NB.transmit(1, "00", { timeoutMs: -1 })), "TypeError: timeoutMs must be a positive number or Infinity");
});

test("a wait that times out or is aborted is cancelled in the host; an aborted signal sends nothing", async () => {
  const world = load((r) => (r.cmd === "hello" ? HELLO : r.cmd === "cancel" ? ok({ cancelled: true }) : undefined));
  assert.strictEqual(await codeOf(world.NB.request("wait-for-change", { readers: {}, timeout_ms: 100000 }, undefined,
    { timeoutMs: 60 })), "timeout");
  await until(() => world.cmds().length >= 3, "the wait cancelled");
  assert.deepStrictEqual(world.cmds(), ["hello", "wait-for-change", "cancel"]);
  const controller = new AbortController();
  const begun = world.NB.beginTransaction(3, { signal: controller.signal });
  await until(() => world.cmds().includes("begin-transaction"), "begin-transaction sent");
  controller.abort();
  assert.strictEqual(await codeOf(begun), "system-cancelled");
  await until(() => world.cmds().length >= 5, "the transaction wait cancelled");
  assert.deepStrictEqual(world.cmds().slice(3), ["begin-transaction", "cancel"]);
  assert.strictEqual(await codeOf(world.NB.status(3, { signal: controller.signal })), "system-cancelled");
  await sleep(20);
  assert.strictEqual(world.requests.length, 5, "an aborted signal sends nothing");
  /* A run-script whose PIN window is still open: cancel closes it. */
  const run = world.NB.runScript(3, { script: "", signature: "", key_id: "" }, { askPin: true, timeoutMs: 40 });
  assert.strictEqual(await codeOf(run), "timeout");
  await until(() => world.cmds().length >= 7, "the PIN window cancelled");
  assert.deepStrictEqual(world.cmds().slice(5), ["run-script", "cancel"]);
  /* A late reply to a call given up is dropped. */
  world.answer(world.requests[5].id, ok({ completed: true }));
  await sleep(10);
});

test("after the host ends (watchdog, crash, kill) the next call says hello by itself", async () => {
  let helloCount = 0;
  let mode = "normal";
  const world = load((r) => {
    if (r.cmd === "hello") { helloCount++; return HELLO; }
    if (mode === "mute") { mode = "restarted"; return fail("unresponsive-card"); }
    if (mode === "restarted-silently" && helloCount < 3) return fail("hello-required");
    return ok({ sw: "9000", data: "" });
  });
  const NB = world.NB;
  await NB.transmit(1, "00A40000");
  mode = "mute";
  assert.strictEqual(await codeOf(NB.transmit(1, "00A40000")), "unresponsive-card");
  assert.deepStrictEqual((await NB.listReaders().catch(() => null)) === null ? null : "answered", "answered");
  assert.deepStrictEqual(world.cmds(), ["hello", "transmit", "transmit", "hello", "list-readers"]);
  /* A host that went away with nothing pending: its successor says
   * hello-required; the library says hello and sends the request again. */
  mode = "restarted-silently";
  const again = await NB.transmit(1, "00B0000000");
  assert.strictEqual(again.sw, "9000");
  assert.deepStrictEqual(world.cmds().slice(5), ["transmit", "hello", "transmit"]);
});

test("a hello that meets the dying host is sent once more", async () => {
  let hellos = 0;
  const world = load((r) => {
    if (r.cmd === "hello") return ++hellos === 1 ? fail("native-disconnected") : HELLO;
    return ok({ truncated: true, readers: [] });
  });
  assert.deepStrictEqual(await plain(world.NB.listReadersResult()), { truncated: true, readers: [] });
  assert.deepStrictEqual(world.cmds(), ["hello", "hello", "list-readers"]);
  const gone = load((r) => (r.cmd === "hello" ? fail("native-unavailable") : undefined));
  assert.strictEqual(await codeOf(gone.NB.listReaders()), "native-unavailable");
  assert.deepStrictEqual(gone.cmds(), ["hello"]);
});

test("no extension: extension-unavailable after about 1 s", async () => {
  const world = load(() => undefined, { extension: false });
  const t0 = Date.now();
  assert.strictEqual(await codeOf(world.NB.listReaders()), "extension-unavailable");
  assert.ok(Date.now() - t0 >= 900);
});

function reader(name, atr) {
  return { name, state: atr ? ["present"] : ["empty"], atr: atr || null, pinpad: { verify: false, modify: false } };
}

test("historical bytes and ATR patterns", () => {
  const NB = load(() => undefined).NB;
  assert.strictEqual(NB.historicalBytes(VIRTUAL_ATR), "8066414B49534E42");
  assert.strictEqual(NB.historicalBytes(AKIS_V1), "55454B41452056312E30");
  assert.strictEqual(NB.historicalBytes(AKIS_V12), "806755454B41451212318073B3A180");
  assert.strictEqual(NB.historicalBytes("3B00"), "");
  assert.strictEqual(NB.historicalBytes("3B8F"), "", "truncated");
  assert.strictEqual(NB.historicalBytes("xyz"), "");
  assert.ok(NB.atrMatches("3B88018066414B49534E42??", VIRTUAL_ATR));
  assert.ok(!NB.atrMatches("3B88018066414B49534E42", VIRTUAL_ATR), "a pattern matches the whole ATR");
  assert.ok(NB.atrMatches(/55454B4145/, AKIS_V1));
  assert.throws(() => NB.atrMatches("3B 88", VIRTUAL_ATR), TypeError);
});

test("waitForCard: only the cards the page wants; all of them in cards; other requests do not end it", async () => {
  const yubikey = "3BFD1300008131FE158073C021C057597562694B657940";
  let readers = [reader("Yubico YubiKey", yubikey), reader("R0")];
  let waits = 0;
  const world = load((r) => {
    if (r.cmd === "hello") return HELLO;
    if (r.cmd === "list-readers") return ok({ truncated: false, readers });
    if (r.cmd === "wait-for-change") {
      waits++;
      if (waits === 1) return fail("system-cancelled"); /* another request of the page ended it */
      return undefined;
    }
    return undefined;
  });
  const akis = (r) => /55454B4145|414B4953/.test(world.NB.historicalBytes(r.atr));
  const waiting = world.NB.waitForCard({ filter: akis });
  await until(() => waits === 2, "a second wait");
  assert.strictEqual(waits, 2, "it looked again after system-cancelled");
  readers = [reader("Yubico YubiKey", yubikey), reader("R0", VIRTUAL_ATR), reader("R1", AKIS_V1)];
  const second = world.requests.filter((r) => r.cmd === "wait-for-change")[1];
  world.answer(second.id, ok({ readers_changed: false, readers }));
  assert.deepStrictEqual(await plain(waiting), { reader: "R0", atr: VIRTUAL_ATR,
    cards: [{ reader: "R0", atr: VIRTUAL_ATR }, { reader: "R1", atr: AKIS_V1 }] });
  assert.deepStrictEqual(await plain(world.NB.findCards({ atr: AKIS_V1 })), [{ reader: "R1", atr: AKIS_V1 }]);
  assert.deepStrictEqual(await plain(world.NB.findCards()), [{ reader: "Yubico YubiKey", atr: yubikey },
    { reader: "R0", atr: VIRTUAL_ATR }, { reader: "R1", atr: AKIS_V1 }]);
});

test("waitForCard: its own timeout, its signal, and a host that goes away", async () => {
  const host = (r) => (r.cmd === "hello" ? HELLO : r.cmd === "list-readers" ? ok({ truncated: false, readers: [reader("R0")] }) :
    r.cmd === "cancel" ? ok({ cancelled: true }) : undefined);
  const w1 = load((r) => (r.cmd === "wait-for-change" ? fail("timeout") : host(r)));
  assert.strictEqual(await codeOf(w1.NB.waitForCard({ timeoutMs: 50 })), "timeout");
  assert.ok(w1.requests.find((r) => r.cmd === "wait-for-change").args.timeout_ms <= 50);
  const w2 = load(host);
  const controller = new AbortController();
  const waiting = w2.NB.waitForCard({ signal: controller.signal });
  await until(() => w2.cmds().includes("wait-for-change"), "the wait sent");
  controller.abort();
  assert.strictEqual(await codeOf(waiting), "system-cancelled");
  await until(() => w2.cmds().at(-1) === "cancel", "cancel sent");
  assert.strictEqual(w2.cmds().at(-1), "cancel", "the host's wait is ended");
  const w3 = load(host);
  const killed = w3.NB.waitForCard();
  await until(() => w3.requests.some((r) => r.cmd === "wait-for-change"), "the wait sent");
  w3.answer(w3.requests.find((r) => r.cmd === "wait-for-change").id, fail("native-disconnected"));
  assert.strictEqual(await codeOf(killed), "native-disconnected");
});
