/* SPDX-License-Identifier: Apache-2.0 */
/* The same holder's actions in either browser: Chromium through
 * playwright-core, Firefox ESR through Marionette. */
"use strict";

const { H } = require("./stack");
const C = require("./chromium-flow");
const FF = require("./firefox-flow");
const M = require("./marionette");
const AXE = require("../browser/axe");

const NEW_PIN = "24681357";

let nextPort = 28300;

async function chromium(stack) {
  const browser = await H.launchChromium(stack.ext.dir, { withHost: true, env: stack.env, lang: "tr-TR" });
  const page = await browser.newPage();
  const step = C.makeSteps(page, {});
  return {
    name: "chromium",
    login: (opts) => C.login(page, stack.origin, step, opts),
    unlock: (pin, opts) => C.unlock(page, step, pin, opts),
    unlockOnKeypad: (command, opts) => C.unlockOnKeypad(page, command, opts),
    message: () => page.textContent(".msg"),
    /* Every page of the flow, and the PIN window, through axe-core (WCAG
     * 2.1 A and AA): [{name, path, violations}]. */
    async accessibility() {
      const found = [];
      const check = async (name, target) => {
        const p = target || page;
        await p.waitForLoadState("load");
        found.push({ name, path: new URL(p.url()).pathname, violations: await AXE.chromium(p) });
      };
      await C.login(page, stack.origin, async (name, fn) => { await fn(); await check(name); }, {});
      await page.click("#kilit");
      await page.waitForFunction(() => !document.getElementById("chooser").hidden &&
        document.querySelector("#choices button") !== null, null, { timeout: 15000 });
      await check("kilit-cozme: kart secimi");
      await C.pickCard(page);
      await check("kilit-cozme: kart bulundu");
      const popup = await C.pressForPinWindow(page);
      await check("pin-penceresi", popup);
      await C.typePin(popup, NEW_PIN);
      await C.waitResult(page);
      await page.waitForFunction(() => window.__nbBusy === false, null, { timeout: 20000 });
      await check("kilit-cozme: basarili");
      await page.goto(stack.origin + "/nes/sifreli?m=expired");
      await check("sifreli-giris: hata");
      await page.goto(stack.origin + "/demo/sms");
      await check("demo-sms");
      return found;
    },
    url: async () => page.url(),
    async retry(pin) {
      await page.waitForFunction(() => !document.getElementById("make-pin").disabled, null, { timeout: 15000 });
      await C.typePin(await C.pressForPinWindow(page), pin);
      await C.waitResult(page);
      return page.textContent("#result");
    },
    /* Kilit Çözme, "Yeni PIN Üret", then Escape in the PIN window. */
    async cancelPin() {
      await page.click("#kilit");
      await C.pickCard(page);
      const popup = await C.pressForPinWindow(page);
      const closed = popup.waitForEvent("close", { timeout: 15000 });
      await popup.keyboard.press("Escape").catch(() => {}); /* the window may close before the press returns */
      await closed;
      await C.waitResult(page);
      return page.evaluate(() => ({ text: document.getElementById("result").textContent,
        disabled: document.getElementById("make-pin").disabled }));
    },
    replay: () => page.evaluate(async () => {
      const last = window.__nbLastSigned;
      return NesBridge.runScript(last.handle, last.signed).then(() => "ran", (e) => e.code);
    }),
    close: () => browser.close(),
  };
}

async function firefox(stack) {
  const ff = await M.launchFirefox(stack.ext.xpi, { env: stack.env, port: nextPort++,
    prefs: { "intl.accept_languages": "tr-TR, tr" } });
  return {
    name: "firefox",
    login: (opts) => FF.login(ff, stack.origin, opts),
    unlock: (pin, opts) => FF.unlock(ff, pin, opts),
    unlockOnKeypad: (command, opts) => FF.unlockOnKeypad(ff, command, opts),
    message: () => ff.text(".msg"),
    async accessibility() {
      const found = [];
      const check = async (name) => {
        const url = await ff.url();
        found.push({ name, path: url.startsWith("moz-extension:") ? "pin.html" : new URL(url).pathname,
          violations: await AXE.firefox(ff) });
      };
      await FF.login(ff, stack.origin, { onPage: check });
      await ff.click("#kilit");
      await ff.waitFor("!document.getElementById('chooser').hidden && document.querySelector('#choices button') !== null");
      await check("kilit-cozme: kart secimi");
      await FF.pickCard(ff);
      await check("kilit-cozme: kart bulundu");
      await FF.pressAndTypePin(ff, NEW_PIN, () => check("pin-penceresi"));
      await ff.waitFor("document.getElementById('result').textContent !== '' && window.__nbBusy === false", 20000);
      await check("kilit-cozme: basarili");
      await ff.goto(stack.origin + "/nes/sifreli?m=expired");
      await check("sifreli-giris: hata");
      await ff.goto(stack.origin + "/demo/sms");
      await check("demo-sms");
      return found;
    },
    url: () => ff.url(),
    async retry(pin) {
      await ff.waitFor("!document.getElementById('make-pin').disabled");
      await FF.pressAndTypePin(ff, pin);
      await ff.waitFor("document.getElementById('result').textContent !== ''", 20000);
      return ff.text("#result");
    },
    async cancelPin() {
      await ff.click("#kilit");
      await FF.pickCard(ff);
      const main = await ff.handle();
      const known = await ff.handles();
      await ff.click("#make-pin");
      const popup = await ff.intoNewWindow(known, "moz-extension://", 20000);
      await ff.waitFor("document.getElementById('pin') !== null && !document.getElementById('pin').disabled");
      await ff.keys("#pin", "\uE00C"); /* Escape */
      await ff.waitGone(popup);
      await ff.switchTo(main);
      await ff.waitFor("document.getElementById('result').textContent !== ''", 20000);
      return ff.evaluate("return { text: document.getElementById('result').textContent, " +
        "disabled: document.getElementById('make-pin').disabled };");
    },
    replay: () => ff.evaluate("const last = window.__nbLastSigned;" +
      "return await NesBridge.runScript(last.handle, last.signed).then(() => 'ran', (e) => e.code);"),
    close: () => ff.close(),
  };
}

module.exports = { chromium, firefox };
