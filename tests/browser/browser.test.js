/* SPDX-License-Identifier: Apache-2.0 */
/* Browser tests: the extension in real headless Chromium and Firefox ESR,
 * through the real host, pcscd and the virtual NES card (make vcard-up). */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const H = require("./harness");
const AXE = require("./axe");
const M = require("../e2e/marionette");

const READER = "nesbridge Virtual Reader 00 00";
const PINPAD = "nesbridge Pinpad Reader 00 00";
/* The host's card_timeout_ms in these tests (its least is 1000). */
const CARD_TIMEOUT_MS = 2000;
const PIN_URL = "chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/pin.html";
let server, work, ext, env;

before(async () => {
  work = H.tempDir("browser");
  const signing = H.makeSigningKey(work);
  server = await H.startServer(signing);
  ext = H.buildExtension(path.join(work, "extension"), [server.allowed, server.extensionOnly]);
  env = { NESBRIDGE_CONFIG: H.hostConfig(work, server.allowed, signing.trust, CARD_TIMEOUT_MS) };
});

after(() => {
  server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function page(origin, scenario, extra) {
  return origin + "/pages/test.html?scenario=" + scenario + (extra || "");
}

function checkBasic(result) {
  assert.strictEqual(result.ok, true, JSON.stringify(result));
  const v = result.value;
  assert.strictEqual(v.protocol, 1);
  assert.ok(v.readers.includes(READER));
  assert.strictEqual(v.reader, READER);
  /* The virtual card's ATR: a real AKİS one, "UEKAE" in the historical
   * bytes (docs/card-profile.md; its old "AKISNB" one is gone). */
  assert.match(v.atr, /^3B[0-9A-F]*55454B4145[0-9A-F]*$/);
  assert.strictEqual(v.sw, "9000");
  assert.strictEqual(v.refused, "not-allowed");
  assert.strictEqual(v.nonce_length, 64);
  assert.deepStrictEqual([v.too_large, v.after_sw, v.truncated], ["message-too-large", "9000", false]);
}

test("chromium: the extension ID that the key yields is ours", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    assert.strictEqual(browser.extensionId, "ffpjpdkbfkaajpicelpogecbmppnpjkp");
  } finally {
    await browser.close();
  }
});

test("chromium: hello, list, connect, SELECT PKCS-15 through the real host", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const { result } = await browser.run(page(server.allowed, "basic"));
    checkBasic(result);
    /* The ES module form of the library works the same. */
    const module = (await browser.run(server.allowed + "/pages/module.html")).result;
    assert.deepStrictEqual(module, { ok: true, value: { same: true, protocol: 1, bad: "invalid-handle" } });
    /* A page on an origin the extension does not serve finds no extension. */
    const foreign = (await browser.run(page(server.foreign, "unavailable"))).result;
    assert.strictEqual(foreign.value.code, "extension-unavailable");
    assert.ok(foreign.value.ms >= 900 && foreign.value.ms < 3000, "about 1 s: " + foreign.value.ms);
    /* A forged origin from the page is dropped: the host sees the real one
     * (served by the extension, not by the host) and refuses it. */
    const forged = (await browser.run(page(server.extensionOnly, "forged", "&claim=" + server.allowed))).result;
    assert.strictEqual(forged.value.code, "origin-not-allowed");
    assert.strictEqual(forged.value.pin_code, "bad-request");
    /* The page cannot embed the PIN window's page: it is not web-accessible,
     * and the extension no longer tells the page its address. */
    const embed = await browser.run(page(server.allowed, "pinembed", "&pinurl=" + encodeURIComponent(PIN_URL)));
    assert.strictEqual(embed.result.ok, true, JSON.stringify(embed.result));
    assert.deepStrictEqual(embed.result.value.pong_keys, ["nesbridge", "protocol"]);
    for (const frame of embed.page.frames().slice(1)) {
      assert.strictEqual(await frame.$("#pin").catch(() => null), null, "the PIN page loaded in a frame: " + frame.url());
    }
  } finally {
    await browser.close();
  }
});

/* What a test page reported while and after the PIN window was open:
 * nothing of the PIN, no frame, no element of the window. */
