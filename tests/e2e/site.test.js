/* SPDX-License-Identifier: Apache-2.0 */
/* The demo site's own defences, over HTTP: headers, CSRF, captcha, the ID
 * checksum, login rate limit, session gates, language toggle. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { startStack, captchaText, H } = require("./stack");

let stack;
before(async () => {
  stack = await startStack({ port: 8453, dataDir: path.join(H.BUILD, "e2e-site-http"), test: true });
});
after(() => stack.stop());

/* A tiny cookie-keeping client. */
function client() {
  let cookie = "";
  const go = async (p, opts) => {
    const r = await fetch(stack.origin + p, Object.assign({ redirect: "manual", headers: { cookie } }, opts || {}));
    const set = r.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    return r;
  };
  return {
    get: (p) => go(p),
    post: (p, fields) => go(p, { method: "POST", body: new URLSearchParams(fields).toString(),
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" } }),
    async csrf(p) {
      const html = await (await go(p)).text();
      return (html.match(/name="csrf" value="([0-9a-f]+)"/) || [])[1];
    },
  };
}

async function loginAttempt(c, id, word, goodCaptcha) {
  const csrf = await c.csrf("/nes/sifreli");
  const captcha = captchaText(await (await c.get("/captcha.svg")).text());
  await c.post("/nes/sifreli", { csrf, id, word, captcha: goodCaptcha === false ? "zzzzz" : captcha });
  return (await (await c.get("/nes/sifreli")).text()).match(/role="alert">([^<]*)</)?.[1];
}

test("every page carries a strict CSP and an HttpOnly SameSite cookie", async () => {
  const r = await fetch(stack.origin + "/nes/sifreli");
  assert.match(r.headers.get("content-security-policy"), /default-src 'none'; script-src 'self'/);
  assert.doesNotMatch(r.headers.get("content-security-policy"), /unsafe-inline/);
  assert.match(r.headers.get("set-cookie"), /HttpOnly; SameSite=Strict/);
  assert.strictEqual(r.headers.get("x-content-type-options"), "nosniff");
});

test("forms without the CSRF token are refused", async () => {
  const c = client();
  await c.get("/nes/sifreli");
  const r = await c.post("/nes/sifreli", { id: "10000000146", word: "guvenli-sozcuk", captcha: "x" });
  assert.strictEqual(r.status, 403);
  const api = await fetch(stack.origin + "/api/unlock/prepare", { method: "POST", body: "{}",
    headers: { "content-type": "application/json" } });
  assert.strictEqual(api.status, 403);
});

test("captcha, ID checksum and security word are checked", async () => {
  const c = client();
  assert.strictEqual(await loginAttempt(c, "10000000146", "guvenli-sozcuk", false), "Resimdeki yazı hatalı girildi.");
  /* A bad check digit; then a valid number nobody holds. */
  assert.strictEqual(await loginAttempt(c, "10000000147", "guvenli-sozcuk"), "Geçerli bir T.C. Kimlik Numarası ya da Pasaport Numarası giriniz.");
  assert.strictEqual(await loginAttempt(c, "10000000078", "guvenli-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
  assert.strictEqual(await loginAttempt(c, "12345", "guvenli-sozcuk"), "Geçerli bir T.C. Kimlik Numarası ya da Pasaport Numarası giriniz.");
  assert.strictEqual(await loginAttempt(c, "10000000146", "kisa"), "Güvenlik Sözcüğü en az 8 karakter olmalıdır.");
});

test("the SMS and unlock pages need the earlier steps", async () => {
  const c = client();
  for (const p of ["/nes/sms-onay", "/nes/sms-kod", "/nes/islemler", "/nes/kilit-cozme"]) {
    const r = await c.get(p);
    assert.strictEqual(r.status, 303, p);
    assert.match(r.headers.get("location"), /\/nes\/sifreli/);
  }
});

test("five wrong logins lock the door for a while", async () => {
  const c = client();
  for (let i = 0; i < 5; i++) await loginAttempt(c, "10000000146", "yanlis-sozcuk");
  assert.strictEqual(await loginAttempt(c, "10000000146", "guvenli-sozcuk"),
    "Çok fazla hatalı deneme yapıldı. Lütfen 15 dakika sonra tekrar deneyiniz.");
  await stack.advanceClock(16 * 60);
  assert.strictEqual(await loginAttempt(c, "10000000146", "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
});

test("English on request", async () => {
  const c = client();
  await c.get("/");
  await c.get("/lang?to=en");
  const html = await (await c.get("/nes/sifreli")).text();
  assert.match(html, /Password login/);
  assert.match(html, /lang="en"/);
});
