/* SPDX-License-Identifier: Apache-2.0 */
/* The seed's unlock flow in Firefox ESR, driven over Marionette; the same
 * steps as chromium-flow.js. */
"use strict";

const { captchaText, H } = require("./stack");
const { TC, WORD } = require("./chromium-flow");

/* opts.onPage(name), when given, runs on each page of the way (the
 * accessibility walk); opts.tc another demo holder. */
async function login(ff, origin, opts) {
  const o = opts || {};
  const onPage = o.onPage || (async () => {});
  await ff.goto(origin + "/");
  await onPage("ana-sayfa");
  await ff.click("nav a[href='/online']");
  await onPage("online-islemler");
  await ff.click("nav a[href='/nes']");
  await onPage("kullanici-dogrulama");
  await ff.click("#sifreli");
  const svg = await ff.evaluate("return await (await fetch(document.getElementById('captcha').src)).text();");
  await ff.fill("input[name=id]", o.tc || TC);
  await ff.fill("input[name=captcha]", captchaText(svg));
  await ff.fill("input[name=word]", WORD);
  await onPage("sifreli-giris");
  await ff.click("#login button[type=submit]:not(#forgot)");
  await onPage("sms-onay");
  await ff.click("#approve button");
  await onPage("sms-kodu");
  const code = await ff.evaluate("const html = await (await fetch('/demo/sms')).text();" +
    "return html.match(/class=\"sms-code\">([0-9]{6})</)[1];");
  if (o.beforeCode) await o.beforeCode();
  await ff.fill("input[name=code]", o.wrongCode ? String((Number(code) + 1) % 1000000).padStart(6, "0") : code);
  await ff.click("#code button");
  await onPage("islemler");
}

/* Several AKİS cards (the test set-up may hold more than one): the site
 * asks which; the holder picks reader's (default: the first virtual
 * reader's). Resolves, once the button is ready, with the choices offered
 * (null when the site did not ask). */
async function pickCard(ff, reader) {
  const asked = "(!document.getElementById('chooser').hidden && document.querySelector('#choices button') !== null)";
  await ff.waitFor(asked + " || !document.getElementById('make-pin').disabled");
  let choices = null;
  if (await ff.evaluate("return " + asked + ";")) {
    choices = await ff.evaluate("return Array.from(document.querySelectorAll('#choices button'), (b) => b.textContent);");
    await ff.click("#choices button[data-reader=" + JSON.stringify(reader || "nesbridge Virtual Reader 00 00") + "]");
  }
  await ff.waitFor("!document.getElementById('make-pin').disabled");
  return choices;
}

async function unlock(ff, pin, opts) {
  const o = opts || {};
  await ff.click("#kilit");
  const choices = await pickCard(ff, o.choose);
  const before = await readCard(ff);
  if (o.beforePress) await o.beforePress();
  const pinWindow = await pressAndTypePin(ff, pin, o.onWindow);
  await ff.waitFor("document.getElementById('result').textContent !== ''", 20000);
  const result = await ff.evaluate("return { text: document.getElementById('result').textContent, " +
    "ok: document.getElementById('result').className === 'ok', disabled: document.getElementById('make-pin').disabled, " +
    "frames: window.frames.length };");
  result.pinWindow = pinWindow;
  result.choices = choices;
  result.before = before;
  return result;
}

/* What the Kilit Çözme page shows of the card, and (test mode) every APDU
 * it sent. */
function readCard(ff) {
  return ff.evaluate("return { reader: document.getElementById('reader').textContent, " +
    "serial: document.getElementById('serial').textContent, tries: document.getElementById('tries').textContent, " +
    "hint: document.getElementById('pin-hint').textContent, apdus: (window.__nbApdus || []).slice() };");
}

const KEYPAD_SHOWN = "document.getElementById('keypad') !== null && !document.getElementById('keypad').hidden";

/* As chromium-flow.js's unlockOnKeypad: the keypad window (a new window
 * handle), the holder on the reader's keypad, what the site says. */
async function unlockOnKeypad(ff, command, opts) {
  const o = opts || {};
  let choices = null;
  if (!o.again) {
    await ff.click("#kilit");
    choices = await pickCard(ff, o.choose);
  }
  await ff.waitFor("!document.getElementById('make-pin').disabled");
  const before = await readCard(ff);
  const main = await ff.handle();
  const known = await ff.handles();
  await ff.click("#make-pin");
  await ff.intoNewWindow(known, "moz-extension://", 20000);
  await ff.waitFor(KEYPAD_SHOWN);
  const pinWindow = await ff.evaluate("return { url: location.href, lang: document.documentElement.lang, " +
    "inputs: document.querySelectorAll('input, textarea, select').length, " +
    "keypad: document.getElementById('keypad').textContent, action: document.getElementById('action').textContent, " +
    "origin: document.getElementById('origin').textContent, reader: document.getElementById('reader').textContent, " +
    "serial: document.getElementById('serial').textContent, focused: document.activeElement.id };");
  if (o.onWindow) await o.onWindow();
  await ff.switchTo(main);
  const status = await ff.text("#status");
  await H.typeOnKeypad(command);
  await ff.waitFor("document.getElementById('result').textContent !== '' && window.__nbBusy === false", 20000);
  const result = await ff.evaluate("return { text: document.getElementById('result').textContent, " +
    "ok: document.getElementById('result').className === 'ok', disabled: document.getElementById('make-pin').disabled, " +
    "tries: document.getElementById('tries').textContent };");
  return Object.assign(result, { before, pinWindow, status, choices });
}

/* Presses "Yeni PIN Üret", switches to the extension's PIN window (a new
 * window handle at a moz-extension: address), types the PIN twice, Enter,
 * and comes back to the site's window. Returns what the window showed. */
async function pressAndTypePin(ff, pin, onWindow) {
  const main = await ff.handle();
  const known = await ff.handles();
  await ff.click("#make-pin");
  await ff.intoNewWindow(known, "moz-extension://", 20000);
  await ff.waitFor("document.getElementById('pin') !== null && !document.getElementById('pin').disabled");
  const shown = await ff.evaluate("return { url: location.href, lang: document.documentElement.lang, " +
    "heading: document.getElementById('heading').textContent, action: document.getElementById('action').textContent, " +
    "origin: document.getElementById('origin').textContent, reader: document.getElementById('reader').textContent, " +
    "serial: document.getElementById('serial').textContent, focused: document.activeElement.id };");
  if (onWindow) await onWindow();
  await ff.keys("#pin", pin);
  await ff.keys("#confirm", pin + "\uE007"); /* Enter */
  await ff.switchTo(main);
  return shown;
}

module.exports = { login, unlock, unlockOnKeypad, readCard, pressAndTypePin, pickCard };