function checkPageSawNothing(value, pin) {
  for (const when of ["before", "during", "after"]) {
    assert.deepStrictEqual({ frames: value[when].frames, iframes: value[when].iframes, inputs: value[when].inputs,
      opener: value[when].opener }, { frames: 0, iframes: 0, inputs: 0, opener: null }, when);
  }
  assert.ok(value.messages.length >= 8, "the page's message log was recorded");
  for (const m of value.messages) assert.ok(!m.includes(pin), "the page received the PIN: " + m);
  assert.ok(!value.html.includes(pin), "the PIN is in the page's DOM");
}

test("chromium: the new PIN is typed in the extension's window, keyboard only; it reaches the card, never the page", async () => {
  await H.vcardControl("reset-state fresh");
  const browser = await H.launchChromium(ext.dir, { withHost: true, env, lang: "en-US" });
  try {
    const tab = await browser.newPage();
    const popup = await browser.pinWindow(() => tab.goto(page(server.allowed, "pinwindow")));
    assert.match(popup.url(), new RegExp("^" + PIN_URL + "#[0-9a-f]{48}$"));
    assert.notStrictEqual(popup, tab);
    /* What the window says: who asks, which reader and card, what happens,
     * the rules; labelled fields, focus in the first, a live status. */
    const view = await popup.evaluate(() => ({
      lang: document.documentElement.lang, title: document.title,
      origin: document.getElementById("origin").textContent, reader: document.getElementById("reader").textContent,
      serial: document.getElementById("serial").textContent, serialLabel: document.getElementById("serial-label").textContent,
      action: document.getElementById("action").textContent, rules: document.getElementById("rules").textContent,
      labels: Array.from(document.querySelectorAll("input"), (i) => Array.from(i.labels, (l) => l.textContent).join()),
      focused: document.activeElement.id, live: document.getElementById("status").getAttribute("aria-live"),
      opener: window.opener,
    }));
    assert.deepStrictEqual(view, {
      lang: "en", title: "nesbridge: New PIN", origin: server.allowed, reader: READER, serial: "NB0000000001",
      serialLabel: "Card serial number (as the site states it)",
      action: "The new PIN you type here will be sent to the card.", rules: "6 to 8 digits, numbers only.",
      labels: ["New PIN", "New PIN (again)"], focused: "pin", live: "polite", opener: null,
    });
    const violations = await AXE.chromium(popup);
    assert.deepStrictEqual(violations, [], AXE.describe("the PIN window", violations));
    await tab.evaluate(() => window.__probe());
    /* A wrong confirmation is caught in the window, nothing is sent. */
    await popup.keyboard.type("123456");
    await popup.keyboard.press("Tab");
    await popup.keyboard.type("123457");
    await popup.keyboard.press("Enter");
    assert.strictEqual(await popup.textContent("#status"), "The two PINs differ.");
    assert.strictEqual(await popup.evaluate(() => document.activeElement.id), "confirm");
    await popup.fill("#confirm", "");
    await popup.keyboard.type("123456");
    const closed = popup.waitForEvent("close", { timeout: 15000 });
    await popup.keyboard.press("Enter");
    await popup.waitForFunction(() => document.getElementById("status").textContent.startsWith("Done"), null,
      { timeout: 15000 });
    assert.strictEqual(await popup.inputValue("#pin"), "", "the window forgets the PIN once sent");
    await closed; /* it closes itself after saying how the script ended */
    await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 15000 });
    const result = await tab.evaluate(() => window.__result);
    assert.strictEqual(result.ok, true, JSON.stringify(result));
    const v = result.value;
    assert.deepStrictEqual({ completed: v.completed, sw: v.sw, data: v.data, replay: v.replay },
      { completed: true, sw: "9000", data: null, replay: "nonce-replayed" });
    checkPageSawNothing(v, "123456");
  } finally {
    await browser.close();
  }
});

