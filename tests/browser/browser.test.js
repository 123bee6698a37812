/* Browser tests: the extension in real headless Chromium and Firefox ESR,
 * through the real host, pcscd and the virtual NES card (make vcard-up). */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const H = require("./harness");

const READER = "nesbridge Virtual Reader 00 00";
let server, work, ext, env;

before(async () => {
  work = H.tempDir("browser");
  const signing = H.makeSigningKey(work);
  server = await H.startServer(signing);
  ext = H.buildExtension(path.join(work, "extension"), [server.allowed, server.extensionOnly]);
  env = { NESBRIDGE_CONFIG: H.hostConfig(work, server.allowed, signing.trust) };
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
  assert.strictEqual(v.atr, "3B88018066414B49534E4273");
  assert.strictEqual(v.sw, "9000");
  assert.strictEqual(v.refused, "not-allowed");
  assert.strictEqual(v.nonce_length, 64);
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
    /* The page cannot read the extension's PIN field. */
    const pin = (await browser.run(page(server.allowed, "pinframe"))).result;
    assert.strictEqual(pin.ok, true, JSON.stringify(pin));
    assert.strictEqual(pin.value.src_scheme, "chrome-extension:");
    assert.strictEqual(pin.value.document_visible, false);
    assert.strictEqual(pin.value.read_error, "SecurityError");
  } finally {
    await browser.close();
  }
});

test("chromium: a PIN typed in the extension's field reaches the card, not the page", async () => {
  await H.vcardControl("reset-state fresh");
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const tab = await browser.newPage();
    await tab.goto(page(server.allowed, "pinrun"));
    await tab.waitForFunction(() => window.__pinMounted === true, null, { timeout: 15000 });
    const frame = tab.frames().find((f) => f.url().startsWith("chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/pin.html"));
    assert.ok(frame, "the PIN frame is the extension's page");
    await frame.fill("#pin", "123456");
    await frame.fill("#confirm", "123456");
    await tab.evaluate(() => window.__pinTyped());
    await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 15000 });
    const result = await tab.evaluate(() => window.__result);
    assert.strictEqual(result.ok, true, JSON.stringify(result));
    assert.deepStrictEqual(result.value, { completed: true, sw: "9000", data: null, replay: "nonce-replayed",
      page_saw_pin: false });
    assert.strictEqual(await frame.inputValue("#pin"), "", "the field forgets the PIN once sent");
  } finally {
    await browser.close();
  }
});

test("chromium: a host that dies gives native-disconnected, then a new one serves", async () => {
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const tab = await browser.newPage();
    await tab.goto(page(server.allowed, "disconnect"));
    await tab.waitForFunction(() => window.__waiting === true, null, { timeout: 15000 });
    require("child_process").execFileSync("pkill", ["-f", "-x", H.HOST + " chrome-extension://.*"]);
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

test("firefox: foreign origin, forged origin, PIN field, missing host", async () => {
  const foreign = await firefox(page(server.foreign, "unavailable"), true, "ff-foreign");
  assert.strictEqual(foreign.value.code, "extension-unavailable");
  const forged = await firefox(page(server.extensionOnly, "forged", "&claim=" + server.allowed), true, "ff-forged");
  assert.strictEqual(forged.value.code, "origin-not-allowed");
  assert.strictEqual(forged.value.pin_code, "bad-request");
  const pin = await firefox(page(server.allowed, "pinframe"), true, "ff-pin");
  assert.strictEqual(pin.ok, true, JSON.stringify(pin));
  assert.strictEqual(pin.value.src_scheme, "moz-extension:");
  assert.notStrictEqual(pin.value.read_error.slice(0, 4), "read");
  const missing = await firefox(page(server.allowed, "native"), false, "ff-native");
  assert.strictEqual(missing.value.code, "native-unavailable");
});
