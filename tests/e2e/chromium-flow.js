/* The seed's unlock flow, step by step, in Chromium (playwright-core):
 * Ana sayfa -> Online İşlemler -> NES İşlemleri -> Şifreli Giriş -> SMS
 * Onay -> SMS code -> İşlemler -> Kilit Çözme -> new PIN -> success. */
"use strict";

const { captchaText } = require("./stack");

const TC = "10000000146";
const WORD = "guvenli-sozcuk";

function makeSteps(page, { onStep, shots }) {
  let n = 0;
  const t0 = Date.now();
  return async function step(name, fn) {
    const started = Date.now();
    await fn();
    n++;
    const file = shots ? `${shots}/${String(n).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-")}.png` : null;
    if (file) await page.screenshot({ path: file, fullPage: true });
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
    await page.fill("input[name=id]", TC);
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

/* From the services menu: open Kilit Çözme, type the PIN, press the button. */
async function unlock(page, step, pin, opts) {
  const o = opts || {};
  await step("islemler-menusu", async () => { await page.waitForSelector("#kilit"); });
  await step("kilit-cozme", async () => {
    await page.click("#kilit");
    await page.waitForFunction(() => !document.getElementById("make-pin").disabled, null, { timeout: 15000 });
  });
  const frame = page.frames().find((f) => /^chrome-extension:\/\/[a-p]{32}\/pin\.html/.test(f.url()));
  await step("yeni-pin-kodu", async () => {
    await frame.fill("#pin", pin);
    await frame.fill("#confirm", o.confirm || pin);
  });
  if (o.beforePress) await o.beforePress();
  let pressedAt = 0;
  await step("yeni-pin-uret", async () => {
    pressedAt = Date.now();
    await page.click("#make-pin");
    await page.waitForFunction(() => document.getElementById("result").textContent !== "", null, { timeout: 20000 });
  });
  const result = await page.evaluate(() => ({ text: document.getElementById("result").textContent,
    ok: document.getElementById("result").className === "ok", disabled: document.getElementById("make-pin").disabled,
    tries: document.getElementById("tries").textContent, serial: document.getElementById("serial").textContent,
    ms: window.__nbUnlockMs }));
  result.sinceClickMs = Date.now() - pressedAt;
  return result;
}

module.exports = { login, unlock, makeSteps, smsCode, TC, WORD };