test("chromium: Escape or closing the window gives pin-cancelled and nothing reaches the card; one window per tab", async () => {
  await H.vcardControl("reset-state fresh");
  const browser = await H.launchChromium(ext.dir, { withHost: true, env, lang: "tr-TR" });
  try {
    const tab = await browser.newPage();
    const first = await browser.pinWindow(() => tab.goto(page(server.allowed, "pincancel")));
    /* Turkish unless the browser speaks English. */
    assert.deepStrictEqual(await first.evaluate(() => [document.documentElement.lang,
      document.getElementById("heading").textContent, document.getElementById("pin-label").textContent]),
    ["tr", "Yeni PIN Kodu", "Yeni PIN Kodu"]);
    const violations = await AXE.chromium(first);
    assert.deepStrictEqual(violations, [], AXE.describe("the PIN window (tr)", violations));
    await first.keyboard.type("111111");
    const firstClosed = first.waitForEvent("close", { timeout: 15000 });
    /* The window may be gone before the key press returns. */
    const second = browser.pinWindow(() => first.keyboard.press("Escape").catch(() => {}));
    await firstClosed;
    const secondPopup = await second;
    const third = browser.pinWindow(() => secondPopup.close().catch(() => {}));
    const thirdPopup = await third;
    await tab.waitForFunction(() => window.__phase === "type", null, { timeout: 15000 });
    await thirdPopup.keyboard.type("123456");
    await thirdPopup.keyboard.press("Tab");
    await thirdPopup.keyboard.type("123456");
    await thirdPopup.keyboard.press("Enter");
    await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 15000 });
    const result = await tab.evaluate(() => window.__result);
    assert.strictEqual(result.ok, true, JSON.stringify(result));
    /* The two cancelled runs never reached the host: the same signed
     * script (its nonce unspent) ran afterwards. */
    assert.deepStrictEqual(result.value, { escaped: "pin-cancelled", closed: "pin-cancelled", busy: "bad-request",
      completed: true, sw: "9000" });
    assert.match(await H.vcardControl("status"), /pin_tries=3 /);
  } finally {
    await browser.close();
  }
});

test("chromium: a PIN the card refuses: the window does not say done; its page going away closes it", async () => {
  await H.vcardControl("reset-state fresh");
  const browser = await H.launchChromium(ext.dir, { withHost: true, env, lang: "en-US" });
  try {
    const tab = await browser.newPage();
    const popup = await browser.pinWindow(() => tab.goto(page(server.allowed, "pinrefused")));
    await popup.fill("#pin", "654321");
    await popup.fill("#confirm", "654321");
    await popup.press("#confirm", "Enter");
    await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 15000 });
    /* The page reports the wrong PIN; the card counted it. */
    assert.deepStrictEqual((await tab.evaluate(() => window.__result)).value, { completed: false, stopped_at: 0, sw: "63C2" });
    assert.match(await H.vcardControl("status"), /pin_tries=2 /);
    await popup.waitForFunction(() => document.getElementById("status").textContent !== "Sending the new PIN to the card…",
      null, { timeout: 5000 });
    assert.deepStrictEqual(await popup.evaluate(() => [document.getElementById("status").textContent,
      document.getElementById("status").className]), ["The card refused the operation.", ""]);
    await popup.waitForEvent("close", { timeout: 15000 });
    /* A window whose page goes away closes at once. */
    const tab2 = await browser.newPage();
    const orphan = await browser.pinWindow(() => tab2.goto(page(server.allowed, "pinrefused")));
    const gone = orphan.waitForEvent("close", { timeout: 5000 });
    await tab2.close();
    await gone;
  } finally {
    await browser.close();
    await H.vcardControl("reset-state fresh");
  }
});

test("chromium: a host that dies gives native-disconnected, then a new one serves", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const tab = await browser.newPage();
    await tab.goto(page(server.allowed, "disconnect"));
    await tab.waitForFunction(() => window.__waiting === true, null, { timeout: 15000 });
    assert.ok(H.killHosts(env.NESBRIDGE_CONFIG) >= 1, "a host ran"); /* ours only, by pid */
    await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 15000 });
    const result = await tab.evaluate(() => window.__result);
    assert.deepStrictEqual(result.value, { code: "native-disconnected", again: true });
  } finally {
    await browser.close();
  }
});

test("chromium: no host installed gives native-unavailable", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: false, env });
  try {
    const { result } = await browser.run(page(server.allowed, "native"));
    assert.strictEqual(result.value.code, "native-unavailable");
  } finally {
    await browser.close();
  }
});

async function firefox(url, withHost, run) {
  const browser = H.launchFirefox(ext.xpi, url + "&run=" + run + "&settle=1", { withHost, env });
  try {
    return await server.waitResult(run, 30000);
  } finally {
    await browser.close();
  }
}

