/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the extension's shared logic (extension/common.js). */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const NB = require("../../extension/common.js");

const ROOT = path.resolve(__dirname, "..", "..");

test("origins: the authority and its https subdomains only", () => {
  for (const ok of ["https://kamusm.gov.tr", "https://nesbireysel.kamusm.gov.tr", "https://a.b.kamusm.gov.tr:8443"]) {
    assert.ok(NB.isAllowedOrigin(ok), ok);
  }
  for (const bad of ["http://kamusm.gov.tr", "https://kamusm.gov.tr.evil.com", "https://evilkamusm.gov.tr",
    "https://kamusm.gov.tr/", "null", "", "chrome-extension://x", undefined, 42, "http://localhost:8443"]) {
    assert.ok(!NB.isAllowedOrigin(bad), String(bad));
  }
});

test("page requests: shape, commands, ids", () => {
  assert.strictEqual(NB.validatePageRequest(null), null);
  assert.strictEqual(NB.validatePageRequest("x"), null);
  assert.strictEqual(NB.validatePageRequest({ nesbridge: "reply", id: 1 }), null);
  assert.strictEqual(NB.validatePageRequest([1]), null);
  const good = NB.validatePageRequest({ nesbridge: "request", id: "a-1", cmd: "transmit", args: { handle: 5, apdu: "00A40000" } });
  assert.deepStrictEqual(good, { request: { id: "a-1", cmd: "transmit", args: { handle: 5, apdu: "00A40000" } } });
  assert.deepStrictEqual(NB.validatePageRequest({ nesbridge: "request", id: 7, cmd: "hello" }).request,
    { id: 7, cmd: "hello", args: {} });
  const bad = [
    { nesbridge: "request", id: 1.5, cmd: "hello" },
    { nesbridge: "request", id: "", cmd: "hello" },
    { nesbridge: "request", id: "x".repeat(129), cmd: "hello" },
    { nesbridge: "request", id: {}, cmd: "hello" },
    { nesbridge: "request", id: 1, cmd: "hello", args: [] },
    { nesbridge: "request", id: 1, cmd: "hello", args: "x" },
    { nesbridge: "request", id: 1, cmd: "hello", extra: true },
    { nesbridge: "request", id: 1, cmd: "run-script", pin_field: "abcdefghijklmnopqr" }, /* the old iframe path */
    { nesbridge: "request", id: 1, cmd: "hello", ask_pin: {} },
    { nesbridge: "request", id: 1, cmd: "run-script", ask_pin: true },
    { nesbridge: "request", id: 1, cmd: "run-script", ask_pin: { serial: "<b>x</b>" } },
    { nesbridge: "request", id: 1, cmd: "run-script", ask_pin: { serial: "x".repeat(33) } },
    { nesbridge: "request", id: 1, cmd: "run-script", ask_pin: { serial: 5 } },
    { nesbridge: "request", id: 1, cmd: "run-script", ask_pin: { min: 4 } },
    { nesbridge: "request", id: 1, cmd: "run-script", args: { new_pin: "123456" } },
    { nesbridge: "request", id: 1, cmd: "run-script", args: { new_pin_confirm: "123456" } },
  ];
  for (const b of bad) assert.ok(NB.validatePageRequest(b).error, JSON.stringify(b));
  const unknown = NB.validatePageRequest({ nesbridge: "request", id: 1, cmd: "frobnicate" });
  assert.strictEqual(unknown.code, "unknown-command");
});

test("page requests: ask_pin for run-script, a serial as display text at most", () => {
  const args = { handle: 3, script: "e30=", signature: "", key_id: "" };
  assert.deepStrictEqual(NB.validatePageRequest({ nesbridge: "request", id: 1, cmd: "run-script", args,
    ask_pin: { serial: "AKIS 1234-5" } }).request, { id: 1, cmd: "run-script", args, ask_pin: { serial: "AKIS 1234-5" } });
  assert.deepStrictEqual(NB.validatePageRequest({ nesbridge: "request", id: 1, cmd: "run-script", args,
    ask_pin: {} }).request.ask_pin, {});
  /* With a pinpad the window tells the holder to use the reader's keypad. */
  const pinpad = Object.assign({ pinpad: true }, args);
  assert.deepStrictEqual(NB.validatePageRequest({ nesbridge: "request", id: 1, cmd: "run-script", args: pinpad,
    ask_pin: { serial: "NB0000000002" } }).request, { id: 1, cmd: "run-script", args: pinpad, ask_pin: { serial: "NB0000000002" } });
});

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64");
const pinStep = (prefix, extra) => ({ new_pin: Object.assign({ apdu_prefix: prefix, min_len: 6, max_len: 8,
  charset: "digits", confirm: true }, extra), expect: ["9000"] });

