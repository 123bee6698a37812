/* SPDX-License-Identifier: Apache-2.0 */
/* The demo site's card cryptography against the vectors of
 * docs/card-profile.md (the C card and tests use the same). */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const crypto = require("crypto");
const A = require("../../site/authority.js");

const hex = (s) => Buffer.from(s, "hex");
const up = (b) => b.toString("hex").toUpperCase();
const MASTER = hex("4E4553425249444745444D4F4B455931");
const ADMIN = "A94911A6E90E8E645D097F3135C0356A";
const RND_IC = hex("1122334455667788"), RND_IFD = hex("0102030405060708");
const K_IFD = hex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");

test("CMAC matches NIST SP 800-38B example 2", () => {
  const key = hex("2b7e151628aed2a6abf7158809cf4f3c");
  assert.strictEqual(up(A.cmac(key, hex(""))), "BB1D6929E95937287FA37D129B756746");
  assert.strictEqual(up(A.cmac(key, hex("6bc1bee22e409f96e93d7e117393172a"))), "070A16B46B4D4144F79BDD9DD04A287C");
});

test("key derivation", () => {
  assert.strictEqual(up(A.adminKey(MASTER, "NB0000000001")), ADMIN);
  assert.strictEqual(up(A.kdf(hex(ADMIN), 1)), "AD33361FE83E07171DAF64C0C468B3BD");
  assert.strictEqual(up(A.kdf(hex(ADMIN), 2)), "F1286B8B434042A9AD3CCA1ECB8E9379");
  assert.strictEqual(up(A.cardKey(hex(ADMIN), RND_IC, RND_IFD)), "CC12D9AB9BA77A211F4C8855D7C6ADF9");
});

test("authentication cryptogram and protected RESET RETRY COUNTER", () => {
  assert.strictEqual(up(A.authRequest(hex(ADMIN), RND_IC, RND_IFD, K_IFD)),
    "9546996DC6E508B848DA09FFF00BA2FC4323E0EB6D937B35DD7216A07AE7E528BF85E816C97EEEC0");
  const kIc = hex("CC12D9AB9BA77A211F4C8855D7C6ADF9");
  assert.strictEqual(up(A.smWrap(K_IFD, kIc, 1, hex("002C0381"))), "0C2C03810A8E080F6F3028E06656E800");
  const fixed = (n) => (n === 8 ? RND_IFD : K_IFD);
  const apdus = A.unlockApdus(MASTER, "NB0000000001", RND_IC, fixed);
  assert.strictEqual(apdus.auth, "0082000028" + "9546996DC6E508B848DA09FFF00BA2FC4323E0EB6D937B35DD7216A07AE7E528BF85E816C97EEEC0" + "28");
  assert.strictEqual(apdus.rrc, "0C2C03810A8E080F6F3028E06656E800");
});

test("signed scripts verify with the key id the host computes", () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signed = A.signedUnlockScript(privateKey, { nonce: "00".repeat(32), atr: "3B88018066414B49534E4273",
    serial: "NB0000000001", challenge: "1122334455667788", master: MASTER, now: Date.UTC(2026, 10, 25) });
  const script = Buffer.from(signed.script, "base64");
  assert.ok(crypto.verify("sha256", script, publicKey, Buffer.from(signed.signature, "base64")));
  assert.strictEqual(signed.key_id, A.keyId(publicKey));
  const parsed = JSON.parse(script);
  assert.strictEqual(parsed.not_after, "2026-11-25T00:02:00Z");
  assert.strictEqual(parsed.steps.length, 3);
  assert.ok(parsed.steps.every((s) => s.expect[0] === "9000"));
});
