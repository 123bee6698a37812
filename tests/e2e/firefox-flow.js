/* The seed's unlock flow in Firefox ESR, driven over Marionette; the same
 * steps as chromium-flow.js. */
"use strict";

const { captchaText } = require("./stack");
const { TC, WORD } = require("./chromium-flow");

async function login(ff, origin, opts) {
  const o = opts || {};
  await ff.goto(origin + "/");
  await ff.click("nav a[href='/online']");
  await ff.click("nav a[href='/nes']");
  await ff.click("#sifreli");
  const svg = await ff.evaluate("return await (await fetch(document.getElementById('captcha').src)).text();");
  await ff.fill("input[name=id]", TC);
  await ff.fill("input[name=captcha]", captchaText(svg));
  await ff.fill("input[name=word]", WORD);
  await ff.click("#login button[type=submit]:not(#forgot)");
  await ff.click("#approve button");
  const code = await ff.evaluate("const html = await (await fetch('/demo/sms')).text();" +
    "return html.match(/class=\"sms-code\">([0-9]{6})</)[1];");
  if (o.beforeCode) await o.beforeCode();
  await ff.fill("input[name=code]", o.wrongCode ? String((Number(code) + 1) % 1000000).padStart(6, "0") : code);
  await ff.click("#code button");
}

async function unlock(ff, pin, opts) {
  const o = opts || {};
  await ff.click("#kilit");
  await ff.waitFor("!document.getElementById('make-pin').disabled");
  await typePin(ff, pin);
  if (o.beforePress) await o.beforePress();
  await ff.click("#make-pin");
  await ff.waitFor("document.getElementById('result').textContent !== ''", 20000);
  return ff.evaluate("return { text: document.getElementById('result').textContent, " +
    "ok: document.getElementById('result').className === 'ok', disabled: document.getElementById('make-pin').disabled };");
}

async function typePin(ff, pin) {
  await ff.intoFrame("iframe.nesbridge-pin");
  await ff.fill("#pin", pin);
  await ff.fill("#confirm", pin);
  await ff.outOfFrame();
}

module.exports = { login, unlock, typePin };