test("firefox: hello, list, connect, SELECT PKCS-15 through the real host", async () => {
  checkBasic(await firefox(page(server.allowed, "basic"), true, "ff-basic"));
});

test("firefox: foreign origin, forged origin, no PIN page address for the page, missing host", async () => {
  const foreign = await firefox(page(server.foreign, "unavailable"), true, "ff-foreign");
  assert.strictEqual(foreign.value.code, "extension-unavailable");
  const forged = await firefox(page(server.extensionOnly, "forged", "&claim=" + server.allowed), true, "ff-forged");
  assert.strictEqual(forged.value.code, "origin-not-allowed");
  assert.strictEqual(forged.value.pin_code, "bad-request");
  const pin = await firefox(page(server.allowed, "pinembed"), true, "ff-pin");
  assert.strictEqual(pin.ok, true, JSON.stringify(pin));
  assert.deepStrictEqual(pin.value.pong_keys, ["nesbridge", "protocol"], "the page learns no extension address");
  const missing = await firefox(page(server.allowed, "native"), false, "ff-native");
  assert.strictEqual(missing.value.code, "native-unavailable");
});

/* Firefox driven over Marionette: the PIN window is another window
 * handle, of the extension's moz-extension: address. */
async function withMarionette(prefs, fn, options) {
  const ff = await M.launchFirefox(ext.xpi, Object.assign({ env, port: 28360 + Math.floor(Math.random() * 30), prefs },
    options || {}));
  try {
    await fn(ff, await ff.handle());
  } finally {
    await ff.close();
  }
}

async function ffPinWindow(ff, known) {
  const handle = await ff.intoNewWindow(known, "moz-extension://");
  await ff.waitFor("document.getElementById('pin') !== null && !document.getElementById('pin').disabled");
  return handle;
}

async function ffResult(ff, main) {
  await ff.switchTo(main);
  await ff.waitFor("window.__result !== undefined", 20000);
  return JSON.parse(await ff.evaluate("return JSON.stringify(window.__result);"));
}

