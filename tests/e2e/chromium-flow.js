/* SPDX-License-Identifier: Apache-2.0 */
/* The seed's unlock flow, step by step, in Chromium (playwright-core):
 * Ana sayfa -> Online İşlemler -> NES İşlemleri -> Şifreli Giriş -> SMS
 * Onay -> SMS code -> İşlemler -> Kilit Çözme -> Yeni PIN Üret -> the new
 * PIN in the extension's window -> success. */
"use strict";

const { captchaText, H } = require("./stack");

const TC = "10000000146";
/* The demo holder whose card is the pinpad reader's (site/seed.js). */
const PINPAD_TC = "10000000214";
const PINPAD_READER = "nesbridge Pinpad Reader 00 00";
const WORD = "guvenli-sozcuk";

function makeSteps(page, { onStep, shots }) {
  let n = 0;
  const t0 = Date.now();
  /* shown: the page to photograph, when not the site's (the PIN window). */
  return async function step(name, fn, shown) {
    const started = Date.now();
    await fn();
    n++;
    const file = shots ? `${shots}/${String(n).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-")}.png` : null;
    if (file) await (shown ? shown() : page).screenshot({ path: file, fullPage: true });
    if (onStep) onStep({ n, name, ms: Date.now() - started, total: Date.now() - t0, file });
  };
}

async function login(page, origin, step, opts) {
  const o = opts || {};
  await step("ana-sayfa", async () => { await page.goto(origin + "/"); });
  await step("online-islemler", async () => { await page.click("text=Online İşlemler"); });
  await step("kullanici-dogrulama", async () => { await page.click("text=Nitelikli Elektronik Sertifika İşlemleri"); });
  await step("sifreli-giris", async () => {
    await page.click("#sifreli");
    const svg = await page.evaluate(async () => (await fetch(document.getElementById("captcha").src)).text());
    await page.fill("input[name=id]", o.tc || TC);
    await page.fill("input[name=captcha]", o.badCaptcha ? "zzzzz" : captchaText(svg));
    await page.fill("input[name=word]", WORD);
  });
  await step("sms-onay", async () => { await page.click("#login button[type=submit]:not(#forgot)"); await page.waitForSelector("#approve"); });
  await step("sms-kodu", async () => { await page.click("#approve button"); await page.waitForSelector("#countdown"); });
  const code = await smsCode(page, origin);
  if (o.beforeCode) await o.beforeCode();
  await step("sms-kodu-girildi", async () => {
    await page.fill("input[name=code]", o.wrongCode ? String((Number(code) + 1) % 1000000).padStart(6, "0") : code);
    await page.click("#code button");
  });
}

async function smsCode(page, origin) {
  const outbox = await page.context().newPage();
  await outbox.goto(origin + "/demo/sms");
  const code = await outbox.textContent("#outbox li:first-child .sms-code");
  await outbox.close();
  return code.trim();
}

/* Presses "Yeni PIN Üret" and returns the extension's PIN window, loaded:
 * a popup window of the extension, a page of the context, not of the tab. */
async function pressForPinWindow(page) {
  const opened = page.context().waitForEvent("page", { timeout: 20000 });
  await page.click("#make-pin");
  const popup = await opened;
  await popup.waitForFunction(() => document.getElementById("pin") !== null &&
    !document.getElementById("pin").disabled, null, { timeout: 20000 });
  return popup;
}

/* What the PIN window shows, for the tests. */
function readPinWindow(popup) {
  return popup.evaluate(() => ({ url: location.href, lang: document.documentElement.lang,
    heading: document.getElementById("heading").textContent, action: document.getElementById("action").textContent,
    origin: document.getElementById("origin").textContent, reader: document.getElementById("reader").textContent,
    serial: document.getElementById("serial").textContent, focused: document.activeElement.id }));
}

/* Types the PIN twice with the keyboard (focus starts in the first
 * field) and submits with Enter. */
async function typePin(popup, pin, confirm) {
  await popup.keyboard.type(pin);
  await popup.keyboard.press("Tab");
  await popup.keyboard.type(confirm || pin);
  await popup.keyboard.press("Enter");
}

function waitResult(page) {
  return page.waitForFunction(() => document.getElementById("result").textContent !== "", null, { timeout: 20000 });
}

/* Several AKİS cards (the test set-up may hold more than one): the site
 * asks which; the holder picks reader's (default: the first virtual
 * reader's). Resolves, once the button is ready, with the choices offered
 * (null when the site did not ask). */
async function pickCard(page, reader) {
  const asked = await page.waitForFunction(() => {
    const chooser = document.getElementById("chooser");
    if (chooser && !chooser.hidden && document.querySelector("#choices button")) return "asked";
    return !document.getElementById("make-pin").disabled ? "ready" : false;
  }, null, { timeout: 15000 });
  let choices = null;
  if (await asked.jsonValue() === "asked") {
    choices = await page.$$eval("#choices button", (list) => list.map((b) => b.textContent));
    await page.click("#choices button[data-reader=" + JSON.stringify(reader || DEFAULT_READER) + "]");
    await page.waitForFunction(() => !document.getElementById("make-pin").disabled, null, { timeout: 15000 });
  }
  return choices;
}

