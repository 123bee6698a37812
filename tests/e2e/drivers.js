/* SPDX-License-Identifier: Apache-2.0 */
/* The same holder's actions in either browser: Chromium through
 * playwright-core, Firefox ESR through Marionette. */
"use strict";

const { H } = require("./stack");
const C = require("./chromium-flow");
const FF = require("./firefox-flow");
const M = require("./marionette");

let nextPort = 28300;

async function chromium(stack) {
  const browser = await H.launchChromium(stack.ext.dir, { withHost: true, env: stack.env, lang: "tr-TR" });
  const page = await browser.newPage();
  const step = C.makeSteps(page, {});
  return {
    name: "chromium",
    login: (opts) => C.login(page, stack.origin, step, opts),
    unlock: (pin, opts) => C.unlock(page, step, pin, opts),
    message: () => page.textContent(".msg"),
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
    message: () => ff.text(".msg"),
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