test("firefox: the new PIN is typed in the extension's window; it reaches the card, never the page", async () => {
  await H.vcardControl("reset-state fresh");
  await withMarionette({ "intl.accept_languages": "en-US, en" }, async (ff, main) => {
    await ff.goto(page(server.allowed, "pinwindow"));
    const popup = await ffPinWindow(ff, [main]);
    assert.match(await ff.url(), /^moz-extension:\/\/[0-9a-f-]{36}\/pin\.html#[0-9a-f]{48}$/);
    const view = await ff.evaluate("return { lang: document.documentElement.lang, focused: document.activeElement.id, " +
      "origin: document.getElementById('origin').textContent, reader: document.getElementById('reader').textContent, " +
      "serial: document.getElementById('serial').textContent, opener: window.opener, " +
      "labels: Array.from(document.querySelectorAll('input'), (i) => i.labels[0].textContent) };");
    assert.deepStrictEqual(view, { lang: "en", focused: "pin", origin: server.allowed, reader: READER,
      serial: "NB0000000001", opener: null, labels: ["New PIN", "New PIN (again)"] });
    const violations = await AXE.firefox(ff);
    assert.deepStrictEqual(violations, [], AXE.describe("the PIN window", violations));
    await ff.switchTo(main);
    await ff.evaluate("return window.__probe();");
    await ff.switchTo(popup);
    await ff.keys("#pin", "123456");
    await ff.keys("#confirm", "123456\uE007"); /* Enter submits */
    await ff.waitFor("document.getElementById('status').textContent.startsWith('Done')", 15000);
    await ff.waitGone(popup); /* it closes itself */
    const result = await ffResult(ff, main);
    assert.strictEqual(result.ok, true, JSON.stringify(result));
    const v = result.value;
    assert.deepStrictEqual({ completed: v.completed, sw: v.sw, data: v.data, replay: v.replay },
      { completed: true, sw: "9000", data: null, replay: "nonce-replayed" });
    checkPageSawNothing(v, "123456");
  });
});

test("firefox: Escape or closing the window gives pin-cancelled and nothing reaches the card; one window per tab", async () => {
  await H.vcardControl("reset-state fresh");
  await withMarionette({ "intl.accept_languages": "tr-TR, tr" }, async (ff, main) => {
    await ff.goto(page(server.allowed, "pincancel"));
    const first = await ffPinWindow(ff, [main]);
    assert.strictEqual(await ff.text("#heading"), "Yeni PIN Kodu");
    const violations = await AXE.firefox(ff);
    assert.deepStrictEqual(violations, [], AXE.describe("the PIN window (tr)", violations));
    await ff.keys("#pin", "111111\uE00C"); /* Escape */
    await ff.waitGone(first);
    const second = await ffPinWindow(ff, [main, first]);
    await ff.closeWindow();
    await ff.waitGone(second);
    const third = await ffPinWindow(ff, [main, first, second]);
    await ff.switchTo(main);
    await ff.waitFor("window.__phase === 'type'");
    await ff.switchTo(third);
    await ff.keys("#pin", "123456");
    await ff.keys("#confirm", "123456\uE007");
    const result = await ffResult(ff, main);
    assert.strictEqual(result.ok, true, JSON.stringify(result));
    assert.deepStrictEqual(result.value, { escaped: "pin-cancelled", closed: "pin-cancelled", busy: "bad-request",
      completed: true, sw: "9000" });
    assert.match(await H.vcardControl("status"), /pin_tries=3 /);
  });
});

/* The page contract (issue 15): a killed host, a mute card, a dropped
 * content-script port; each in both browsers. */

function chromiumRun(scenario) {
  const run = "cr-" + scenario + "-" + Date.now();
  return { run, url: page(server.allowed, scenario, "&run=" + run) };
}

/* Kills our host once the page waits; resolves with ms from the kill to the result. */
async function killDuringWait(run, waitResult) {
  await server.waitResult(run + ":waiting", 20000);
  const t0 = Date.now();
  assert.ok(H.killHosts(env.NESBRIDGE_CONFIG) >= 1, "a host ran");
  const result = await waitResult();
  return { result, ms: Date.now() - t0 };
}

async function muteAndRecover(run) {
  await server.waitResult(run + ":connected", 20000);
  await H.vcardControl("mute on");
  server.open(run + ":muted");
  await server.waitResult(run + ":hung", CARD_TIMEOUT_MS + 10000);
  /* vpcd waits for ever for the muted answer: out and in again. */
  await H.vcardControl("mute off");
  await H.vcardControl("remove");
  await new Promise((r) => setTimeout(r, 1200));
  await H.vcardControl("insert");
  server.open(run + ":back");
}

function checkMute(result) {
  assert.strictEqual(result.ok, true, JSON.stringify(result));
  assert.strictEqual(result.value.code, "unresponsive-card");
  assert.ok(result.value.ms >= CARD_TIMEOUT_MS - 100 && result.value.ms < CARD_TIMEOUT_MS + 3000, "ms " + result.value.ms);
  assert.strictEqual(result.value.next_sw, "9000", "the next call works, hello and all");
}

test("chromium: a host killed during waitForCard rejects within 3 s; the next call starts a new host", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const tab = await browser.newPage();
    const { run, url } = chromiumRun("killwait");
    await tab.goto(url);
    const { result, ms } = await killDuringWait(run, () => server.waitResult(run, 20000));
    assert.deepStrictEqual(result.value, { code: "native-disconnected", again: true });
    assert.ok(ms < 3000, "rejected after " + ms + " ms");
  } finally {
    await browser.close();
  }
});

test("chromium: a mute card rejects within card_timeout_ms + 3 s, and the next call works", async () => {
  await H.vcardControl("reset-state fresh");
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const tab = await browser.newPage();
    const { run, url } = chromiumRun("mute");
    await tab.goto(url);
    await muteAndRecover(run);
    checkMute(await server.waitResult(run, 20000));
  } finally {
    await browser.close();
  }
});

test("chromium: the background stopped under a pending wait: extension-unavailable at once, then it works again", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const tab = await browser.newPage();
    const { run, url } = chromiumRun("dropport");
    await tab.goto(url);
    await server.waitResult(run + ":waiting", 20000);
    const cdp = await browser.context.newCDPSession(tab);
    await cdp.send("ServiceWorker.enable");
    const t0 = Date.now();
    await cdp.send("ServiceWorker.stopAllWorkers"); /* as Chromium does with an idle worker */
    const result = await server.waitResult(run, 20000);
    assert.deepStrictEqual(result.value, { code: "extension-unavailable", again: true });
    assert.ok(Date.now() - t0 < 3000, "after " + (Date.now() - t0) + " ms");
  } finally {
    await browser.close();
  }
});

