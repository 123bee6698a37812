/* The same holder's actions in either browser: Chromium through
 * playwright-core, Firefox ESR through Marionette. */
"use strict";

const { H } = require("./stack");
const C = require("./chromium-flow");
const FF = require("./firefox-flow");
const M = require("./marionette");

let nextPort = 28300;

async function chromium(stack) {
  const browser = await H.launchChromium(stack.ext.dir, { withHost: true, env: stack.env });
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
      const frame = page.frames().find((f) => f.url().includes("/pin.html"));
      await frame.fill("#pin", pin);
      await frame.fill("#confirm", pin);
      await page.click("#make-pin");
      await page.waitForFunction(() => document.getElementById("result").textContent !== "", null, { timeout: 20000 });
      return page.textContent("#result");
    },
    replay: () => page.evaluate(async () => {
      const last = window.__nbLastSigned;
      return NesBridge.runScript(last.handle, last.signed).then(() => "ran", (e) => e.code);
    }),
    close: () => browser.close(),
  };
}

async function firefox(stack) {
  const ff = await M.launchFirefox(stack.ext.xpi, { env: stack.env, port: nextPort++ });
  return {
    name: "firefox",
    login: (opts) => FF.login(ff, stack.origin, opts),
    unlock: (pin, opts) => FF.unlock(ff, pin, opts),
    message: () => ff.text(".msg"),
    url: () => ff.url(),
    async retry(pin) {
      await ff.waitFor("!document.getElementById('make-pin').disabled");
      await FF.typePin(ff, pin);
      await ff.click("#make-pin");
      await ff.waitFor("document.getElementById('result').textContent !== ''", 20000);
      return ff.text("#result");
    },
    replay: () => ff.evaluate("const last = window.wrappedJSObject ? window.wrappedJSObject.__nbLastSigned : window.__nbLastSigned;" +
      "return await NesBridge.runScript(last.handle, last.signed).then(() => 'ran', (e) => e.code);"),
    close: () => ff.close(),
  };
}

module.exports = { chromium, firefox };
