/* SPDX-License-Identifier: Apache-2.0 */
/* The extension's PIN window. The background opens it with
 * windows.create (never the page) when a page runs a signed script that
 * asks for a new PIN, tells it who asks and the script's rules, takes the
 * PIN over a runtime port and adds it to the request for the host. The
 * page learns only how the script ended. Keyboard: focus starts in the
 * first field, Enter submits, Escape cancels.
 *
 * With a pinpad reader (keypad mode) the holder types the new PIN twice
 * on the reader's keypad: the window says so, shows no field, and the
 * script is already with the host when it shows. It cannot cancel then:
 * the host waits inside the reader's PIN entry (SCardControl), which
 * nothing from the browser interrupts. Its Cancel and Escape tell the
 * holder to press Cancel on the reader; closing it leaves the entry to the
 * reader (Cancel there, or the reader's timeout). It still says how the
 * script ended and closes itself. */
"use strict";

(function () {
  const english = /^en\b/i.test(navigator.language || "");
  const TEXT = english ? {
    title: "nesbridge: New PIN", heading: "New PIN",
    unblock: "The card will be unlocked and given the new PIN you type here.",
    change: "The card's PIN will be changed to the new PIN you type here.",
    other: "The new PIN you type here will be sent to the card.",
    origin: "Site asking", reader: "Card reader", serial: "Card serial number (as the site states it)",
    pin: "New PIN", confirm: "New PIN (again)", ok: "OK", cancel: "Cancel",
    rules: (min, max) => (min === max ? min : min + " to " + max) + " digits, numbers only.",
    note: "This window belongs to the nesbridge extension. Your PIN is not sent to the site; it goes to your card only.",
    empty: "Type the new PIN in both fields.", format: (min, max) => "The PIN must have " + (min === max ? min : min + " to " + max) + " digits.",
    mismatch: "The two PINs differ.", sending: "Sending the new PIN to the card…",
    done: "Done: the card has its new PIN. This window closes itself.",
    failed: "The operation did not complete", notCompleted: "The card refused the operation.",
    removed: "The card was removed during the operation.",
    closedEarly: "This window is no longer in use. You can close it.",
    keypadUnblock: "The card will be unlocked and given the new PIN you type on the card reader's keypad.",
    keypadChangeAction: "The card's PIN will be changed to the new PIN you type on the card reader's keypad.",
    keypadOther: "The new PIN you type on the card reader's keypad will be sent to the card.",
    keypad: (min, max) => "Type the new PIN on the card reader's keypad, twice: once, then again when the reader asks. " +
      (min === max ? min : min + " to " + max) + " digits.",
    keypadNote: "This window belongs to the nesbridge extension. Do not type your PIN here or on the site: type it on the card reader's keypad only.",
    keypadWaiting: "The card reader is waiting for the new PIN…",
    keypadCancel: "To cancel, press Cancel on the card reader's keypad. This window cannot stop the reader.",
    cancelledOnReader: "The new PIN entry was cancelled on the card reader; nothing was changed on the card.",
    timedOut: "Nothing was typed on the card reader in time; nothing was changed on the card.",
  } : {
    title: "nesbridge: Yeni PIN Kodu", heading: "Yeni PIN Kodu",
    unblock: "Kartınızın kilidi çözülecek ve buraya yazacağınız yeni PIN kodu karta yazılacak.",
    change: "Kartınızın PIN kodu buraya yazacağınız yeni PIN kodu ile değiştirilecek.",
    other: "Buraya yazacağınız yeni PIN kodu karta gönderilecek.",
    origin: "İsteyen site", reader: "Kart okuyucu", serial: "Kart seri numarası (sitenin bildirdiği)",
    pin: "Yeni PIN Kodu", confirm: "Yeni PIN Kodu (tekrar)", ok: "Tamam", cancel: "Vazgeç",
    rules: (min, max) => (min === max ? min : min + "-" + max) + " haneli, yalnızca rakam.",
    note: "Bu pencere nesbridge eklentisine aittir. PIN kodunuz siteye gönderilmez; yalnızca kartınıza gider.",
    empty: "Yeni PIN kodunu iki alana da giriniz.", format: (min, max) => "PIN " + (min === max ? min : min + "-" + max) + " haneli bir sayı olmalıdır.",
    mismatch: "Girilen PIN kodları aynı değil.", sending: "Yeni PIN karta gönderiliyor…",
    done: "Tamamlandı: kartınızın yeni PIN kodu yazıldı. Bu pencere kendiliğinden kapanır.",
    failed: "İşlem tamamlanamadı", notCompleted: "Kart işlemi reddetti.",
    removed: "Kart işlem sırasında çıkarıldı.",
    closedEarly: "Bu pencere artık kullanılmıyor; kapatabilirsiniz.",
    keypadUnblock: "Kartınızın kilidi çözülecek ve kart okuyucunun tuş takımında yazacağınız yeni PIN kodu karta yazılacak.",
    keypadChangeAction: "Kartınızın PIN kodu, kart okuyucunun tuş takımında yazacağınız yeni PIN kodu ile değiştirilecek.",
    keypadOther: "Kart okuyucunun tuş takımında yazacağınız yeni PIN kodu karta gönderilecek.",
    keypad: (min, max) => "Yeni PIN kodunuzu kart okuyucunun tuş takımında iki kez yazınız: önce bir kez, okuyucu sorduğunda bir kez daha. " +
      (min === max ? min : min + "-" + max) + " haneli.",
    keypadNote: "Bu pencere nesbridge eklentisine aittir. PIN kodunuzu bu pencereye ya da siteye yazmayınız: yalnızca kart okuyucunun tuş takımına yazınız.",
    keypadWaiting: "Kart okuyucu yeni PIN kodunu bekliyor…",
    keypadCancel: "Vazgeçmek için kart okuyucunun tuş takımındaki iptal tuşuna basınız. Bu pencere okuyucuyu durduramaz.",
    cancelledOnReader: "Yeni PIN girişi kart okuyucuda iptal edildi; kartta bir değişiklik yapılmadı.",
    timedOut: "Kart okuyucuda zamanında bir şey yazılmadı; kartta bir değişiklik yapılmadı.",
  };

  const $ = (id) => document.getElementById(id);
  const pin = $("pin"), confirm = $("confirm"), ok = $("ok"), status = $("status");
  document.documentElement.lang = english ? "en" : "tr";
  document.title = TEXT.title;
  $("heading").textContent = TEXT.heading;
  $("origin-label").textContent = TEXT.origin;
  $("reader-label").textContent = TEXT.reader;
  $("serial-label").textContent = TEXT.serial;
  $("pin-label").textContent = TEXT.pin;
  $("confirm-label").textContent = TEXT.confirm;
  $("ok").textContent = TEXT.ok;
  $("cancel").textContent = TEXT.cancel;
  $("note").textContent = TEXT.note;

  function say(text, good) {
    status.className = good ? "ok" : "";
    status.textContent = text;
  }

  function lock() {
    pin.disabled = confirm.disabled = ok.disabled = true;
  }

  /* Only as the top page of the window the background opened, with the
   * token of that window's URL; anywhere else this page stays inert. */
  const token = window.location.hash.slice(1);
  if (window.top !== window || !/^[0-9a-f]{48}$/.test(token)) {
    lock();
    say(TEXT.closedEarly, false);
    return;
  }

  let rules = null;
  let phase = "waiting"; /* waiting -> asking -> sent -> ended; keypad: waiting -> keypad -> ended */
  const port = chrome.runtime.connect({ name: "nesbridge-pin:" + token });

  function cancel() {
    if (phase === "keypad") {
      /* The reader holds the entry: only its own Cancel key ends it. */
      say(TEXT.keypadCancel, false);
      return;
    }
    if (phase !== "asking" && phase !== "waiting") return;
    phase = "ended";
    pin.value = confirm.value = "";
    lock();
    port.postMessage({ type: "cancel" });
  }

  function problem() {
    if (pin.value === "" || confirm.value === "") return { text: TEXT.empty, field: pin.value === "" ? pin : confirm };
    if (!new RegExp("^[0-9]{" + rules.min + "," + rules.max + "}$").test(pin.value)) {
      return { text: TEXT.format(rules.min, rules.max), field: pin };
    }
    if (pin.value !== confirm.value) return { text: TEXT.mismatch, field: confirm };
    return null;
  }

  $("pin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (phase !== "asking") return;
    const why = problem();
    pin.removeAttribute("aria-invalid");
    confirm.removeAttribute("aria-invalid");
    if (why) {
      why.field.setAttribute("aria-invalid", "true");
      say(why.text, false);
      why.field.focus();
      return;
    }
    phase = "sent";
    port.postMessage({ type: "pin", pin: pin.value, confirm: confirm.value });
    pin.value = confirm.value = "";
    lock();
    say(TEXT.sending, true);
  });
  $("cancel").addEventListener("click", cancel);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    }
  });

  /* A pinpad: no field at all, what to do on the reader instead. */
  function showKeypad(message) {
    $("fields").remove();
    ok.remove();
    $("action").textContent = { unblock: TEXT.keypadUnblock, change: TEXT.keypadChangeAction }[message.action] ||
      TEXT.keypadOther;
    const keypad = $("keypad");
    keypad.textContent = TEXT.keypad(message.min, message.max);
    keypad.hidden = false;
    $("note").textContent = TEXT.keypadNote;
    phase = "keypad";
    keypad.focus();
    say(TEXT.keypadWaiting, true);
  }

  port.onMessage.addListener((message) => {
    if (message.type === "show" && phase === "waiting" && message.keypad === true) {
      $("origin").textContent = message.origin;
      $("reader").textContent = message.reader || "–";
      $("serial").textContent = message.serial || "–";
      showKeypad(message);
    } else if (message.type === "show" && phase === "waiting") {
      rules = { min: message.min, max: message.max };
      $("action").textContent = TEXT[message.action] || TEXT.other;
      $("origin").textContent = message.origin;
      $("reader").textContent = message.reader || "–";
      $("serial").textContent = message.serial || "–";
      $("rules").textContent = TEXT.rules(rules.min, rules.max);
      pin.maxLength = confirm.maxLength = rules.max;
      pin.disabled = confirm.disabled = ok.disabled = false;
      phase = "asking";
      pin.focus();
    } else if (message.type === "done") {
      phase = "ended";
      lock();
      if (message.done) say(TEXT.done, true);
      else if (message.code === "not-completed") say(TEXT.notCompleted, false);
      else if (message.code === "removed-card") say(TEXT.removed, false);
      else if (message.code === "pin-cancelled") say(TEXT.cancelledOnReader, false);
      else if (message.code === "pin-timeout") say(TEXT.timedOut, false);
      else say(TEXT.failed + " (" + message.code + ").", false);
    }
  });
  port.onDisconnect.addListener(() => {
    if (phase === "ended") return;
    phase = "ended";
    pin.value = confirm.value = "";
    lock();
    say(TEXT.closedEarly, false);
  });
})();