/* Firefox over Marionette: a run whose page reports to the server. */
async function ffRun(ff, scenario) {
  const run = "ff-" + scenario + "-" + Date.now();
  await ff.goto(page(server.allowed, scenario, "&run=" + run));
  return run;
}

test("firefox: a host killed during waitForCard rejects within 3 s; the next call starts a new host", async () => {
  await withMarionette({}, async (ff) => {
    const run = await ffRun(ff, "killwait");
    const { result, ms } = await killDuringWait(run, () => server.waitResult(run, 20000));
    assert.deepStrictEqual(result.value, { code: "native-disconnected", again: true });
    assert.ok(ms < 3000, "rejected after " + ms + " ms");
  });
});

test("firefox: a mute card rejects within card_timeout_ms + 3 s, and the next call works", async () => {
  await H.vcardControl("reset-state fresh");
  await withMarionette({}, async (ff) => {
    const run = await ffRun(ff, "mute");
    await muteAndRecover(run);
    checkMute(await server.waitResult(run, 20000));
  });
});

test("firefox: the background ended under a pending wait: extension-unavailable at once, then it works again", async () => {
  await withMarionette({}, async (ff) => {
    const run = await ffRun(ff, "dropport");
    await server.waitResult(run + ":waiting", 20000);
    const t0 = Date.now();
    /* As Firefox does with an idle background (about:debugging's "Terminate"). */
    const state = await ff.chrome("const { ExtensionParent } = ChromeUtils.importESModule(" +
      "'resource://gre/modules/ExtensionParent.sys.mjs');" +
      "const ext = ExtensionParent.GlobalManager.getExtension('nesbridge@kamusm.gov.tr');" +
      "await ext.terminateBackground({ ignoreDevToolsAttached: true, disableResetIdleForTest: true });" +
      "return ext.backgroundState;");
    assert.strictEqual(state, "stopped");
    const result = await server.waitResult(run, 20000);
    assert.deepStrictEqual(result.value, { code: "extension-unavailable", again: true });
    assert.ok(Date.now() - t0 < 3000, "after " + (Date.now() - t0) + " ms");
  }, { systemAccess: true });
});

test("firefox: a wrong PIN typed in the window: the page reports the card's refusal, the card counted it", async () => {
  await H.vcardControl("reset-state fresh");
  await withMarionette({ "intl.accept_languages": "en-US, en" }, async (ff, main) => {
    await ff.goto(page(server.allowed, "pinrefused"));
    const popup = await ffPinWindow(ff, [main]);
    await ff.keys("#pin", "654321");
    await ff.keys("#confirm", "654321\uE007");
    await ff.waitGone(popup);
    const result = await ffResult(ff, main);
    assert.deepStrictEqual(result.value, { completed: false, stopped_at: 0, sw: "63C2" });
    assert.match(await H.vcardControl("status"), /pin_tries=2 /);
  });
  await H.vcardControl("reset-state fresh");
});

/* The pinpad reader (issue 16): what list-readers says of each reader's
 * keypad, through the library; the PIN window for a pinpad, which has no
 * field and says to type the new PIN twice on the reader's keypad. */

const PINPADS = {
  [READER]: { verify: false, modify: false },
  [PINPAD]: { verify: true, modify: true },
};

function checkPinpads(result) {
  assert.strictEqual(result.ok, true, JSON.stringify(result));
  for (const [name, pinpad] of Object.entries(PINPADS)) assert.deepStrictEqual(result.value.pinpad[name], pinpad, name);
}

test("chromium: list-readers tells the pinpad reader (verify, modify) from the plain one", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    checkPinpads((await browser.run(page(server.allowed, "readers"))).result);
  } finally {
    await browser.close();
  }
});

test("firefox: list-readers tells the pinpad reader (verify, modify) from the plain one", async () => {
  checkPinpads(await firefox(page(server.allowed, "readers"), true, "ff-readers"));
});