test("PIN rules come from the signed script's new_pin step", () => {
  const script = (steps) => b64({ version: 1, steps });
  assert.deepStrictEqual(NB.pinRules(script([{ apdu: "00", expect: ["9000"] }, pinStep("002C0181")])),
    { min: 6, max: 8, confirm: true, action: "unblock" });
  assert.deepStrictEqual(NB.pinRules(script([pinStep("00240081", { min_len: 4, confirm: false })])),
    { min: 4, max: 8, confirm: false, action: "change" });
  assert.strictEqual(NB.pinRules(script([pinStep("00200081")])).action, "other");
  /* The demo's unlock: a protected RESET RETRY COUNTER, then the new PIN
   * by CHANGE REFERENCE DATA. */
  assert.strictEqual(NB.pinRules(script([{ apdu: "0C2C03810A8E080102030405060708", expect: ["9000"] },
    pinStep("00240181")])).action, "unblock");
  for (const bad of ["", "!!!", b64([1]), script([{ apdu: "00A4", expect: ["9000"] }]),
    script([pinStep("002C0181", { min_len: 3 })]), script([pinStep("002C0181", { max_len: 17 })]),
    script([pinStep("002C0181", { min_len: 8, max_len: 6 })]), script([pinStep("2C")]),
    Buffer.from([0xff, 0xfe]).toString("base64")]) {
    assert.strictEqual(NB.pinRules(bad), null, bad);
  }
});

test("PIN refusals keep their code; the window hears done only for a completed script", () => {
  const rules = { min: 6, max: 8, confirm: true };
  assert.strictEqual(NB.checkPin(rules, "123456", "123456"), null);
  assert.strictEqual(NB.checkPin(rules, "12345", "12345"), "pin-format");
  assert.strictEqual(NB.checkPin(rules, "123456789", "123456789"), "pin-format");
  assert.strictEqual(NB.checkPin(rules, "12a456", "12a456"), "pin-format");
  assert.strictEqual(NB.checkPin(rules, undefined, "123456"), "pin-format");
  assert.strictEqual(NB.checkPin(rules, "123456", "123457"), "pin-mismatch");
  assert.strictEqual(NB.checkPin({ min: 6, max: 8, confirm: false }, "123456", ""), null);
  assert.deepStrictEqual(NB.pinOutcome({ id: 1, ok: true, result: { completed: true, stopped_at: null, steps: [] } }),
    { done: true, code: null });
  assert.deepStrictEqual(NB.pinOutcome({ id: 1, ok: true, result: { completed: false, stopped_at: 2, steps: [] } }),
    { done: false, code: "not-completed" });
  assert.deepStrictEqual(NB.pinOutcome({ id: 1, ok: true, result: { completed: "yes" } }), { done: false, code: "not-completed" });
  assert.deepStrictEqual(NB.pinOutcome({ id: 1, ok: true }), { done: false, code: "not-completed" });
  for (const code of ["pin-format", "pin-mismatch", "pin-required", "removed-card"]) {
    assert.deepStrictEqual(NB.pinOutcome(NB.errorReply(1, code, "x")), { done: false, code });
  }
  assert.deepStrictEqual(NB.pinOutcome(null), { done: false, code: "unknown-error" });
});

test("the extension's own error codes are in the page types and the docs", () => {
  const types = fs.readFileSync(path.join(ROOT, "extension", "page", "nes-bridge.d.ts"), "utf8");
  const extensionDoc = fs.readFileSync(path.join(ROOT, "docs", "extension.md"), "utf8");
  for (const code of NB.EXTENSION_CODES) {
    assert.ok(types.includes('"' + code + '"'), code + " in nes-bridge.d.ts");
    assert.ok(extensionDoc.includes("`" + code + "`"), code + " in docs/extension.md");
  }
  const protocol = fs.readFileSync(path.join(ROOT, "docs", "protocol.md"), "utf8");
  assert.match(protocol, /^\| `pin-cancelled` \| .*\bextension\b[^|]* \|$/m);
});

