/* SPDX-License-Identifier: Apache-2.0 */
/* Kilit Çözme: find the card through nesbridge, show its serial and PIN
 * tries, and run the unlock script that the authority's server signs; the
 * extension asks the holder for the new PIN in a window of its own. */
"use strict";

(function () {
  const body = document.body;
  const csrf = body.dataset.csrf;
  const t = JSON.parse(body.dataset.messages);
  const successText = body.dataset.success;
  const testMode = body.dataset.test === "1";
  const $ = (id) => document.getElementById(id);
  const button = $("make-pin");
  let card = null; /* {reader, handle, atr, serial, pinpad} */
  let chosenReader = null; /* the reader the holder picked among several AKİS cards */

  function status(text) {
    $("status").textContent = text;
  }

  function result(text, ok) {
    $("result").textContent = text;
    $("result").className = ok ? "ok" : "error";
  }

  function explain(e) {
    const code = e && e.code ? e.code : "";
    return t[code] || (t.other + (code ? " (" + code + ")" : ""));
  }

  async function post(url, data) {
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data), credentials: "same-origin" });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error(json.error || "http " + r.status);
      e.code = json.error === "session" ? "session" : json.error;
      throw e;
    }
    return json;
  }

  /* Every APDU the page sends, in test mode only (the e2e tests check
   * which commands read the card). */
  const sent = [];
  if (testMode) window.__nbApdus = sent;
  function transmit(handle, apdu) {
    if (testMode) sent.push(apdu);
    return NesBridge.transmit(handle, apdu);
  }

  /* Reads serial and PIN state the AKİS way, read-only commands only:
   * GET DATA 01 06 (the serial at offset 55 of the system data), SELECT
   * of the MF (the FCI's security byte tracks the PIN), VERIFY with no
   * data (ISO: the tries, blocked, nothing spent). */
  async function inspect(handle) {
    const system = await transmit(handle, NesAkis.GET_SYSTEM_DATA);
    const serial = system.sw === "9000" ? NesAkis.serialFromSystemData(system.data) : null;
    if (serial === null) throw Object.assign(new Error("serial"), { code: "noSerial" });
    const fci = await transmit(handle, NesAkis.SELECT_MF_FCI);
    const pin = await transmit(handle, NesAkis.VERIFY_PIN_STATE);
    const puk = await transmit(handle, NesAkis.VERIFY_PUK_STATE);
    const state = NesAkis.pinState(fci.sw === "9000" ? NesAkis.securityByte(fci.data) : null, pin.sw);
    let note = state.state === "blocked" ? t.pinBlocked : state.state === "new-pin" ? t.pinNew : "";
    if (puk.sw === "6983") note += (note ? " " : "") + t.pukBlocked;
    return { serial, tries: state.tries, note };
  }

  /* AKİS cards: "UEKAE" (55454B4145) in the historical bytes, as every
   * public AKİS ATR has (pcsc-tools' ATR list), and both virtual cards'
   * ATRs. A YubiKey or a bank card is not offered. */
  function isAkis(reader) {
    return NesAkis.isAkisHistorical(NesBridge.historicalBytes(reader.atr));
  }

  /* Two or more AKİS cards: the holder says which one. */
  function choose(cards) {
    return new Promise((resolve) => {
      const box = $("choices");
      box.textContent = "";
      for (const c of cards) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.textContent = c.reader;
        b.dataset.reader = c.reader;
        b.addEventListener("click", () => {
          $("chooser").hidden = true;
          box.textContent = "";
          resolve(c);
        });
        box.appendChild(b);
      }
      $("chooser").hidden = false;
      box.querySelector("button").focus();
    });
  }

  async function findCard() {
    button.disabled = true;
    status(t.checking);
    await NesBridge.hello();
    const readers = await NesBridge.listReaders();
    if (readers.length === 0) {
      status(t.noReader);
      await NesBridge.waitForCard({});
    }
    status(t.insertCard);
    /* Once the holder has picked a reader, a card pulled out is awaited
     * there, not replaced by another AKİS card in another reader. */
    const wanted = chosenReader === null ? isAkis : (r) => r.name === chosenReader && isAkis(r);
    let found = await NesBridge.waitForCard({ filter: wanted });
    if (found.cards.length > 1) {
      /* The holder is asked once; a card back in the reader chosen
       * before (pulled out and in again) is taken without asking. */
      const again = found.cards.find((c) => c.reader === chosenReader);
      if (again) found = again;
      else {
        status(t.chooseCard);
        found = await choose(found.cards);
      }
    }
    chosenReader = found.reader;
    const conn = await NesBridge.connect(found.reader);
    const info = await inspect(conn.handle);
    /* A reader with a keypad that can take a new PIN (the host asks the
     * reader for FEATURE_MODIFY_PIN_DIRECT): the holder types it there. */
    const listed = (await NesBridge.listReaders()).find((r) => r.name === found.reader);
    const pinpad = Boolean(listed && listed.pinpad && listed.pinpad.modify === true);
    card = { reader: found.reader, handle: conn.handle, atr: conn.atr, serial: info.serial, pinpad };
    $("reader").textContent = found.reader;
    $("serial").textContent = info.serial;
    $("tries").textContent = info.tries;
    if (pinpad) $("pin-hint").textContent = t.pinHintPinpad;
    status(t.cardFound + (info.note ? " " + info.note : ""));
    button.disabled = false;
  }

  /* The PIN tries once the script has run. A script that held secrets
   * ends with a card reset, and so does one that did not complete (a
   * pinpad entry cancelled or timed out; docs/protocol.md): the handle
   * then answers reset-card once, and a new connection reads the card. A
   * failure here does not undo what the holder was told. */
  async function triesAfter() {
    try {
      return (await inspect(card.handle)).tries;
    } catch (e) {
      if (!e || e.code !== "reset-card") throw e;
      await NesBridge.disconnect(card.handle).catch(() => {});
      const conn = await NesBridge.connect(card.reader);
      card.handle = conn.handle;
      if (testMode && window.__nbLastSigned) window.__nbLastSigned.handle = conn.handle;
      return (await inspect(conn.handle)).tries;
    }
  }

  async function unlock() {
    if (testMode) window.__nbBusy = true; /* until the page has said all it will */
    button.disabled = true;
    result("", true);
    status(t.working);
    const started = performance.now();
    let outcome = { completed: false, code: "" };
    let ran = false;
    try {
      const nonce = await NesBridge.getNonce(card.handle);
      const challenge = await transmit(card.handle, "0084000008");
      const signed = await post("/api/unlock/prepare", { nonce, challenge: challenge.data, atr: card.atr, serial: card.serial });
      if (testMode) window.__nbLastSigned = { handle: card.handle, signed };
      /* The extension's window asks for the new PIN, or, with a pinpad
       * reader, tells the holder to type it on the reader's keypad. */
      status(card.pinpad ? t.typePinPad : t.typePin);
      ran = true;
      const run = await NesBridge.runScript(card.handle, signed, card.pinpad ?
        { pinpad: true, askPin: { serial: card.serial } } : { askPin: { serial: card.serial } });
      status(t.working);
      outcome = { completed: run.completed, code: run.completed ? "" : "step-" + run.stopped_at };
      if (!run.completed) throw Object.assign(new Error("step"), { code: "stepFailed" });
      window.__nbUnlockMs = performance.now() - started;
      /* The page says it all at once: the tries, on a live handle, with
       * the success. */
      $("tries").textContent = await triesAfter().catch(() => "–");
      result(successText, true);
      status("");
      /* Done: the button stays disabled, as the authority's guide says. */
    } catch (e) {
      outcome.code = outcome.code || (e && e.code) || "error";
      if (["removed-card", "reset-card", "unresponsive-card", "native-disconnected"].includes(e && e.code)) {
        result(explain(e), false);
        card = null;
        findCard().catch((err) => result(explain(err), false));
      } else {
        /* A script that did not complete ended with a card reset (a
         * pinpad entry cancelled or timed out, a status word not
         * expected): the tries as they are now, on a live handle. A PIN
         * window closed before the PIN was sent reached nothing. */
        const untouched = e && e.code === "pin-cancelled" && !card.pinpad;
        if (ran && !untouched) $("tries").textContent = await triesAfter().catch(() => "–");
        result(explain(e), false);
        button.disabled = false;
        status("");
      }
    } finally {
      post("/api/unlock/result", outcome).catch(() => {});
      if (testMode) window.__nbBusy = false;
    }
  }

  button.addEventListener("click", () => { unlock(); });
  findCard().catch((e) => {
    status("");
    result(explain(e), false);
  });
})();
