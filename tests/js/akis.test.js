/* SPDX-License-Identifier: Apache-2.0 */
/* The demo site's AKİS rules (site/public/akis.js): which ATRs are AKİS
 * cards, the serial in GET DATA 01 06's system data, the PIN's state from
 * the FCI's security byte and VERIFY's status word. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const AKIS = require("../../site/public/akis.js");

/* The page library's historicalBytes, as the page calls it. */
const library = (() => {
  const global = { location: { origin: "https://kamusm.gov.tr" }, addEventListener() {}, postMessage() {} };
  global.globalThis = global;
  vm.runInNewContext(fs.readFileSync(path.join(__dirname, "..", "..", "extension", "page", "nes-bridge.js"), "utf8"), global);
  return global.NesBridge;
})();
const isAkis = (atr) => AKIS.isAkisHistorical(library.historicalBytes(atr));

test("AKİS cards by their ATR: UEKAE in the historical bytes, nothing else", () => {
  /* The public AKİS ATRs (pcsc-tools' list), the virtual cards' among them. */
  for (const atr of ["3BBA11008131FE4D55454B41452056312E30AE", "3B9F968131FE45806755454B41451212318073B3A180EA",
    "3B9F968131FE45806755454B41451253318073B3A180AB", "3B9F968131FE45806755454B41451293318073B3A1806B",
    "3B9F158131FE45806755454B41451221318073B3A1805A"]) {
    assert.strictEqual(isAkis(atr), true, atr);
  }
  /* The virtual card's old ATR ("AKISNB"), a YubiKey, a bank card, UEKAE
   * only in the TCK's neighbourhood, nonsense. */
  for (const atr of ["3B88018066414B49534E4273", "3BF81300008131FE15597562696B657934D4",
    "3B6800000073C84013009000", "3B8055454B414500", "", "zz", null]) {
    assert.strictEqual(isAkis(atr), false, String(atr));
  }
});

test("the serial: 12 bytes at offset 55 of GET DATA 01 06's 77, space-padded", () => {
  const system = (serial) => {
    const bytes = Buffer.alloc(77);
    bytes.fill(0x20, 55, 67);
    Buffer.from(serial, "latin1").copy(bytes, 55);
    return bytes.toString("hex").toUpperCase();
  };
  assert.strictEqual(AKIS.serialFromSystemData(system("NB0000000002")), "NB0000000002");
  assert.strictEqual(AKIS.serialFromSystemData(system("NB12")), "NB12");
  assert.strictEqual(AKIS.serialFromSystemData(system("")), null);
  assert.strictEqual(AKIS.serialFromSystemData(system("NB\u0001")), null);
  assert.strictEqual(AKIS.serialFromSystemData(system("NB0000000002").slice(2)), null, "76 bytes");
  assert.strictEqual(AKIS.serialFromSystemData(null), null);
  assert.strictEqual(AKIS.GET_SYSTEM_DATA, "00CA01064D");
});

test("the PIN's state: the FCI's security byte (0x40 one wrong try, 0x80 the last), VERIFY's 6983 and 6984", () => {
  /* The MF's FCI as the virtual card answers it, security byte 02 | PIN bits. */
  const fci = (sec) => "6F0C" + "83023F00" + "820138" + "8400" + "9001" + sec;
  assert.strictEqual(AKIS.securityByte(fci("02")), 0x02);
  assert.strictEqual(AKIS.securityByte(fci("C2")), 0xC2);
  assert.strictEqual(AKIS.securityByte("83023F00900142"), 0x42, "bare TLVs");
  assert.strictEqual(AKIS.securityByte("6F0483023F00"), null, "no tag 90");
  assert.strictEqual(AKIS.securityByte("6F0690"), null, "cut short");
  const state = (sec, sw) => AKIS.pinState(sec === null ? null : AKIS.securityByte(fci(sec)), sw);
  assert.deepStrictEqual(state("02", "9000"), { tries: "3", state: "ok" });
  assert.deepStrictEqual(state("42", "63C2"), { tries: "2", state: "ok" });
  assert.deepStrictEqual(state("82", "63C1"), { tries: "1", state: "ok" });
  assert.deepStrictEqual(state("C2", "6983"), { tries: "0", state: "blocked" });
  assert.deepStrictEqual(state("02", "6983"), { tries: "0", state: "blocked" }, "VERIFY tells blocked for sure");
  assert.deepStrictEqual(state("02", "6984"), { tries: "–", state: "new-pin" });
  assert.deepStrictEqual(state("42", "6D00"), { tries: "2", state: "ok" }, "the byte alone");
  assert.deepStrictEqual(state(null, "63C1"), { tries: "1", state: "ok" }, "VERIFY alone");
  assert.deepStrictEqual(state(null, "6D00"), { tries: "?", state: "unknown" });
});