test("page requests: a forged origin is dropped, never forwarded", () => {
  const checked = NB.validatePageRequest({ nesbridge: "request", id: 1, cmd: "hello", args: { protocol: 1 },
    origin: "https://kamusm.gov.tr" });
  assert.ok(!("origin" in checked.request));
  assert.deepStrictEqual(Object.keys(checked.request).sort(), ["args", "cmd", "id"]);
  /* The copy is deep: later changes by the page do not leak in. */
  const args = { readers: { a: ["present"] }, timeout_ms: 5 };
  const copy = NB.validatePageRequest({ nesbridge: "request", id: 2, cmd: "wait-for-change", args }).request;
  args.readers.a.push("mute");
  assert.deepStrictEqual(copy.args.readers.a, ["present"]);
});

test("router: replies go back by the page's id, once", () => {
  const router = NB.makeRouter();
  const n1 = router.add("page-1");
  const n2 = router.add(42, { pinSession: "t" });
  assert.notStrictEqual(n1, n2);
  assert.strictEqual(router.size, 2);
  assert.deepStrictEqual(router.resolve({ id: n2, ok: true, result: { sw: "9000" } }),
    { reply: { id: 42, ok: true, result: { sw: "9000" } }, extra: { pinSession: "t" } });
  assert.strictEqual(router.resolve({ id: n2, ok: true, result: {} }), null); /* once */
  assert.strictEqual(router.resolve({ id: 999, ok: true }), null);
  assert.strictEqual(router.resolve("junk"), null);
  const failed = router.failAll("native-disconnected", "gone");
  assert.deepStrictEqual(failed.map((f) => f.reply), [
    { id: "page-1", ok: false, error: { code: "native-disconnected", message: "gone" } },
  ]);
  assert.strictEqual(router.size, 0);
});

test("errors: host errors pass through, port loss is classified", () => {
  const router = NB.makeRouter();
  const id = router.add("p");
  const error = { code: "removed-card", message: "The card was removed.", pcsc: "0x80100069" };
  assert.deepStrictEqual(router.resolve({ id, ok: false, error }).reply, { id: "p", ok: false, error });
  assert.strictEqual(NB.disconnectCode(false), "native-unavailable");
  assert.strictEqual(NB.disconnectCode(true), "native-disconnected");
});

test("the Chrome extension ID from the manifest key is the one everything names", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "extension", "manifest.json"), "utf8"));
  const der = Buffer.from(manifest.key, "base64");
  const id = crypto.createHash("sha256").update(der).digest("hex").slice(0, 32)
    .replace(/[0-9a-f]/g, (c) => String.fromCharCode(97 + parseInt(c, 16)));
  assert.strictEqual(id, "ffpjpdkbfkaajpicelpogecbmppnpjkp");
  const caller = fs.readFileSync(path.join(ROOT, "host", "caller.h"), "utf8");
  assert.ok(caller.includes('#define NB_CHROME_EXTENSION_ID "' + id + '"'));
  const chromium = JSON.parse(fs.readFileSync(path.join(ROOT, "manifests", "chromium.json.in"), "utf8"));
  assert.deepStrictEqual(chromium.allowed_origins, ["chrome-extension://" + id + "/"]);
  const firefox = JSON.parse(fs.readFileSync(path.join(ROOT, "manifests", "firefox.json.in"), "utf8"));
  assert.deepStrictEqual(firefox.allowed_extensions, [manifest.browser_specific_settings.gecko.id]);
  assert.ok(fs.readFileSync(path.join(ROOT, "docs", "protocol.md"), "utf8").includes(id));
  assert.ok(fs.readFileSync(path.join(ROOT, "docs", "extension.md"), "utf8").includes(id));
});

test("the manifest asks for nativeMessaging only and serves the authority only", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "extension", "manifest.json"), "utf8"));
  assert.deepStrictEqual(manifest.permissions, ["nativeMessaging"]);
  assert.strictEqual(manifest.host_permissions, undefined);
  const authority = ["https://kamusm.gov.tr/*", "https://*.kamusm.gov.tr/*"];
  assert.deepStrictEqual(manifest.content_scripts[0].matches, authority);
  /* Nothing is web-accessible: no page can embed the PIN window's page. */
  assert.strictEqual(manifest.web_accessible_resources, undefined);
  assert.strictEqual(manifest.browser_specific_settings.gecko.id, "nesbridge@kamusm.gov.tr");
  assert.deepStrictEqual(NB.EXTRA_ORIGINS, []);
});
