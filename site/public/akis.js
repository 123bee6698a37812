/* SPDX-License-Identifier: Apache-2.0 */
/* What the Kilit Çözme page knows of AKİS, the NES card's operating
 * system, from public sources only (docs/card-profile.md, "AKİS
 * behaviour, from public sources"): how to tell an AKİS card by its ATR,
 * where its system data holds the serial, what the FCI's security byte
 * says of the PIN. Pure functions over hex strings; the page loads this
 * before unlock.js, the Node tests require it. */
"use strict";

var NesAkis = (function () {
  /* "UEKAE" in the historical bytes, as every public AKİS ATR has
   * (pcsc-tools' ATR list). */
  const UEKAE = "55454B4145";
  /* GET DATA, system data: 0x4D (77) bytes, the 12-byte serial at 55. */
  const GET_SYSTEM_DATA = "00CA01064D";
  const SERIAL_OFFSET = 55;
  const SERIAL_LENGTH = 12;
  /* SELECT the MF by id (P1=00: a DF), FCI wanted (P2=00, Le 00). */
  const SELECT_MF_FCI = "00A40000023F0000";
  /* VERIFY with no data (ISO 7816-4 case 1): the PIN's state, no try spent. */
  const VERIFY_PIN_STATE = "00200081";
  const VERIFY_PUK_STATE = "00200082";
  const PIN_TRIES = 3;

  /* historical: the ATR's historical bytes as upper-case hex
   * (NesBridge.historicalBytes). */
  function isAkisHistorical(historical) {
    return typeof historical === "string" && historical.toUpperCase().includes(UEKAE);
  }

  /* The serial out of GET DATA 01 06's answer (hex): 12 ASCII bytes at
   * offset 55, space-padded when shorter; null when the answer is not 77
   * bytes or the serial is not printable. */
  function serialFromSystemData(hex) {
    if (typeof hex !== "string" || hex.length !== 0x4D * 2 || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
    const field = hex.slice(SERIAL_OFFSET * 2, (SERIAL_OFFSET + SERIAL_LENGTH) * 2);
    let text = "";
    for (let i = 0; i < field.length; i += 2) text += String.fromCharCode(parseInt(field.slice(i, i + 2), 16));
    text = text.replace(/[ \0]+$/, "");
    return /^[\x21-\x7E]{1,12}$/.test(text) ? text : null;
  }

  /* The security byte (tag 90) of an FCI (hex, template 6F or bare TLVs);
   * null when there is none. */
  function securityByte(fciHex) {
    if (typeof fciHex !== "string" || !/^([0-9A-Fa-f]{2})*$/.test(fciHex)) return null;
    const bytes = (fciHex.match(/../g) || []).map((h) => parseInt(h, 16));
    let i = 0, end = bytes.length;
    if (bytes[0] === 0x6F && bytes.length >= 2) {
      i = 2;
      end = Math.min(bytes.length, 2 + bytes[1]);
    }
    while (i + 2 <= end) {
      const tag = bytes[i], len = bytes[i + 1];
      if (i + 2 + len > end) return null;
      if (tag === 0x90 && len === 1) return bytes[i + 2];
      i += 2 + len;
    }
    return null;
  }

  /* The PIN's state from the FCI's security byte and VERIFY's status word
   * (either may be null). AKİS's byte: 0x40 a wrong PIN was entered once,
   * 0x80 the last try (our virtual card sets both when blocked, which a
   * real card's documentation does not say: 6983 tells it for sure).
   * Returns {tries: "0".."3" or "?" or "–", state: "ok"|"blocked"|"new-pin"|"unknown"}. */
  function pinState(security, verifySw) {
    if (verifySw === "6983") return { tries: "0", state: "blocked" };
    if (verifySw === "6984") return { tries: "–", state: "new-pin" };
    if (security !== null && security !== undefined) {
      if ((security & 0xC0) === 0xC0) return { tries: "0", state: "blocked" };
      if (security & 0x80) return { tries: "1", state: "ok" };
      if (security & 0x40) return { tries: "2", state: "ok" };
      return { tries: String(PIN_TRIES), state: "ok" };
    }
    if (typeof verifySw === "string" && /^63C[0-9A-F]$/.test(verifySw)) {
      const left = parseInt(verifySw[3], 16);
      return { tries: String(left), state: left === 0 ? "blocked" : "ok" };
    }
    if (verifySw === "9000") return { tries: String(PIN_TRIES), state: "ok" };
    return { tries: "?", state: "unknown" };
  }

  return { UEKAE, GET_SYSTEM_DATA, SELECT_MF_FCI, VERIFY_PIN_STATE, VERIFY_PUK_STATE, isAkisHistorical,
    serialFromSystemData, securityByte, pinState };
})();

if (typeof module !== "undefined" && module.exports) module.exports = NesAkis;
