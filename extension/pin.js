/* The extension's own PIN field, embedded by the page as an iframe. The
 * page cannot read it (another origin); the background collects the PIN
 * from here when the page runs a signed script that asks for one. */
"use strict";

(function () {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get("t") || "";
  const min = Number(params.get("min")) || 6;
  const max = Number(params.get("max")) || 8;
  const english = params.get("lang") === "en";
  const text = english ? {
    pin: "New PIN", confirm: "New PIN (again)",
    note: "This field belongs to the nesbridge extension; your PIN is not sent to the site.",
    empty: "Type the new PIN twice.", digits: "The PIN must have " + min + " to " + max + " digits.",
    mismatch: "The two PINs differ.", done: "PIN sent to the card.", failed: "The card did not accept the PIN.",
  } : {
    pin: "Yeni PIN Kodu", confirm: "Yeni PIN Kodu (tekrar)",
    note: "Bu alan nesbridge eklentisine aittir; PIN'iniz siteye gönderilmez.",
    empty: "Yeni PIN kodunu iki kez giriniz.", digits: "PIN " + min + "-" + max + " haneli bir sayı olmalıdır.",
    mismatch: "Girilen PIN kodları aynı değil.", done: "PIN karta gönderildi.", failed: "Kart PIN kodunu kabul etmedi.",
  };
  document.documentElement.lang = english ? "en" : "tr";
  document.getElementById("pin-label").textContent = text.pin;
  document.getElementById("confirm-label").textContent = text.confirm;
  document.getElementById("note").textContent = text.note;
  const pin = document.getElementById("pin");
  const confirm = document.getElementById("confirm");
  const status = document.getElementById("status");
  document.getElementById("pin-form").addEventListener("submit", (e) => e.preventDefault());

  function problem() {
    if (pin.value === "" || confirm.value === "") return text.empty;
    const digits = new RegExp("^[0-9]{" + min + "," + max + "}$");
    if (!digits.test(pin.value)) return text.digits;
    if (pin.value !== confirm.value) return text.mismatch;
    return null;
  }

  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return;
  const port = chrome.runtime.connect({ name: "nesbridge-pin:" + token });
  port.onMessage.addListener((message) => {
    if (message.type === "collect") {
      const why = problem();
      status.className = "";
      status.textContent = why || "";
      if (why) {
        port.postMessage({ type: "pin-invalid" });
        return;
      }
      port.postMessage({ type: "pin", pin: pin.value, confirm: confirm.value });
      pin.value = confirm.value = "";
    } else if (message.type === "done") {
      status.className = message.ok ? "ok" : "";
      status.textContent = message.ok ? text.done : text.failed;
      /* After success the field is done; after a failure it takes a retry. */
      pin.disabled = confirm.disabled = message.ok === true;
    }
  });
})();
