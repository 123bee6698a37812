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
  let card = null; /* {reader, handle, atr, serial} */
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

  const hexToAscii = (hex) => hex.replace(/../g, (h) => String.fromCharCode(parseInt(h, 16)));

  /* Reads serial and PIN state, read-only commands only. */
  async function inspect(handle) {
    const serial = await NesBridge.transmit(handle, "00CA005A00");
    const pin = await NesBridge.transmit(handle, "00200081");
    const puk = await NesBridge.transmit(handle, "00200082");
    let tries = "?", note = "";
    if (/^63C.$/.test(pin.sw)) tries = String(parseInt(pin.sw[3], 16));
    else if (pin.sw === "9000") tries = "3";
    else if (pin.sw === "6983") { tries = "0"; note = t.pinBlocked; }
    else if (pin.sw === "6984") { tries = "–"; note = t.pinNew; }
    if (puk.sw === "6983") note += (note ? " " : "") + t.pukBlocked;
    return { serial: hexToAscii(serial.data), tries, note };
  }

  /* AKİS cards: "UEKAE" (55454B4145) in the historical bytes, as every
   * public AKİS ATR has (pcsc-tools' smartcard_list.txt). The demo's virtual
   * card today has historical bytes 80 66 "AKISNB": "AKIS" (414B4953) is
   * accepted too, so that the demo works before and after the virtual
   * card gets a real AKİS ATR. A YubiKey or a bank card is not offered. */
  function isAkis(reader) {
    const historical = NesBridge.historicalBytes(reader.atr);
    return historical.includes("55454B4145") || historical.includes("414B4953");
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
    card = { reader: found.reader, handle: conn.handle, atr: conn.atr, serial: info.serial };
    $("reader").textContent = found.reader;
    $("serial").textContent = info.serial;
    $("tries").textContent = info.tries;
    status(t.cardFound + (info.note ? " " + info.note : ""));
    button.disabled = false;
  }

  /* The PIN tries once the script has run. A script that held secrets
   * ends with a card reset (docs/protocol.md): the handle then answers
   * reset-card once, and a new connection reads the card. A failure here
   * does not undo the success the holder was told of. */
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
    button.disabled = true;
    result("", true);
    status(t.working);
    const started = performance.now();
    let outcome = { completed: false, code: "" };
    try {
      const nonce = await NesBridge.getNonce(card.handle);
      const challenge = await NesBridge.transmit(card.handle, "0084000008");
      const signed = await post("/api/unlock/prepare", { nonce, challenge: challenge.data, atr: card.atr, serial: card.serial });
      if (testMode) window.__nbLastSigned = { handle: card.handle, signed };
      status(t.typePin);
      const run = await NesBridge.runScript(card.handle, signed, { askPin: { serial: card.serial } });
      status(t.working);
      outcome = { completed: run.completed, code: run.completed ? "" : "step-" + run.stopped_at };
      if (!run.completed) throw Object.assign(new Error("step"), { code: "stepFailed" });
      window.__nbUnlockMs = performance.now() - started;
      result(successText, true);
      status("");
      $("tries").textContent = await triesAfter().catch(() => "–");
      /* Done: the button stays disabled, as the authority's guide says. */
    } catch (e) {
      outcome.code = outcome.code || (e && e.code) || "error";
      result(explain(e), false);
      if (["removed-card", "reset-card", "unresponsive-card", "native-disconnected"].includes(e && e.code)) {
        card = null;
        findCard().catch((err) => result(explain(err), false));
      } else {
        button.disabled = false;
        status("");
      }
    } finally {
      post("/api/unlock/result", outcome).catch(() => {});
    }
  }

  button.addEventListener("click", () => { unlock(); });
  findCard().catch((e) => {
    status("");
    result(explain(e), false);
  });
})();