const KEYPAD_VIEW = {
  tr: {
    lang: "tr", heading: "Yeni PIN Kodu", inputs: 0, buttons: ["Vazgeç"], focused: "keypad",
    keypad: "Yeni PIN kodunuzu kart okuyucunun tuş takımında iki kez yazınız: önce bir kez, okuyucu sorduğunda bir kez daha. 6-8 haneli.",
    action: "Kart okuyucunun tuş takımında yazacağınız yeni PIN kodu karta gönderilecek.",
    status: "Kart okuyucu yeni PIN kodunu bekliyor…",
  },
  en: {
    lang: "en", heading: "New PIN", inputs: 0, buttons: ["Cancel"], focused: "keypad",
    keypad: "Type the new PIN on the card reader's keypad, twice: once, then again when the reader asks. 6 to 8 digits.",
    action: "The new PIN you type on the card reader's keypad will be sent to the card.",
    status: "The card reader is waiting for the new PIN…",
  },
};
const KEYPAD_CANCEL = {
  tr: "Vazgeçmek için kart okuyucunun tuş takımındaki iptal tuşuna basınız. Bu pencere okuyucuyu durduramaz.",
  en: "To cancel, press Cancel on the card reader's keypad. This window cannot stop the reader.",
};
const KEYPAD_ENDED = {
  tr: { done: "Tamamlandı", cancelled: "Yeni PIN girişi kart okuyucuda iptal edildi; kartta bir değişiklik yapılmadı.",
    timeout: "Kart okuyucuda zamanında bir şey yazılmadı; kartta bir değişiklik yapılmadı." },
  en: { done: "Done", cancelled: "The new PIN entry was cancelled on the card reader; nothing was changed on the card.",
    timeout: "Nothing was typed on the card reader in time; nothing was changed on the card." },
};
/* What the window shows, read in the window. */
const READ_KEYPAD_WINDOW = "({ lang: document.documentElement.lang, heading: document.getElementById('heading').textContent, " +
  "inputs: document.querySelectorAll('input, textarea, select, [contenteditable]').length, " +
  "buttons: Array.from(document.querySelectorAll('button'), (b) => b.textContent), focused: document.activeElement.id, " +
  "keypad: document.getElementById('keypad').textContent, action: document.getElementById('action').textContent, " +
  "status: document.getElementById('status').textContent, origin: document.getElementById('origin').textContent, " +
  "reader: document.getElementById('reader').textContent, serial: document.getElementById('serial').textContent })";
const KEYPAD_SHOWN = "document.getElementById('keypad') !== null && !document.getElementById('keypad').hidden";
/* The same for Playwright, as a function: a string predicate is eval'd in
 * the page, which the extension's CSP forbids. */
const keypadShown = () => document.getElementById("keypad") !== null && !document.getElementById("keypad").hidden;
/* A test that failed half-way may leave the reader waiting for the
 * keypad: cancel that entry, so that the next test finds it idle. */
async function releaseKeypad() {
  const status = await H.pinpadControl("status").catch(() => "");
  if (/\bkeypad=waiting\b/.test(status)) await H.typeOnKeypad("keypad cancel").catch(() => {});
}

function checkKeypadView(view, lang) {
  assert.deepStrictEqual(view, Object.assign({ origin: server.allowed, reader: PINPAD, serial: "NB0000000002" }, KEYPAD_VIEW[lang]));
}

/* The page's three rounds: typed on the keypad (the script VERIFYs the
 * PIN 123456), cancelled on the reader, timed out on the reader. */
function checkKeypadOutcomes(result) {
  assert.strictEqual(result.ok, true, JSON.stringify(result));
  assert.deepStrictEqual(result.value, [{ completed: true, sw: "9000" }, { code: "pin-cancelled", completed: false },
    { code: "pin-timeout", completed: false }]);
}

