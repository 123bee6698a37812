/* SPDX-License-Identifier: Apache-2.0 */
/* The demo site's own defences, over HTTP: headers, CSRF, captcha, the ID
 * checksum, login rate limits (per address and per account), session gates
 * and session ids renewed at each login step, a word reset ending the
 * holder's other sessions, language toggle; the demo shortcuts present in
 * demo mode only. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const http = require("http");
const path = require("path");
const { startStack, captchaText, H } = require("./stack");

let stack;
before(async () => {
  stack = await startStack({ port: 8453, dataDir: path.join(H.BUILD, "e2e-site-http"), test: true,
    siteEnv: { SITE_TRUSTED_PROXY: "127.0.0.9" } });
});
after(() => stack.stop());

/* One HTTP exchange; from a given loopback address, with raw headers. */
function request(origin, p, { method, headers, body, from }) {
  return new Promise((resolve, reject) => {
    const u = new URL(origin + p);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: method || "GET",
      headers: headers || {}, localAddress: from }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode, headers: { get: (n) => [].concat(res.headers[n.toLowerCase()] || [])[0] || null },
          text: async () => text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/* A tiny cookie-keeping client, from 127.0.0.1 or another loopback
 * address; always: headers sent with every request. */
function client(from, origin, always) {
  let cookie = "";
  const go = async (p, opts) => {
    const o = opts || {};
    const r = await request(origin || stack.origin, p, Object.assign({}, o, { from,
      headers: Object.assign({ cookie }, always || {}, o.headers || {}) }));
    const set = r.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    return r;
  };
  return {
    get: (p, headers) => go(p, { headers }),
    post: (p, fields) => go(p, { method: "POST", body: new URLSearchParams(fields).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" } }),
    json: (p, token, body) => go(p, { method: "POST", body,
      headers: { "content-type": "application/json", "x-csrf-token": token } }),
    cookie: () => cookie,
    use(c) {
      cookie = c;
    },
    async csrf(p) {
      const html = await (await go(p)).text();
      return (html.match(/name="csrf" value="([0-9a-f]+)"/) || html.match(/data-csrf="([0-9a-f]+)"/) || [])[1];
    },
  };
}

/* Password, then the SMS code from the demo outbox: the session is
 * authenticated. Returns the cookies after each step. */
async function fullLogin(c) {
  const cookies = [];
  await c.get("/nes/sifreli");
  cookies.push(c.cookie());
  const csrf = await c.csrf("/nes/sifreli");
  const captcha = captchaText(await (await c.get("/captcha.svg")).text());
  const r = await c.post("/nes/sifreli", { csrf, id: "10000000146", word: "guvenli-sozcuk", captcha });
  assert.strictEqual(r.headers.get("location"), "/nes/sms-onay");
  cookies.push(c.cookie());
  await c.post("/nes/sms-onay", { csrf: await c.csrf("/nes/sms-onay") });
  const outbox = await (await c.get("/demo/sms")).text();
  const code = outbox.match(/class="sms-code">(\d{6})</)[1];
  const done = await c.post("/nes/sms-kod", { csrf: await c.csrf("/nes/sms-kod"), code });
  assert.strictEqual(done.headers.get("location"), "/nes/islemler");
  cookies.push(c.cookie());
  return cookies;
}

async function loginAttempt(c, id, word, goodCaptcha) {
  const csrf = await c.csrf("/nes/sifreli");
  const captcha = captchaText(await (await c.get("/captcha.svg")).text());
  await c.post("/nes/sifreli", { csrf, id, word, captcha: goodCaptcha === false ? "zzzzz" : captcha });
  return (await (await c.get("/nes/sifreli")).text()).match(/role="alert">([^<]*)</)?.[1];
}

test("every page carries a strict CSP and an HttpOnly, Secure, SameSite cookie", async () => {
  const r = await fetch(stack.origin + "/nes/sifreli");
  assert.match(r.headers.get("content-security-policy"), /default-src 'none'; script-src 'self'/);
  assert.doesNotMatch(r.headers.get("content-security-policy"), /unsafe-inline/);
  assert.match(r.headers.get("set-cookie"), /^__Host-nbsid=[0-9a-f]{48}; HttpOnly; Secure; SameSite=Strict; Path=\/$/);
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

test("the session id changes when the password and when the SMS code are accepted; the old ids are worth nothing", async () => {
  const c = client();
  const [anonymous, passwordOk, authenticated] = await fullLogin(c);
  assert.notStrictEqual(anonymous, passwordOk);
  assert.notStrictEqual(passwordOk, authenticated);
  assert.strictEqual((await c.get("/nes/islemler")).status, 200);
  /* Someone who planted or saw an earlier id. */
  for (const old of [anonymous, passwordOk]) {
    const other = client();
    other.use(old);
    const r = await other.get("/nes/islemler");
    assert.strictEqual(r.status, 303);
    assert.match(r.headers.get("location"), /\/nes\/sifreli/);
  }
  const before = c.cookie();
  await c.post("/logout", { csrf: await c.csrf("/nes/islemler") });
  assert.notStrictEqual(c.cookie(), before, "a new id at logout too");
});

test("a security word reset logs the holder out of every other session", async () => {
  const holder = client();
  await fullLogin(holder);
  assert.strictEqual((await holder.get("/nes/islemler")).status, 200);
  const other = client();
  await other.post("/nes/sozcuk-unuttum", { csrf: await other.csrf("/nes/sifreli"), id: "10000000146" });
  const link = (await (await other.get("/demo/mail")).text()).match(/href="(\/nes\/sozcuk-yenile\?t=[0-9a-f]+)"/)[1];
  const csrf = await other.csrf(link);
  const r = await other.post("/nes/sozcuk-yenile", { csrf, t: new URL(link, stack.origin).searchParams.get("t"), word: "guvenli-sozcuk" });
  assert.strictEqual(r.headers.get("location"), "/nes/sifreli?m=done");
  const after = await holder.get("/nes/islemler");
  assert.strictEqual(after.status, 303);
  assert.match(after.headers.get("location"), /\/nes\/sifreli/);
  /* The link is spent. */
  assert.strictEqual((await other.get(link)).status, 400);
});

test("a Referer that is not a URL on /lang goes home, not to an error", async () => {
  const c = client();
  for (const referer of ["http://[", "::::", "/relative"]) {
    const r = await c.get("/lang?to=en", { referer });
    assert.strictEqual(r.status, 303, referer);
    assert.strictEqual(r.headers.get("location"), "/");
  }
  const same = await c.get("/lang?to=tr", { referer: stack.origin + "/nes/sifreli" });
  assert.strictEqual(same.headers.get("location"), "/nes/sifreli");
});

test("a JSON call with a body that is not a JSON object is refused, not an error", async () => {
  const c = client();
  for (const body of ["{", "[]", "null"]) {
    const r = await c.json("/api/unlock/prepare", "x", body);
    assert.strictEqual(r.status, 400, body);
  }
});

test("failed logins are limited per account too: other addresses cannot go on guessing", async () => {
  await stack.advanceClock(16 * 60); /* the failures of the tests before are forgotten */
  /* Five failures each from two addresses: each address is shut out, and
   * the account has had ten. */
  for (const from of ["127.0.0.2", "127.0.0.3"]) {
    const c = client(from);
    for (let i = 0; i < 5; i++) {
      assert.strictEqual(await loginAttempt(c, "10000000146", "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
    }
    assert.strictEqual(await loginAttempt(c, "10000000078", "yanlis-sozcuk"),
      "Çok fazla hatalı deneme yapıldı. Lütfen 15 dakika sonra tekrar deneyiniz.", "per address");
  }
  /* A third address: the account is shut, even with the right word; another
   * account is not. */
  const third = client("127.0.0.4");
  assert.strictEqual(await loginAttempt(third, "10000000146", "guvenli-sozcuk"),
    "Çok fazla hatalı deneme yapıldı. Lütfen 15 dakika sonra tekrar deneyiniz.");
  assert.strictEqual(await loginAttempt(third, "10000000078", "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
  await stack.advanceClock(16 * 60);
  assert.strictEqual(await loginAttempt(third, "10000000146", "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
});

test("demo mode says so on every page", async () => {
  const c = client();
  for (const p of ["/", "/nes/sifreli", "/demo/sms", "/demo/mail", "/nowhere"]) {
    const html = await (await c.get(p)).text();
    assert.match(html, /id="demo-mode">DEMO KİPİ: SMS kodları/, p);
  }
});

test("outside demo mode: no outboxes, no readable captcha, no banner; codes go to the gateway's spool", async () => {
  const dataDir = path.join(H.BUILD, "e2e-site-http-real");
  fs.rmSync(dataDir, { recursive: true, force: true });
  const real = await startStack({ port: 8455, dataDir, test: false, demo: false });
  try {
    const c = client(undefined, real.origin);
    for (const p of ["/demo/sms", "/demo/mail"]) assert.strictEqual((await c.get(p)).status, 404, p);
    const html = await (await c.get("/nes/sifreli")).text();
    assert.doesNotMatch(html, /demo-mode|\/demo\/sms|\/demo\/mail/);
    const svg = await (await c.get("/captcha.svg")).text();
    assert.doesNotMatch(svg, /<text/);
    assert.strictEqual(captchaText(svg), "");
    assert.match(svg, /<path d="M[0-9. L]+/);
    await c.post("/nes/sozcuk-unuttum", { csrf: await c.csrf("/nes/sifreli"), id: "10000000146" });
    const spool = path.join(dataDir, "spool", "mail");
    /* The link is made just after the answer. */
    for (let i = 0; i < 100 && !fs.existsSync(spool); i++) await new Promise((r) => setTimeout(r, 10));
    const files = fs.readdirSync(spool);
    assert.strictEqual(files.length, 1);
    assert.strictEqual(fs.statSync(path.join(spool, files[0])).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(path.join(spool, files[0]), "utf8"), /sozcuk-yenile\?t=[0-9a-f]{48}/);
  } finally {
    real.stop();
  }
});

test("SIGNER=pkcs11: prepare signs through the token; a token that fails answers 503, audited with the tool's exit code", async () => {
  const { makeToken } = require("../authority/softhsm");
  const crypto = require("crypto");
  const dataDir = path.join(H.BUILD, "e2e-site-http-pkcs11");
  fs.rmSync(dataDir, { recursive: true, force: true });
  const tok = makeToken(dataDir + "-hsm");
  tok.generate("kamusm-2025", "2025", "EC:prime256v1");
  const signing = await startStack({ port: 8456, dataDir, test: true,
    siteEnv: { SOFTHSM2_CONF: tok.env.SOFTHSM2_CONF, SIGNER: "pkcs11", SIGNER_PKCS11_URI: tok.uri("kamusm-2025", { pin: "file" }) } });
  try {
    const c = client(undefined, signing.origin);
    await fullLogin(c);
    const token = await c.csrf("/nes/kilit-cozme");
    const body = JSON.stringify({ nonce: "AB".repeat(32), challenge: "0011223344556677", atr: "3B8801", serial: "NB0000000001" });
    const ok = await c.json("/api/unlock/prepare", token, body);
    assert.strictEqual(ok.status, 200);
    const signed = JSON.parse(await ok.text());
    const published = crypto.createPublicKey(fs.readFileSync(path.join(dataDir, "trust", "demo-authority.pem")));
    assert.strictEqual(signed.key_id, require("../../site/authority").keyId(published));
    assert.ok(crypto.verify("sha256", Buffer.from(signed.script, "base64"), { key: published, dsaEncoding: "der" },
      Buffer.from(signed.signature, "base64")));
    tok.lockUserPin();
    const failed = await c.json("/api/unlock/prepare", token, body);
    assert.strictEqual(failed.status, 503);
    assert.deepStrictEqual(JSON.parse(await failed.text()), { error: "signer" });
    /* Locked: the signer is not called again. */
    assert.strictEqual((await c.json("/api/unlock/prepare", token, body)).status, 503);
    const audit = fs.readFileSync(path.join(dataDir, "audit.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepStrictEqual(audit.filter((e) => e.event === "unlock-sign-failed").map((e) => e.exit_code), [5]);
    assert.deepStrictEqual(audit.filter((e) => e.event === "unlock-sign-refused").map((e) => [e.reason, e.exit_code]), [["signer-halted", 5]]);
  } finally {
    signing.stop();
  }
});

/* The password accepted, an SMS code sent: the session waits for the code. */
async function passwordLogin(c) {
  const csrf = await c.csrf("/nes/sifreli");
  const captcha = captchaText(await (await c.get("/captcha.svg")).text());
  const r = await c.post("/nes/sifreli", { csrf, id: "10000000146", word: "guvenli-sozcuk", captcha });
  assert.strictEqual(r.headers.get("location"), "/nes/sms-onay");
  await c.post("/nes/sms-onay", { csrf: await c.csrf("/nes/sms-onay") });
}

test("a CSRF token with a multi-byte character is refused, not an error", async () => {
  const c = client();
  const csrf = await c.csrf("/nes/sifreli");
  const forged = "é" + csrf.slice(1); /* as many characters, one byte more */
  const form = await c.post("/nes/sifreli", { csrf: forged, id: "10000000146", word: "guvenli-sozcuk", captcha: "x" });
  assert.strictEqual(form.status, 403);
  await fullLogin(c);
  const token = await c.csrf("/nes/kilit-cozme");
  const api = await c.json("/api/unlock/result", "é" + token.slice(1), "{}");
  assert.strictEqual(api.status, 403);
});

test("an SMS code with a multi-byte character is a wrong code, and counts as one", async () => {
  const c = client();
  await passwordLogin(c);
  for (let i = 0; i < 2; i++) {
    const r = await c.post("/nes/sms-kod", { csrf: await c.csrf("/nes/sms-kod"), code: "12345é" });
    assert.strictEqual(r.status, 303);
    assert.strictEqual(r.headers.get("location"), "/nes/sms-kod");
  }
  const third = await c.post("/nes/sms-kod", { csrf: await c.csrf("/nes/sms-kod"), code: "éééééé" });
  assert.strictEqual(third.headers.get("location"), "/nes/sifreli?m=codes");
});

test("a JSON body sent to a form route, or a form to the API, is refused, not an error", async () => {
  const c = client();
  const csrf = await c.csrf("/nes/sifreli");
  for (const p of ["/nes/sifreli", "/nes/sozcuk-unuttum", "/nes/sozcuk-yenile", "/logout"]) {
    const r = await c.json(p, csrf, JSON.stringify({ id: "10000000146", csrf }));
    assert.strictEqual(r.status, 400, p);
  }
  await fullLogin(c);
  const token = await c.csrf("/nes/kilit-cozme");
  const r = await c.post("/api/unlock/result", { csrf: token, completed: "true" });
  assert.strictEqual(r.status, 400);
});

test("/lang goes back to a path of this site only, never to //another.host", async () => {
  const c = client();
  for (const back of ["//evil.example/x", "/\\evil.example/x", "///evil.example"]) {
    const r = await c.get("/lang?to=en", { referer: stack.origin + back });
    assert.strictEqual(r.status, 303, back);
    assert.strictEqual(r.headers.get("location"), "/", back);
  }
});

test("logout ends the login: neither the old session id nor the new one opens the services", async () => {
  const c = client();
  await fullLogin(c);
  const old = c.cookie();
  const r = await c.post("/logout", { csrf: await c.csrf("/nes/islemler") });
  assert.strictEqual(r.headers.get("location"), "/nes/sifreli?m=out");
  for (const cookie of [c.cookie(), old]) {
    const other = client();
    other.use(cookie);
    for (const p of ["/nes/islemler", "/nes/kilit-cozme"]) {
      const page = await other.get(p);
      assert.strictEqual(page.status, 303, p);
      assert.match(page.headers.get("location"), /\/nes\/sifreli/);
    }
  }
  const api = await c.json("/api/unlock/result", await c.csrf("/nes/sifreli"), "{}");
  assert.strictEqual(api.status, 403);
  assert.deepStrictEqual(JSON.parse(await api.text()), { error: "session" });
});

/* A well-formed T.C. number (both check digits) nobody holds, the n-th. */
function madeUpTc(n) {
  const d = String(200000000 + n).split("").map(Number);
  d.push((((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10 + 10) % 10);
  d.push(d.reduce((a, b) => a + b, 0) % 10);
  return d.join("");
}

/* A site of its own with small maps: at most 40 sessions, 20 addresses or
 * accounts with failures; the sizes read from the test hook. */
async function withBoundedSite(fn) {
  const dataDir = path.join(H.BUILD, "e2e-site-http-bounded");
  fs.rmSync(dataDir, { recursive: true, force: true });
  const site = await startStack({ port: 8457, dataDir, test: true, siteEnv: { SITE_MAX_SESSIONS: "40", SITE_MAX_TRACKED: "20" } });
  const state = async () => JSON.parse(await (await fetch(site.origin + "/__test/state")).text());
  try {
    await fn(site, state);
  } finally {
    site.stop();
  }
}

test("memory stays bounded: cookieless requests store no session, sessions are capped and logged-in ones kept", async () => {
  await withBoundedSite(async (site, state) => {
    const holder = client(undefined, site.origin);
    await fullLogin(holder);
    const before = (await state()).sessions;
    for (let i = 0; i < 20; i++) {
      for (const p of ["/", "/online", "/nes", "/captcha.svg", "/nowhere", "/nes/islemler"]) {
        const r = await request(site.origin, p, {});
        assert.strictEqual(r.headers.get("set-cookie"), null, p);
      }
    }
    assert.strictEqual((await state()).sessions, before, "pages that need no session store none");
    for (let i = 0; i < 100; i++) assert.strictEqual((await request(site.origin, "/nes/sifreli", {})).status, 200);
    assert.strictEqual((await state()).sessions, 40, "at most SITE_MAX_SESSIONS");
    assert.strictEqual((await holder.get("/nes/islemler")).status, 200, "the least recently used anonymous ones made room");
  });
});

test("memory stays bounded: an ID is an account only once well-formed; failure lists are capped and swept with expired sessions and links", async () => {
  await withBoundedSite(async (site, state) => {
    const c = client(undefined, site.origin);
    for (let i = 0; i < 30; i++) {
      assert.strictEqual(await loginAttempt(c, "X".repeat(8000) + i, "yanlis-sozcuk"),
        "Geçerli bir T.C. Kimlik Numarası ya da Pasaport Numarası giriniz.");
      assert.strictEqual(await loginAttempt(c, "Y".repeat(8000) + i, "yanlis-sozcuk", false), "Resimdeki yazı hatalı girildi.");
    }
    assert.strictEqual((await state()).account_failures, 0, "a long made-up ID is nobody's account");
    /* 30 made-up, well-formed numbers, five from each of six addresses. */
    for (let a = 0; a < 6; a++) {
      const from = client(`127.0.1.${a + 1}`, site.origin);
      for (let i = 0; i < 5; i++) {
        assert.strictEqual(await loginAttempt(from, madeUpTc(a * 5 + i), "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
      }
    }
    await c.post("/nes/sozcuk-unuttum", { csrf: await c.csrf("/nes/sifreli"), id: "10000000146" });
    const full = await state();
    assert.strictEqual(full.account_failures, 20, "at most SITE_MAX_TRACKED accounts");
    assert.strictEqual(full.login_failures, 6);
    assert.strictEqual(full.reset_tokens, 1);
    assert.ok(full.sessions >= 7);
    await site.advanceClock(61 * 60);
    const swept = await state();
    assert.deepStrictEqual([swept.sessions, swept.login_failures, swept.account_failures, swept.reset_tokens, swept.resets_sent,
      swept.resets_asked], [0, 0, 0, 0, 0, 0]);
  });
});

test("a session ends 2 hours after its last new id, however busy", async () => {
  await withBoundedSite(async (site) => {
    const c = client(undefined, site.origin);
    await fullLogin(c);
    for (let minutes = 25; minutes < 120; minutes += 25) {
      await site.advanceClock(25 * 60);
      assert.strictEqual((await c.get("/nes/islemler")).status, 200, minutes + " min");
    }
    await site.advanceClock(25 * 60);
    const r = await c.get("/nes/islemler");
    assert.strictEqual(r.status, 303);
    assert.match(r.headers.get("location"), /\/nes\/sifreli/);
  });
});

test("the test hooks refuse to start outside demo mode", () => {
  const { spawnSync } = require("child_process");
  const r = spawnSync("node", [path.join(H.ROOT, "site", "server.js")], { timeout: 5000, encoding: "utf8",
    env: Object.assign({}, process.env, { PORT: "8458", SITE_DATA: path.join(H.BUILD, "e2e-site-http"), NB_SITE_TEST: "1", SITE_DEMO: "" }) });
  assert.strictEqual(r.status, 2, r.stderr);
  assert.match(r.stderr, /NB_SITE_TEST=1 .* needs demo mode/);
});

/* The audit lines written while fn ran. */
async function auditDuring(fn) {
  const file = path.join(H.BUILD, "e2e-site-http", "audit.log");
  const start = fs.statSync(file).size;
  await fn();
  return fs.readFileSync(file).subarray(start).toString("utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

test("behind the trusted proxy (SITE_TRUSTED_PROXY) the client is X-Forwarded-For's last entry; from anyone else the header is ignored", async () => {
  await stack.advanceClock(16 * 60);
  const proxied = client("127.0.0.9", undefined, { "x-forwarded-for": "198.51.100.7, 203.0.113.5" });
  const direct = client("127.0.0.10", undefined, { "x-forwarded-for": "203.0.113.6" });
  const lines = await auditDuring(async () => {
    assert.strictEqual(await loginAttempt(proxied, madeUpTc(900), "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
    assert.strictEqual(await loginAttempt(direct, madeUpTc(901), "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
  });
  assert.deepStrictEqual(lines.filter((e) => e.event === "login-failed").map((e) => e.ip), ["203.0.113.5", "127.0.0.10"]);
  /* The per-address limit is per client, not one for everyone behind the proxy. */
  for (let i = 1; i < 5; i++) await loginAttempt(proxied, madeUpTc(910 + i), "yanlis-sozcuk");
  assert.strictEqual(await loginAttempt(proxied, madeUpTc(920), "yanlis-sozcuk"),
    "Çok fazla hatalı deneme yapıldı. Lütfen 15 dakika sonra tekrar deneyiniz.");
  const other = client("127.0.0.9", undefined, { "x-forwarded-for": "203.0.113.8" });
  assert.strictEqual(await loginAttempt(other, madeUpTc(921), "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.");
});

test("reset links are limited per account and per address; a new link voids the earlier ones", async () => {
  await stack.advanceClock(61 * 60);
  const mails = async (to) => ((await (await fetch(stack.origin + "/demo/mail")).text()).match(/<li>[^<]*→ ([^:]+):/g) || [])
    .filter((m) => m.includes(to)).length;
  const links = async () => Array.from((await (await fetch(stack.origin + "/demo/mail")).text())
    .matchAll(/href="(\/nes\/sozcuk-yenile\?t=[0-9a-f]+)"/g), (m) => m[1]);
  const ask = async (c, id) => {
    const r = await c.post("/nes/sozcuk-unuttum", { csrf: await c.csrf("/nes/sifreli"), id });
    assert.strictEqual(r.headers.get("location"), "/nes/sifreli?m=reset", "always the same answer");
  };
  /* Per account: 3 links an hour, from any address. */
  const before = await mails("demo.kullanici@example.org");
  const first = client("127.0.2.1");
  await ask(first, "10000000146");
  const firstLink = (await links())[0];
  await ask(first, "10000000146");
  await ask(client("127.0.2.2"), "U12345678");
  await ask(client("127.0.2.3"), "10000000146");
  assert.strictEqual(await mails("demo.kullanici@example.org"), before + 3);
  assert.strictEqual((await first.get(firstLink)).status, 400, "voided by the later ones");
  assert.strictEqual((await first.get((await links())[0])).status, 200, "the last one works");
  /* Per address: 10 requests an hour, whatever the IDs. */
  const busy = client("127.0.2.4");
  for (let i = 0; i < 10; i++) await ask(busy, madeUpTc(950 + i));
  const second = await mails("demo.tustakimi@example.org");
  await ask(busy, "10000000214");
  assert.strictEqual(await mails("demo.tustakimi@example.org"), second);
  await ask(client("127.0.2.5"), "10000000214");
  assert.strictEqual(await mails("demo.tustakimi@example.org"), second + 1);
});

test("a login with an ID nobody holds hashes the word as one with a holder's ID does (no timing oracle)", async () => {
  /* Counted, not timed: a timing test would be flaky. */
  const scrypt = async () => JSON.parse(await (await fetch(stack.origin + "/__test/state")).text()).scrypt_calls;
  const c = client("127.0.3.1");
  for (const id of ["10000000078", "U99999999", "10000000214"]) {
    const before = await scrypt();
    assert.strictEqual(await loginAttempt(c, id, "yanlis-sozcuk"), "Kimlik numarası ya da güvenlik sözcüğü hatalı.", id);
    assert.strictEqual(await scrypt(), before + 1, id);
  }
});

const UNLOCK_BODY = JSON.stringify({ nonce: "AB".repeat(32), challenge: "0011223344556677", atr: "3B8801", serial: "NB0000000001" });

test("the unlock API is limited per session: 10 prepares and 10 results in 15 min, then 429", async () => {
  const c = client("127.0.4.1");
  await fullLogin(c);
  const token = await c.csrf("/nes/kilit-cozme");
  for (let i = 0; i < 10; i++) assert.strictEqual((await c.json("/api/unlock/prepare", token, UNLOCK_BODY)).status, 200, "prepare " + i);
  const limited = await c.json("/api/unlock/prepare", token, UNLOCK_BODY);
  assert.strictEqual(limited.status, 429);
  assert.deepStrictEqual(JSON.parse(await limited.text()), { error: "rate" });
  const result = JSON.stringify({ completed: false, code: "pin-cancelled" });
  for (let i = 0; i < 10; i++) assert.strictEqual((await c.json("/api/unlock/result", token, result)).status, 200, "result " + i);
  assert.strictEqual((await c.json("/api/unlock/result", token, result)).status, 429);
});

/* A stand-in nesbridge-sign for SIGNER=pkcs11 sites: writes each call's
 * arguments to CALLS; for --public-key (the seed) prints a placeholder;
 * otherwise runs the real tool. */
function signerWrapper(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const wrapper = path.join(dir, "nesbridge-sign"), calls = path.join(dir, "calls");
  fs.rmSync(calls, { force: true });
  fs.writeFileSync(wrapper, `#!/bin/sh\necho "$1" >> '${calls}'\n` +
    `if [ "$1" = --public-key ]; then echo placeholder; exit 0; fi\nexec '${path.join(H.BUILD, "nesbridge-sign")}' "$@"\n`, { mode: 0o755 });
  return { wrapper, signings: () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").filter((l) => l === "--key").length : 0) };
}

const readAudit = (dataDir) => fs.readFileSync(path.join(dataDir, "audit.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));

test("SIGNER=pkcs11: after the token refused its PIN the signer is not called again (no PIN try burnt); 503, audited", async () => {
  const { makeToken } = require("../authority/softhsm");
  const dataDir = path.join(H.BUILD, "e2e-site-http-pin");
  fs.rmSync(dataDir, { recursive: true, force: true });
  const tok = makeToken(dataDir + "-hsm");
  tok.generate("kamusm-2025", "2025", "EC:prime256v1");
  const wrongPin = path.join(dataDir + "-hsm", "wrong-pin");
  fs.writeFileSync(wrongPin, "999999\n", { mode: 0o600 });
  const fake = signerWrapper(dataDir + "-signer");
  const site = await startStack({ port: 8459, dataDir, test: true, siteEnv: { SOFTHSM2_CONF: tok.env.SOFTHSM2_CONF, SIGNER: "pkcs11",
    NESBRIDGE_SIGN: fake.wrapper, SIGNER_PKCS11_URI: tok.uri("kamusm-2025", { pin: "file", pinFile: wrongPin }) } });
  try {
    const c = client(undefined, site.origin);
    await fullLogin(c);
    const token = await c.csrf("/nes/kilit-cozme");
    for (let i = 0; i < 3; i++) {
      const r = await c.json("/api/unlock/prepare", token, UNLOCK_BODY);
      assert.strictEqual(r.status, 503);
      assert.deepStrictEqual(JSON.parse(await r.text()), { error: "signer" });
    }
    assert.strictEqual(fake.signings(), 1, "the signer ran once");
    const audit = readAudit(dataDir);
    assert.deepStrictEqual(audit.filter((e) => e.event === "unlock-sign-failed").map((e) => e.exit_code), [4]);
    assert.deepStrictEqual(audit.filter((e) => e.event === "signer-halted").map((e) => e.exit_code), [4]);
    assert.deepStrictEqual(audit.filter((e) => e.event === "unlock-sign-refused").map((e) => e.reason), ["signer-halted", "signer-halted"]);
  } finally {
    site.stop();
  }
});

test("SIGNER=pkcs11: a token that does not answer is the tool's timeout (exit 7, audited), not a kill; one signing at a time with SITE_MAX_SIGNING=1", async () => {
  const dataDir = path.join(H.BUILD, "e2e-site-http-stuck");
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  /* Loading a FIFO as the module blocks in open() for ever. */
  const fifo = path.join(dataDir, "stuck-module.so");
  require("child_process").execFileSync("mkfifo", [fifo]);
  const fake = signerWrapper(dataDir + "-signer");
  const site = await startStack({ port: 8460, dataDir, test: true, siteEnv: { SIGNER: "pkcs11", NESBRIDGE_SIGN: fake.wrapper,
    SIGNER_PKCS11_URI: `pkcs11:token=nbauth;object=kamusm-2025?module-path=${fifo}`, SIGNER_TIMEOUT: "1", SITE_MAX_SIGNING: "1" } });
  try {
    const c = client(undefined, site.origin);
    await fullLogin(c);
    const token = await c.csrf("/nes/kilit-cozme");
    const t0 = Date.now();
    const stuck = c.json("/api/unlock/prepare", token, UNLOCK_BODY);
    await new Promise((r) => setTimeout(r, 300));
    const second = await c.json("/api/unlock/prepare", token, UNLOCK_BODY);
    assert.strictEqual(second.status, 503);
    assert.deepStrictEqual(JSON.parse(await second.text()), { error: "busy" });
    const first = await stuck;
    assert.strictEqual(first.status, 503);
    assert.ok(Date.now() - t0 < 5000, "the tool's own timeout, before Node's kill");
    assert.deepStrictEqual(readAudit(dataDir).filter((e) => e.event === "unlock-sign-failed").map((e) => e.exit_code), [7]);
    /* Not a PIN problem: the signer is tried again. */
    assert.strictEqual((await c.json("/api/unlock/prepare", token, UNLOCK_BODY)).status, 503);
    assert.strictEqual(fake.signings(), 2);
  } finally {
    site.stop();
  }
});
