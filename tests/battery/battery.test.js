/* SPDX-License-Identifier: Apache-2.0 */
/* The malformed-input battery: real frames to the real build/nesbridge-host
 * (pcscd + virtual card up). Each case gets its documented error or a clean
 * exit; the host never crashes nor hangs (replies within 1 s). With
 * NB_VALGRIND=1 the hosts run under valgrind and must not leak. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const { Host } = require("./host");

const valgrind = process.env.NB_VALGRIND === "1";
const O = "https://kamusm.gov.tr";
const READER = "nesbridge Virtual Reader 00 00";
let host, handle;

before(async () => {
  host = new Host(undefined, { valgrind });
  assert.strictEqual((await host.request("hello", { protocol: 1 })).ok, true);
  handle = (await host.request("connect", { reader: READER })).result.handle;
});

after(async () => {
  const exit = await host.end(valgrind ? 20000 : 1000);
  assert.deepStrictEqual(exit, { code: 0, signal: null }, "clean exit after the battery" + host.stderr);
});

const code = (reply) => (reply.ok ? "ok" : reply.error.code);
const req = (cmd, args, id) => JSON.stringify({ id: id === undefined ? 1 : id, cmd, origin: O, args });
const tx = (apdu, extra) => req("transmit", Object.assign({ handle, apdu }, extra || {}));

/* [name, raw request text (or a function of the handle), expected code, expected id]. */
const cases = [
  /* The last field: the id the reply must carry. A request the JSON checks
   * refuse still gets its id back when the id can be read (protocol.md). */
  ["invalid JSON", "{", "bad-request", null],
  ["JSON text only", "\"hello\"", "bad-request", null],
  ["trailing data", req("hello", { protocol: 1 }) + " x", "bad-request", 1],
  ["invalid UTF-8", Buffer.concat([Buffer.from('{"id":1,"cmd":"he'), Buffer.from([0xff]), Buffer.from('llo"}')]), "bad-request", 1],
  ["overlong UTF-8", Buffer.concat([Buffer.from('{"id":1,"cmd":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), "bad-request", 1],
  ["UTF-16 surrogate in UTF-8", Buffer.concat([Buffer.from('{"id":1,"cmd":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), "bad-request", 1],
  ["raw NUL in a string", Buffer.from('{"id":1,"cmd":"hel\0lo","origin":"x"}'), "bad-request", 1],
  ["escaped NUL in a string", '{"id":1,"cmd":"hel\\u0000lo","origin":"x"}', "bad-request", 1],
  ["100k-deep nesting", "[".repeat(100000), "bad-request", null],
  ["huge number id", '{"id":1e400,"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["unsafe integer id", '{"id":9007199254740993,"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["fractional id", '{"id":1.5,"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["null id", '{"id":null,"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["boolean id", '{"id":true,"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["array id", '{"id":[1],"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["object id", '{"id":{},"cmd":"hello","origin":"' + O + '"}', "bad-request", null],
  ["long string id", JSON.stringify({ id: "x".repeat(129), cmd: "hello", origin: O }), "bad-request", null],
  ["string id echoed", JSON.stringify({ id: "abc", cmd: "nope", origin: O }), "unknown-command", "abc"],
  ["negative id echoed", JSON.stringify({ id: -7, cmd: "nope", origin: O }), "unknown-command", -7],
  ["duplicate keys", '{"id":1,"cmd":"hello","cmd":"list-readers","origin":"' + O + '"}', "bad-request", 1],
  ["duplicate keys in args", '{"id":2,"cmd":"list-readers","origin":"' + O + '","args":{"a":1,"a":2}}', "bad-request", 2],
  ["cmd of wrong type", JSON.stringify({ id: 3, cmd: 5, origin: O }), "bad-request", 3],
  ["origin of wrong type", JSON.stringify({ id: 4, cmd: "hello", origin: 5 }), "bad-request", 4],
  ["args as array", JSON.stringify({ id: 5, cmd: "list-readers", origin: O, args: [] }), "bad-request", 5],
  ["args as string", JSON.stringify({ id: 6, cmd: "list-readers", origin: O, args: "x" }), "bad-request", 6],
  ["unknown top-level field", JSON.stringify({ id: 7, cmd: "hello", origin: O, x: 1 }), "bad-request", 7],
  ["unknown command", req("frobnicate", {}), "unknown-command", 1],
  ["command in capitals", req("HELLO", { protocol: 1 }), "unknown-command", 1],
  ["missing origin", JSON.stringify({ id: 8, cmd: "list-readers" }), "bad-request", 8],
  ["foreign origin", JSON.stringify({ id: 9, cmd: "list-readers", origin: "https://evil.example" }), "origin-not-allowed", 9],
  ["plain http authority", JSON.stringify({ id: 10, cmd: "list-readers", origin: "http://kamusm.gov.tr" }), "origin-not-allowed", 10],
  ["lookalike domain", JSON.stringify({ id: 11, cmd: "list-readers", origin: "https://kamusm.gov.tr.evil.example" }), "origin-not-allowed", 11],
  ["other protocol major", req("hello", { protocol: 2 }), "version-mismatch", 1],
  ["protocol as string", req("hello", { protocol: "1" }), "bad-request", 1],
  ["unknown argument", req("list-readers", { x: 1 }), "bad-request", 1],
  ["reader of wrong type", req("connect", { reader: 5 }), "bad-request", 1],
  ["empty reader", req("connect", { reader: "" }), "bad-request", 1],
  ["control character in reader", req("connect", { reader: "a\nb" }), "bad-request", 1],
  ["too long reader", req("connect", { reader: "r".repeat(129) }), "bad-request", 1],
  ["unknown reader", req("connect", { reader: "No Such Reader" }), "unknown-reader", 1],
  ["bad share mode", req("connect", { reader: READER, share: "direct" }), "bad-request", 1],
  ["bad protocol list", req("connect", { reader: READER, protocols: ["t2"] }), "bad-request", 1],
  ["odd-length hex", () => tx("00A4000"), "bad-request", 1],
  ["non-hex", () => tx("00A4ZZ00"), "bad-request", 1],
  ["APDU too short", () => tx("00A4"), "bad-request", 1],
  ["Lc longer than the data", () => tx("00A4000C053F00"), "bad-request", 1],
  ["Lc shorter than the data", () => tx("00A4000C013F0000AA"), "bad-request", 1],
  ["extended Lc of zero", () => tx("00D6000000000000AA"), "bad-request", 1],
  ["extended Lc mismatch", () => tx("00D600000000050102"), "bad-request", 1],
  ["APDU over 65544 bytes", () => tx("00D60000" + "00FFFF" + "AA".repeat(65539)), "bad-request", 1],
  ["extended Le on READ BINARY", () => tx("00A4000C023F00"), "ok", 1],
  ["handle as string", () => req("transmit", { handle: String(handle), apdu: "00A4000C023F00" }), "bad-request", 1],
  ["negative handle", req("transmit", { handle: -1, apdu: "00A4000C023F00" }), "bad-request", 1],
  ["huge handle", req("transmit", { handle: 4294967296, apdu: "00A4000C023F00" }), "bad-request", 1],
  ["unknown handle", req("transmit", { handle: 12345, apdu: "00A4000C023F00" }), "invalid-handle", 1],
  ["get_response of wrong type", () => tx("00A4000C023F00", { get_response: "yes" }), "bad-request", 1],
  ["VERIFY with a PIN", () => tx("0020008108313233343536FFFF"), "not-allowed", 1],
  ["UPDATE BINARY", () => tx("00D6000001AA"), "not-allowed", 1],
  ["RESET RETRY COUNTER", () => tx("002C0381"), "not-allowed", 1],
  ["proprietary class", () => tx("80CA005A00"), "not-allowed", 1],
  ["wait with readers as array", req("wait-for-change", { readers: [], timeout_ms: 10 }), "bad-request", 1],
  ["wait with bad state name", req("wait-for-change", { readers: { [READER]: ["maybe"] }, timeout_ms: 10 }), "bad-request", 1],
  ["wait timeout out of range", req("wait-for-change", { readers: {}, timeout_ms: 1e12 }), "bad-request", 1],
  ["run-script with bad base64", () => req("run-script", { handle, script: "!!", signature: "AA==", key_id: "00" }), "bad-request", 1],
  ["run-script with empty signature", () => req("run-script", { handle, script: "e30=", signature: "", key_id: "00" }), "bad-signature", 1],
  ["run-script with a PIN of wrong type", () => req("run-script", { handle, script: "e30=", signature: "AA==", key_id: "00", new_pin: 123456 }), "bad-request", 1],
  ["get-nonce on unknown handle", req("get-nonce", { handle: 999 }), "invalid-handle", 1],
  ["end-transaction without begin", () => req("end-transaction", { handle }), "not-transacted", 1],
];

for (const [name, text, expected, id] of cases) {
  test("battery: " + name, async () => {
    const t0 = Date.now();
    const reply = await host.call(typeof text === "function" ? text() : text);
    assert.strictEqual(code(reply), expected, JSON.stringify(reply));
    assert.deepStrictEqual(reply.id, id === null ? null : id);
    if (!valgrind) assert.ok(Date.now() - t0 < 1000);
  });
}

test("battery: a request after disconnect", async () => {
  const h = (await host.request("connect", { reader: READER })).result.handle;
  assert.strictEqual(code(await host.request("disconnect", { handle: h })), "ok");
  assert.strictEqual(code(await host.request("transmit", { handle: h, apdu: "00A4000C023F00" })), "invalid-handle");
});

test("battery: a handle from another host process means nothing here", async () => {
  const other = new Host(undefined, { valgrind });
  await other.request("hello", { protocol: 1 });
  const foreign = (await other.request("connect", { reader: READER })).result.handle;
  assert.strictEqual(code(await host.request("transmit", { handle: foreign, apdu: "00A4000C023F00" })), "invalid-handle");
  assert.deepStrictEqual(await other.end(valgrind ? 20000 : 1000), { code: 0, signal: null });
});

/* Cases that end the stream: each in a host of its own. */
const enders = [
  ["EOF at once", (h) => {}, null, 0],
  ["half a length word", (h) => h.raw(Buffer.from([5, 0])), "bad-request", 1],
  ["length 2^31", (h) => h.raw(Buffer.from([0, 0, 0, 0x80])), "message-too-large", 1],
  ["length 2^32-1", (h) => h.raw(Buffer.from([0xff, 0xff, 0xff, 0xff])), "message-too-large", 1],
  ["length just over 256 KiB", (h) => { const b = Buffer.alloc(4); b.writeUInt32LE(262145); h.raw(b); }, "message-too-large", 1],
  ["body cut short", (h) => { const b = Buffer.alloc(4); b.writeUInt32LE(100); h.raw(Buffer.concat([b, Buffer.from('{"id":1')])); }, "bad-request", 1],
];

for (const [name, feed, expected, exitCode] of enders) {
  test("battery: " + name, async () => {
    const h = new Host(undefined, { valgrind });
    feed(h);
    h.child.stdin.end();
    if (expected !== null) {
      const reply = await h.reply(valgrind ? 10000 : 1000);
      assert.strictEqual(code(reply), expected);
      assert.strictEqual(reply.id, null);
    }
    assert.deepStrictEqual(await h.end(valgrind ? 20000 : 1000), { code: exitCode, signal: null });
  });
}

test("battery: an empty frame is answered and the host goes on", async () => {
  host.raw(Buffer.alloc(4));
  assert.strictEqual(code(await host.reply(valgrind ? 10000 : 1000)), "bad-request");
  assert.strictEqual(code(await host.request("list-readers", {})), "ok");
});

test("battery: commands before hello", async () => {
  const h = new Host(undefined, { valgrind });
  assert.strictEqual(code(await h.request("list-readers", {})), "hello-required");
  assert.strictEqual(code(await h.request("connect", { reader: READER })), "hello-required");
  assert.deepStrictEqual(await h.end(valgrind ? 20000 : 1000), { code: 0, signal: null });
});

test("battery: a foreign extension is refused, whatever it sends", async () => {
  const h = new Host(["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"], { valgrind });
  assert.strictEqual(code(await h.request("hello", { protocol: 1 })), "caller-not-allowed");
  assert.strictEqual(code(await h.call("not json")), "caller-not-allowed");
  assert.deepStrictEqual(await h.end(valgrind ? 20000 : 1000), { code: 0, signal: null });
});

test("battery: not started by a browser", async () => {
  const h = new Host([]);
  assert.deepStrictEqual(await h.end(), { code: 2, signal: null });
});