/* From the services menu: open Kilit Çözme, press the button, type the
 * new PIN in the extension's window. */
async function unlock(page, step, pin, opts) {
  const o = opts || {};
  await step("islemler-menusu", async () => { await page.waitForSelector("#kilit"); });
  let choices = null;
  await step("kilit-cozme", async () => {
    await page.click("#kilit");
    choices = await pickCard(page, o.choose);
  });
  const before = await readCard(page);
  if (o.beforePress) await o.beforePress();
  let popup = null;
  await step("yeni-pin-uret", async () => { popup = await pressForPinWindow(page); }, () => popup);
  const pinWindow = await readPinWindow(popup);
  if (o.onWindow) await o.onWindow(popup);
  let enteredAt = 0;
  await step("yeni-pin-kodu", async () => {
    await popup.keyboard.type(pin);
    await popup.keyboard.press("Tab");
    await popup.keyboard.type(o.confirm || pin);
  }, () => popup);
  await step("kart-pin-degisti", async () => {
    enteredAt = Date.now();
    await popup.keyboard.press("Enter");
    await waitResult(page);
  });
  const result = await page.evaluate(() => ({ text: document.getElementById("result").textContent,
    ok: document.getElementById("result").className === "ok", disabled: document.getElementById("make-pin").disabled,
    tries: document.getElementById("tries").textContent, serial: document.getElementById("serial").textContent,
    frames: window.frames.length, ms: window.__nbUnlockMs }));
  result.sinceEnterMs = Date.now() - enteredAt;
  result.pinWindow = pinWindow;
  result.choices = choices;
  result.before = before;
  return result;
}

/* What the Kilit Çözme page shows of the card, and (test mode) every APDU
 * it sent. */
function readCard(page) {
  return page.evaluate(() => ({ reader: document.getElementById("reader").textContent,
    serial: document.getElementById("serial").textContent, tries: document.getElementById("tries").textContent,
    hint: document.getElementById("pin-hint").textContent, apdus: (window.__nbApdus || []).slice() }));
}

/* The extension's window for a pinpad reader: no field, what to do on the
 * reader's keypad. */
const KEYPAD_SHOWN = () => document.getElementById("keypad") !== null && !document.getElementById("keypad").hidden;
function readKeypadWindow(popup) {
  return popup.evaluate(() => ({ url: location.href, lang: document.documentElement.lang,
    inputs: document.querySelectorAll("input, textarea, select").length,
    keypad: document.getElementById("keypad").textContent, action: document.getElementById("action").textContent,
    origin: document.getElementById("origin").textContent, reader: document.getElementById("reader").textContent,
    serial: document.getElementById("serial").textContent, focused: document.activeElement.id }));
}

/* With a pinpad reader chosen (or opts.choose): "Yeni PIN Üret", the
 * extension's keypad window (opts.onWindow(popup) while it shows), then
 * the holder on the reader's keypad (command: "keypad DIGITS", "keypad
 * cancel", "keypad timeout"), then what the site says once it is idle.
 * opts.again: already on Kilit Çözme. */
async function unlockOnKeypad(page, command, opts) {
  const o = opts || {};
  let choices = null;
  if (!o.again) {
    await page.click("#kilit");
    choices = await pickCard(page, o.choose);
  }
  await page.waitForFunction(() => !document.getElementById("make-pin").disabled, null, { timeout: 15000 });
  const before = await readCard(page);
  const opened = page.context().waitForEvent("page", { timeout: 20000 });
  await page.click("#make-pin");
  const popup = await opened;
  await popup.waitForFunction(KEYPAD_SHOWN, null, { timeout: 20000 });
  const pinWindow = await readKeypadWindow(popup);
  if (o.onWindow) await o.onWindow(popup);
  const status = await page.textContent("#status");
  await H.typeOnKeypad(command);
  await waitResult(page);
  await page.waitForFunction(() => window.__nbBusy === false, null, { timeout: 20000 });
  const result = await page.evaluate(() => ({ text: document.getElementById("result").textContent,
    ok: document.getElementById("result").className === "ok", disabled: document.getElementById("make-pin").disabled,
    tries: document.getElementById("tries").textContent }));
  return Object.assign(result, { before, pinWindow, status, choices });
}

const DEFAULT_READER = "nesbridge Virtual Reader 00 00";

module.exports = { pickCard, login, unlock, unlockOnKeypad, readCard, makeSteps, smsCode, pressForPinWindow, readPinWindow,
  typePin, waitResult, TC, WORD, PINPAD_TC, PINPAD_READER };