test("chromium: a pinpad reader: the window says to type the new PIN twice on the keypad, has no field, cannot cancel; typed, cancelled, timed out", async () => {
  await H.pinpadControl("reset-state fresh");
  const browser = await H.launchChromium(ext.dir, { withHost: true, env, lang: "tr-TR" });
  const keypadWindow = async (trigger) => {
    const opened = browser.context.waitForEvent("page", { timeout: 15000 });
    await trigger();
    const popup = await opened;
    await popup.waitForFunction(keypadShown, null, { timeout: 15000 });
    return popup;
  };
  try {
    const tab = await browser.newPage();
    const { run, url } = chromiumRun("pinpad");
    const first = await keypadWindow(() => tab.goto(url));
    checkKeypadView(await first.evaluate(READ_KEYPAD_WINDOW), "tr");
    let violations = await AXE.chromium(first);
    assert.deepStrictEqual(violations, [], AXE.describe("the keypad window", violations));
    /* Escape (and Cancel) cannot stop the reader: they say how. */
    await first.keyboard.press("Escape");
    assert.strictEqual(await first.textContent("#status"), KEYPAD_CANCEL.tr);
    await first.click("#cancel");
    assert.strictEqual(await first.textContent("#status"), KEYPAD_CANCEL.tr);
    violations = await AXE.chromium(first);
    assert.deepStrictEqual(violations, [], AXE.describe("the keypad window, after Cancel", violations));
    const firstClosed = first.waitForEvent("close", { timeout: 15000 });
    await H.typeOnKeypad("keypad 123456");
    await first.waitForFunction((done) => document.getElementById("status").textContent.startsWith(done),
      KEYPAD_ENDED.tr.done, { timeout: 15000 });
    await firstClosed; /* it still closes itself */
    /* Cancel on the reader. */
    const second = await keypadWindow(() => server.open(run + ":cancel"));
    const secondClosed = second.waitForEvent("close", { timeout: 15000 });
    await H.typeOnKeypad("keypad cancel");
    await second.waitForFunction((text) => document.getElementById("status").textContent === text,
      KEYPAD_ENDED.tr.cancelled, { timeout: 15000 });
    await secondClosed;
    /* The window closed by the holder leaves the entry to the reader:
     * the page hears the reader's answer (its timeout), not pin-cancelled. */
    const third = await keypadWindow(() => server.open(run + ":timeout"));
    await third.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await H.pinpadControl("status"), /\bkeypad=waiting\b/, "the reader still waits");
    await H.typeOnKeypad("keypad timeout");
    checkKeypadOutcomes(await server.waitResult(run, 20000));
    assert.match(await H.pinpadControl("status"), /pin_tries=3 /);
  } finally {
    await browser.close();
    await releaseKeypad();
  }
});

test("firefox: a pinpad reader: the window says to type the new PIN twice on the keypad, has no field, cannot cancel; typed, cancelled, timed out", async () => {
  await H.pinpadControl("reset-state fresh");
  try {
    await withMarionette({ "intl.accept_languages": "en-US, en" }, async (ff, main) => {
      const known = [main];
      const keypadWindow = async () => {
        const handle = await ff.intoNewWindow(known, "moz-extension://", 20000);
        known.push(handle);
        await ff.waitFor(KEYPAD_SHOWN);
        return handle;
      };
      const run = await ffRun(ff, "pinpad");
      const first = await keypadWindow();
      checkKeypadView(await ff.evaluate("return " + READ_KEYPAD_WINDOW + ";"), "en");
      let violations = await AXE.firefox(ff);
      assert.deepStrictEqual(violations, [], AXE.describe("the keypad window", violations));
      await ff.keys("#keypad", "\uE00C"); /* Escape */
      assert.strictEqual(await ff.text("#status"), KEYPAD_CANCEL.en);
      violations = await AXE.firefox(ff);
      assert.deepStrictEqual(violations, [], AXE.describe("the keypad window, after Escape", violations));
      await H.typeOnKeypad("keypad 123456");
      await ff.waitFor("document.getElementById('status').textContent.startsWith(" + JSON.stringify(KEYPAD_ENDED.en.done) + ")");
      await ff.waitGone(first);
      for (const [round, command] of [["cancel", "keypad cancel"], ["timeout", "keypad timeout"]]) {
        server.open(run + ":" + round);
        const handle = await keypadWindow();
        await H.typeOnKeypad(command);
        await ff.waitFor("document.getElementById('status').textContent === " +
          JSON.stringify(KEYPAD_ENDED.en[round === "cancel" ? "cancelled" : "timeout"]));
        await ff.waitGone(handle);
      }
      checkKeypadOutcomes(await server.waitResult(run, 20000));
      assert.match(await H.pinpadControl("status"), /pin_tries=3 /);
    });
  } finally {
    await releaseKeypad();
  }
});
