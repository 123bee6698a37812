#!/usr/bin/env node
/* SPDX-License-Identifier: Apache-2.0 */
/* The demo authority site: the Kamu SM "Kilit Çözme" flow (password login,
 * captcha, SMS code, services menu, card unlock) on top of nesbridge.
 * Node standard library only. Data (users, demo authority key, audit log)
 * lives in site/data, made by site/seed.js. Which parts are the reference
 * an authority may copy and which are stand-ins: docs/authority.md.
 *   PORT (8443), SITE_DATA (site/data), NB_SITE_TEST=1 (test hooks; demo
 *     mode only),
 *   SITE_MAX_SESSIONS (50000), SITE_MAX_TRACKED (100000): how many
 *     sessions, and how many addresses or accounts with failed logins,
 *     are kept at most,
 *   SITE_TRUSTED_PROXY: the address(es), comma-separated, of the TLS proxy
 *     in front; from it, and only from it, the right-most entry of
 *     X-Forwarded-For is the client's address,
 *   SITE_DEMO=1: demo mode, with /demo/sms, /demo/mail and a readable
 *     captcha, and a banner on every page that says so;
 *   SIGNER=pem (DATA/authority.key, default) or SIGNER=pkcs11: signs
 *     through nesbridge-sign (NESBRIDGE_SIGN, default build/nesbridge-sign)
 *     with the key in a token, SIGNER_PKCS11_URI naming it (its PIN from
 *     the URI's pin-source or NESBRIDGE_PKCS11_PIN), SIGNER_TIMEOUT
 *     seconds for the token (1 to 600, default 20; passed to the tool as
 *     its NESBRIDGE_SIGN_TIMEOUT), at most
 *     SITE_MAX_SIGNING (4) signing at once. */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");
const { tr, en } = require("./i18n");
const authority = require("./authority");

const PORT = Number(process.env.PORT || 8443);
const DATA = path.resolve(process.env.SITE_DATA || path.join(__dirname, "data"));
const TEST = process.env.NB_SITE_TEST === "1";
const DEMO = process.env.SITE_DEMO === "1";
const ROOT = path.resolve(__dirname, "..");
const SMS_LIFETIME_S = 300;
const WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES_PER_IP = 5;
const MAX_FAILURES_PER_ACCOUNT = 10;
const RESET_WINDOW_MS = 3600 * 1000;
const MAX_RESETS_PER_ACCOUNT = 3;
const MAX_RESETS_PER_IP = 10;
const MAX_UNLOCK_CALLS = 10; /* per session and API call, in 15 min */
const MAX_SIGNING = Number(process.env.SITE_MAX_SIGNING || 4);
const SESSION_IDLE_MS = 30 * 60 * 1000;
const SESSION_MAX_MS = 2 * 3600 * 1000; /* after the last new id, however busy */
const MAX_SESSIONS = Number(process.env.SITE_MAX_SESSIONS || 50000);
const MAX_TRACKED = Number(process.env.SITE_MAX_TRACKED || 100000);
/* The session cookie: __Host- makes browsers take it only with Secure,
 * Path=/ and no Domain, so that no other host (a sibling subdomain) can
 * set or shadow it. */
const COOKIE = "__Host-nbsid";

if (TEST && !DEMO) {
  console.error("site: NB_SITE_TEST=1 (test hooks: the clock moved by anyone) needs demo mode (SITE_DEMO=1)");
  process.exit(2);
}

/* The demo's clock; tests move it forward instead of sleeping. */
let clockOffset = 0;
const now = () => Date.now() + clockOffset;

const users = JSON.parse(fs.readFileSync(path.join(DATA, "users.json"), "utf8"));
const signScript = makeSigner(process.env.SIGNER || "pem");
const masterKey = Buffer.from(fs.readFileSync(path.join(DATA, "master.hex"), "utf8").trim(), "hex");
const sessions = new Map();
/* Set when the token refused its PIN (nesbridge-sign exit 4) or has it
 * locked (5): the signer is not called again, and no PIN try is spent,
 * until an operator has fixed the PIN and restarted the server. */
let signerHalted = null;
let signing = 0; /* signatures under way */
const loginFailures = new Map(); /* ip -> [times] */
const accountFailures = new Map(); /* account (a well-formed T.C. or passport number) -> [times] */
const outbox = { sms: [], mail: [] };
const resetTokens = new Map();
const resetsSent = new Map(); /* account -> [times] */
const resetsAsked = new Map(); /* ip -> [times] */
const TRUSTED_PROXIES = (process.env.SITE_TRUSTED_PROXY || "").split(",").map((a) => a.trim()).filter(Boolean);

/* The script signer: the PEM key here, or a key that never leaves a
 * PKCS#11 token, through nesbridge-sign. Both resolve to the signed script
 * as the page passes it to run-script. */
function makeSigner(kind) {
  if (kind === "pem") {
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(DATA, "authority.key")));
    return async (script) => authority.signWithKey(key, script);
  }
  if (kind === "pkcs11") {
    const uri = process.env.SIGNER_PKCS11_URI;
    if (!uri || !uri.startsWith("pkcs11:")) throw new Error("SIGNER=pkcs11 needs SIGNER_PKCS11_URI=pkcs11:...");
    const tool = process.env.NESBRIDGE_SIGN || path.join(ROOT, "build", "nesbridge-sign");
    const timeoutSeconds = Math.min(600, Math.max(1, Math.floor(Number(process.env.SIGNER_TIMEOUT) || 20)));
    return (script) => authority.signWithToken(script, { tool, uri, env: process.env, timeoutSeconds });
  }
  throw new Error("SIGNER must be pem or pkcs11");
}

/* Stand-ins for the SMS and mail gateways. In demo mode the messages are
 * shown at /demo/sms and /demo/mail; otherwise they are queued, one file
 * each (0600), in DATA/spool/<kind>/ for a gateway to take. */
function deliver(kind, to, text) {
  if (DEMO) {
    outbox[kind].push({ time: now(), to, text });
    return;
  }
  const dir = path.join(DATA, "spool", kind);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, `${now()}-${crypto.randomBytes(6).toString("hex")}.json`),
    JSON.stringify({ time: new Date(now()).toISOString(), to, text }) + "\n", { mode: 0o600, flag: "wx" });
}

function audit(event, fields) {
  const line = JSON.stringify(Object.assign({ time: new Date(now()).toISOString(), event }, fields));
  fs.appendFileSync(path.join(DATA, "audit.log"), line + "\n", { mode: 0o600 });
}

/* T.C. Kimlik No: 11 digits, not starting with 0, two check digits. */
function validTc(tc) {
  if (!/^[1-9][0-9]{10}$/.test(tc)) return false;
  const d = tc.split("").map(Number);
  const odd = d[0] + d[2] + d[4] + d[6] + d[8], even = d[1] + d[3] + d[5] + d[7];
  if (((odd * 7 - even) % 10 + 10) % 10 !== d[9]) return false;
  return d.slice(0, 10).reduce((a, b) => a + b, 0) % 10 === d[10];
}

let scryptCalls = 0; /* for the tests */
function hashWord(word, salt) {
  scryptCalls++;
  return crypto.scryptSync(word, Buffer.from(salt, "hex"), 32).toString("hex");
}

/* Hashed against when nobody holds the ID: a login takes as long either way. */
const NOBODY = { salt: crypto.randomBytes(16).toString("hex"), word_hash: crypto.randomBytes(32).toString("hex") };

const bareAddress = (a) => a.startsWith("::ffff:") ? a.slice(7) : a;

/* The client's address: the peer's, or behind the trusted proxy the last
 * address it put in X-Forwarded-For (the entries before it are the
 * client's word, worth nothing). The header from anyone else is ignored. */
function clientAddress(req) {
  const peer = bareAddress(req.socket.remoteAddress || "?");
  if (!TRUSTED_PROXIES.includes(peer)) return peer;
  const forwarded = String(req.headers["x-forwarded-for"] || "").split(",").map((a) => a.trim()).filter(Boolean).pop();
  return forwarded && net.isIP(bareAddress(forwarded)) ? bareAddress(forwarded) : peer;
}

function findUser(id) {
  return users.find((u) => u.tc === id || (u.passport && u.passport === id.toUpperCase()));
}

/* Two secrets compared in constant time; strings of different byte
 * lengths (a multi-byte character) are simply not equal. */
function sameSecret(a, b) {
  if (typeof a !== "string" || typeof b !== "string") return false;
  const x = Buffer.from(a, "utf8"), y = Buffer.from(b, "utf8");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

const maskPhone = (p) => p.slice(0, 3) + "*****" + p.slice(-2);

/* ---- sessions, cookies, CSRF ---- */

function parseCookies(req) {
  const out = {};
  for (const part of (req.headers.cookie || "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

const expired = (s) => now() - s.touched > SESSION_IDLE_MS || now() - s.created > SESSION_MAX_MS;

/* The request's session; without a live one, a new one that is not kept
 * (no id, no cookie) unless keepSession is called: pages that need
 * nothing of a session store nothing. The map is kept in order of use, the
 * least recently used first. */
function getSession(req) {
  const sid = parseCookies(req)[COOKIE];
  const s = sid && sessions.get(sid);
  if (s) sessions.delete(sid);
  if (s && !expired(s)) {
    s.touched = now();
    sessions.set(sid, s);
    return s;
  }
  return { id: null, csrf: crypto.randomBytes(24).toString("hex"), lang: "tr", state: "anonymous",
    touched: now(), created: now() };
}

/* Stores a new session and sets its cookie. At MAX_SESSIONS the least
 * recently used anonymous session makes room; when every session is
 * logged in, false (the caller answers 503). */
function keepSession(s, res) {
  if (s.id) return true;
  if (sessions.size >= MAX_SESSIONS) {
    let victim = null, looked = 0;
    for (const [id, other] of sessions) {
      if (other.state === "anonymous" || expired(other)) {
        victim = id;
        break;
      }
      if (++looked >= 1000) break;
    }
    if (victim === null) return false;
    sessions.delete(victim);
  }
  s.id = crypto.randomBytes(24).toString("hex");
  sessions.set(s.id, s);
  setSessionCookie(res, s.id);
  return true;
}

function setSessionCookie(res, id) {
  res.setHeader("Set-Cookie", `${COOKIE}=${id}; HttpOnly; Secure; SameSite=Strict; Path=/`);
}

/* A new session id whenever the session's privilege changes (password
 * accepted, SMS code accepted, logout): an id planted or seen before the
 * change is worth nothing after it. */
function rotateSession(s, res) {
  sessions.delete(s.id);
  s.id = crypto.randomBytes(24).toString("hex");
  s.csrf = crypto.randomBytes(24).toString("hex");
  s.created = now();
  sessions.set(s.id, s);
  setSessionCookie(res, s.id);
}

function resetLogin(s) {
  s.state = "anonymous";
  delete s.user;
  delete s.sms;
  s.csrf = crypto.randomBytes(24).toString("hex");
}

const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

function send(res, status, type, body, extra) {
  res.writeHead(status, Object.assign({ "Content-Type": type }, SECURITY_HEADERS, extra || {}));
  res.end(body);
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

function page(s, title, body, opts) {
  const t = s.lang === "en" ? en : tr;
  const o = opts || {};
  const scripts = (o.scripts || []).map((src) => `<script src="${src}"></script>`).join("");
  const data = o.data ? Object.entries(o.data).map(([k, v]) => ` data-${k}="${esc(typeof v === "string" ? v : JSON.stringify(v))}"`).join("") : "";
  return `<!doctype html><html lang="${s.lang}"><head><meta charset="utf-8"><title>${esc(title)} - ${esc(t.title)}</title>` +
    `<link rel="stylesheet" href="/static/style.css"></head><body${data}>` +
    `<header><a class="brand" href="/">${esc(t.title)}</a><a class="lang" href="/lang?to=${s.lang === "en" ? "tr" : "en"}">${esc(t.lang)}</a></header>` +
    `<p class="banner">${esc(t.banner)}</p>` + (DEMO ? `<p class="banner demo-mode" id="demo-mode">${esc(t.demoMode)}</p>` : "") +
    `<main><h1>${esc(title)}</h1>${body}</main>` +
    `<footer>© nesbridge demo` + (DEMO ? ` · <a href="/demo/sms">${esc(t.outboxSms)}</a> · <a href="/demo/mail">${esc(t.outboxMail)}</a>` : "") +
    `</footer>${scripts}</body></html>`;
}

function form(s, action, inner, submit, id) {
  return `<form method="post" action="${action}"${id ? ` id="${id}"` : ""}><input type="hidden" name="csrf" value="${s.csrf}">${inner}<button type="submit">${esc(submit)}</button></form>`;
}

const message = (text, kind) => text ? `<p class="msg ${kind || "error"}" role="alert">${esc(text)}</p>` : "";

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) { reject(new Error("too large")); req.destroy(); return; }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function redirect(res, to) {
  send(res, 303, "text/plain", "", { Location: to });
}

/* ---- captcha: five letters drawn as an SVG with noise ---- */

/* Outside demo mode each letter is drawn as strokes (no text a program
 * reads out of the SVG), each point moved a little, each letter turned,
 * among noise strokes of the same kind. A stand-in all the same: a real
 * site uses its own captcha (docs/authority.md). Points on a 10 x 18 grid. */
const STROKES = {
  a: [[8, 7, 8, 14], [8, 9, 6, 7, 3, 7, 1, 9, 1, 12, 3, 14, 6, 14, 8, 12]],
  b: [[1, 0, 1, 14], [1, 9, 3, 7, 6, 7, 8, 9, 8, 12, 6, 14, 3, 14, 1, 12]],
  c: [[8, 8, 6, 7, 3, 7, 1, 9, 1, 12, 3, 14, 6, 14, 8, 13]],
  d: [[8, 0, 8, 14], [8, 9, 6, 7, 3, 7, 1, 9, 1, 12, 3, 14, 6, 14, 8, 12]],
  e: [[1, 10.5, 8, 10.5, 8, 9, 6, 7, 3, 7, 1, 9, 1, 12, 3, 14, 6, 14, 8, 13]],
  f: [[7, 1, 5, 0, 4, 1, 4, 14], [2, 7, 7, 7]],
  g: [[8, 7, 8, 16, 6, 18, 2, 18], [8, 9, 6, 7, 3, 7, 1, 9, 1, 11, 3, 13, 6, 13, 8, 11]],
  h: [[1, 0, 1, 14], [1, 9, 3, 7, 6, 7, 8, 9, 8, 14]],
  k: [[1, 0, 1, 14], [8, 7, 1, 11], [3, 10, 8, 14]],
  m: [[1, 7, 1, 14], [1, 9, 2, 7, 4, 7, 5, 9, 5, 14], [5, 9, 6, 7, 8, 7, 9, 9, 9, 14]],
  n: [[1, 7, 1, 14], [1, 9, 3, 7, 6, 7, 8, 9, 8, 14]],
  p: [[1, 7, 1, 18], [1, 9, 3, 7, 6, 7, 8, 9, 8, 12, 6, 14, 3, 14, 1, 12]],
  r: [[1, 7, 1, 14], [1, 10, 3, 7, 7, 7]],
  s: [[8, 8, 6, 7, 3, 7, 1, 8, 1, 10, 8, 11, 8, 13, 6, 14, 3, 14, 1, 13]],
  t: [[4, 2, 4, 13, 5, 14, 7, 14], [1, 7, 7, 7]],
  u: [[1, 7, 1, 12, 3, 14, 6, 14, 8, 12], [8, 7, 8, 14]],
  v: [[1, 7, 4.5, 14, 8, 7]],
  w: [[0, 7, 2, 14, 4.5, 9, 7, 14, 9, 7]],
  x: [[1, 7, 8, 14], [8, 7, 1, 14]],
  y: [[1, 7, 4.5, 14], [8, 7, 3, 18, 1, 18]],
  z: [[1, 7, 8, 7, 1, 14, 8, 14]],
};

function captchaStrokesSvg(text) {
  const rnd = () => crypto.randomInt(1000000) / 1000000;
  const paths = [];
  text.split("").forEach((ch, i) => {
    const angle = (rnd() * 30 - 15) * Math.PI / 180, cx = 12 + i * 27, cy = 4 + rnd() * 6;
    for (const stroke of STROKES[ch]) {
      const pts = [];
      for (let k = 0; k < stroke.length; k += 2) {
        const x = (stroke[k] + rnd() * 0.8 - 0.4) * 2.2, y = (stroke[k + 1] + rnd() * 0.8 - 0.4) * 2.2;
        pts.push([cx + 10 + (x - 10) * Math.cos(angle) - (y - 20) * Math.sin(angle),
          cy + 20 + (x - 10) * Math.sin(angle) + (y - 20) * Math.cos(angle)]);
      }
      paths.push(pts);
    }
  });
  for (let i = 0; i < 4; i++) paths.push([[rnd() * 150, rnd() * 50], [rnd() * 150, rnd() * 50]]);
  for (let i = paths.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [paths[i], paths[j]] = [paths[j], paths[i]];
  }
  const d = paths.map((pts) => "M" + pts.map(([x, y]) => x.toFixed(1) + " " + y.toFixed(1)).join("L")).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="150" height="50"><rect width="150" height="50" fill="#eef"/>` +
    `<path d="${d}" fill="none" stroke="#224" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
}

/* Demo mode only: the letters as SVG text, which tests (and anyone) read. */
function captchaSvg(text) {
  const rnd = (n) => crypto.randomInt(n);
  let glyphs = "";
  text.split("").forEach((ch, i) => {
    glyphs += `<text x="${14 + i * 26}" y="${34 + rnd(10) - 5}" transform="rotate(${rnd(30) - 15} ${20 + i * 26} 30)">${ch}</text>`;
  });
  let noise = "";
  for (let i = 0; i < 6; i++) noise += `<line x1="${rnd(150)}" y1="${rnd(50)}" x2="${rnd(150)}" y2="${rnd(50)}" stroke="#889" />`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="150" height="50"><rect width="150" height="50" fill="#eef"/>${noise}` +
    `<g font-family="serif" font-size="28" fill="#224">${glyphs}</g></svg>`;
}

/* ---- routes ---- */

/* The unlock API's calls, per session and call, over 15 minutes: false
 * when there have been MAX_UNLOCK_CALLS already. */
function unlockCallAllowed(s, kind) {
  s[kind] = (s[kind] || []).filter((x) => now() - x < WINDOW_MS);
  if (s[kind].length >= MAX_UNLOCK_CALLS) return false;
  s[kind].push(now());
  return true;
}

/* Failed logins are counted per address and per account (a T.C. number,
 * or a well-formed ID nobody holds), over the last 15 minutes. Reading
 * stores nothing; at MAX_TRACKED keys the one whose last failure is the
 * oldest is forgotten. */
function recentFailures(map, key, windowMs) {
  return (map.get(key) || []).filter((t) => now() - t < (windowMs || WINDOW_MS));
}

function recordFailure(map, key, windowMs) {
  const recent = recentFailures(map, key, windowMs);
  map.delete(key);
  if (map.size >= MAX_TRACKED) map.delete(map.keys().next().value);
  recent.push(now());
  map.set(key, recent);
}

/* Every minute (and in tests when the clock moves): what has expired goes. */
function sweep() {
  for (const [id, s] of sessions) if (expired(s)) sessions.delete(id);
  for (const [map, windowMs] of [[loginFailures, WINDOW_MS], [accountFailures, WINDOW_MS],
    [resetsSent, RESET_WINDOW_MS], [resetsAsked, RESET_WINDOW_MS]]) {
    for (const [key, times] of map) {
      const recent = times.filter((t) => now() - t < windowMs);
      if (recent.length === 0) map.delete(key);
      else map.set(key, recent);
    }
  }
  for (const [token, entry] of resetTokens) if (entry.expires < now()) resetTokens.delete(token);
}
setInterval(sweep, 60 * 1000).unref();

function sendResetLink(id, ip) {
  /* At most 10 requests an hour from an address, 3 links an hour for an
   * account (any well-formed ID); a new link voids the earlier ones. */
  const fromIp = recentFailures(resetsAsked, ip, RESET_WINDOW_MS);
  recordFailure(resetsAsked, ip, RESET_WINDOW_MS);
  if (!validTc(id) && !/^[A-Za-z0-9]{6,9}$/.test(id)) return;
  const user = findUser(id);
  const account = (user || { tc: id.toUpperCase() }).tc;
  const limited = fromIp.length >= MAX_RESETS_PER_IP || recentFailures(resetsSent, account, RESET_WINDOW_MS).length >= MAX_RESETS_PER_ACCOUNT;
  if (!limited) recordFailure(resetsSent, account, RESET_WINDOW_MS);
  if (!user) return;
  if (limited) return audit("word-reset-limited", { user: user.tc.slice(0, 3) + "…", ip });
  for (const [old, other] of resetTokens) if (other.tc === user.tc) resetTokens.delete(old);
  const token = crypto.randomBytes(24).toString("hex");
  resetTokens.set(token, { tc: user.tc, expires: now() + RESET_WINDOW_MS });
  deliver("mail", user.email, `/nes/sozcuk-yenile?t=${token}`);
  audit("word-reset-sent", { user: user.tc.slice(0, 3) + "…", ip });
}

function requireState(s, res, state) {
  if (s.state === state) return true;
  redirect(res, "/nes/sifreli?m=login");
  return false;
}

const routes = {
  "GET /": (s, req, res, t) => send(res, 200, "text/html; charset=utf-8", page(s, t.home,
    `<nav class="tiles"><a href="/online">${esc(t.online)}</a></nav>`)),
  "GET /online": (s, req, res, t) => send(res, 200, "text/html; charset=utf-8", page(s, t.online,
    `<nav class="tiles"><a href="/nes">${esc(t.nesOps)}</a><span class="disabled">${esc(t.maliMuhur)}</span></nav>`)),
  "GET /nes": (s, req, res, t) => send(res, 200, "text/html; charset=utf-8", page(s, t.verifyTitle,
    `<nav class="tiles"><span class="disabled" title="${esc(t.eimzaUnavailable)}">${esc(t.eimzaLogin)}</span>` +
    `<a id="sifreli" href="/nes/sifreli">${esc(t.passwordLogin)}</a></nav><p class="note">${esc(t.eimzaUnavailable)}</p>`)),
  "GET /nes/sifreli": (s, req, res, t, url) => {
    s.captcha = Array.from({ length: 5 }, () => "abcdefghkmnprstuvwxyz"[crypto.randomInt(21)]).join("");
    const m = url.searchParams.get("m");
    const msgs = { login: t.mustLogin, out: t.loggedOut, reset: t.resetSent, expired: t.expiredCode, codes: t.tooManyCodes, done: t.resetDone };
    const note = msgs[m] ? message(msgs[m], m === "expired" || m === "codes" || m === "login" ? "error" : "ok") : "";
    send(res, 200, "text/html; charset=utf-8", page(s, t.loginTitle, note + (s.loginError ? message(s.loginError) : "") +
      form(s, "/nes/sifreli",
        `<label>${esc(t.idLabel)}<input name="id" autocomplete="off" placeholder="${esc(t.idHint)}" required></label>` +
        `<img id="captcha" src="/captcha.svg?${crypto.randomBytes(4).toString("hex")}" alt="${esc(t.captchaLabel)}">` +
        `<label>${esc(t.captchaLabel)}<input name="captcha" autocomplete="off" required></label><p class="note">${esc(t.captchaHint)}</p>` +
        `<label>${esc(t.wordLabel)}<input name="word" type="password" required></label><p class="note">${esc(t.wordHint)}</p>` +
        /* Same form, so that the typed ID goes with it. */
        `<button type="submit" id="forgot" formaction="/nes/sozcuk-unuttum" formnovalidate>${esc(t.forgotWord)}</button>`,
        t.login, "login")));
    delete s.loginError;
  },
  "GET /captcha.svg": (s, req, res) => send(res, 200, "image/svg+xml", (DEMO ? captchaSvg : captchaStrokesSvg)(s.captcha || "xxxxx")),
  "POST /nes/sifreli": (s, req, res, t, url, body, ip) => {
    const id = (body.get("id") || "").trim(), word = body.get("word") || "", captcha = (body.get("captcha") || "").trim();
    const fail = (text) => {
      s.loginError = text;
      redirect(res, "/nes/sifreli");
    };
    if (recentFailures(loginFailures, ip).length >= MAX_FAILURES_PER_IP) return fail(t.tooMany);
    const expected = s.captcha;
    delete s.captcha; /* one guess per picture */
    if (!expected || captcha.toLowerCase() !== expected) return fail(t.badCaptcha);
    if (!validTc(id) && !/^[A-Za-z0-9]{6,9}$/.test(id)) return fail(t.badId);
    /* Only now, with an ID of at most 11 characters, is it an account. */
    const account = (findUser(id) || { tc: id.toUpperCase() }).tc;
    if (recentFailures(accountFailures, account).length >= MAX_FAILURES_PER_ACCOUNT) return fail(t.tooMany);
    if (word.length < 8) return fail(t.shortWord);
    const user = findUser(id);
    const record = user || NOBODY;
    const match = crypto.timingSafeEqual(Buffer.from(hashWord(word, record.salt), "hex"), Buffer.from(record.word_hash, "hex"));
    if (!user || !match) {
      recordFailure(loginFailures, ip);
      recordFailure(accountFailures, account);
      audit("login-failed", { id: id.slice(0, 3) + "…", ip });
      return fail(t.badLogin);
    }
    rotateSession(s, res);
    s.state = "password-ok";
    s.user = user.tc;
    audit("login-password-ok", { user: user.tc.slice(0, 3) + "…", ip });
    redirect(res, "/nes/sms-onay");
  },
  "POST /nes/sozcuk-unuttum": (s, req, res, t, url, body, ip) => {
    /* The same answer, at once, whether or not the ID is known, limited or
     * not: nothing to probe. The link is made and sent after the answer. */
    const id = (body.get("id") || "").trim();
    redirect(res, "/nes/sifreli?m=reset");
    setImmediate(() => {
      try {
        sendResetLink(id, ip);
      } catch (e) {
        console.error("site: reset link: " + e.message);
      }
    });
  },
  "GET /nes/sozcuk-yenile": (s, req, res, t, url) => {
    const token = url.searchParams.get("t") || "";
    const entry = resetTokens.get(token);
    if (!entry || entry.expires < now()) return send(res, 400, "text/html; charset=utf-8", page(s, t.resetTitle, message(t.resetBad)));
    send(res, 200, "text/html; charset=utf-8", page(s, t.resetTitle, form(s, "/nes/sozcuk-yenile",
      `<input type="hidden" name="t" value="${esc(token)}"><label>${esc(t.newWord)}<input name="word" type="password" minlength="8" required></label>`, t.save)));
  },
  "POST /nes/sozcuk-yenile": (s, req, res, t, url, body) => {
    const entry = resetTokens.get(body.get("t") || "");
    const word = body.get("word") || "";
    if (!entry || entry.expires < now()) return send(res, 400, "text/html; charset=utf-8", page(s, t.resetTitle, message(t.resetBad)));
    if (word.length < 8) return send(res, 400, "text/html; charset=utf-8", page(s, t.resetTitle, message(t.shortWord)));
    resetTokens.delete(body.get("t"));
    const user = users.find((u) => u.tc === entry.tc);
    user.salt = crypto.randomBytes(16).toString("hex");
    user.word_hash = hashWord(word, user.salt);
    /* Whoever knew the old word is logged out everywhere, and the other
     * links sent for it are void. */
    let ended = 0;
    for (const [id, other] of sessions) {
      if (other.user === user.tc) {
        sessions.delete(id);
        ended++;
      }
    }
    for (const [token, other] of resetTokens) if (other.tc === user.tc) resetTokens.delete(token);
    audit("word-reset-done", { user: user.tc.slice(0, 3) + "…", sessions_ended: ended });
    redirect(res, "/nes/sifreli?m=done");
  },
  "GET /nes/sms-onay": (s, req, res, t) => {
    if (!requireState(s, res, "password-ok")) return;
    const user = users.find((u) => u.tc === s.user);
    send(res, 200, "text/html; charset=utf-8", page(s, t.smsTitle, (s.smsError ? message(s.smsError) : "") +
      `<p>${esc(t.phone)} : <strong id="phone">${esc(maskPhone(user.phone))}</strong></p><p>${esc(t.smsText)}</p><p class="note">${esc(t.smsNotMine)}</p>` +
      form(s, "/nes/sms-onay", "", t.approve, "approve")));
    delete s.smsError;
  },
  "POST /nes/sms-onay": (s, req, res, t) => {
    if (!requireState(s, res, "password-ok")) return;
    s.smsSent = (s.smsSent || []).filter((x) => now() - x < WINDOW_MS);
    if (s.smsSent.length >= 3) {
      s.smsError = t.tooManySms;
      return redirect(res, "/nes/sms-onay");
    }
    s.smsSent.push(now());
    const code = String(crypto.randomInt(100000, 1000000));
    s.sms = { code, expires: now() + SMS_LIFETIME_S * 1000, attempts: 0 };
    const user = users.find((u) => u.tc === s.user);
    deliver("sms", maskPhone(user.phone), code);
    redirect(res, "/nes/sms-kod");
  },
  "GET /nes/sms-kod": (s, req, res, t) => {
    if (!requireState(s, res, "password-ok") ) return;
    if (!s.sms) return redirect(res, "/nes/sms-onay");
    const left = Math.max(0, Math.round((s.sms.expires - now()) / 1000));
    send(res, 200, "text/html; charset=utf-8", page(s, t.codeTitle, (s.codeError ? message(s.codeError) : "") +
      `<p>${esc(t.codeIntro)}</p><p>${esc(t.codeLeft)} <strong id="countdown" data-left="${left}">${left}</strong> ${esc(t.seconds)}</p>` +
      form(s, "/nes/sms-kod", `<label>${esc(t.codeLabel)}<input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>`, t.send, "code"),
    { scripts: ["/static/countdown.js"] }));
    delete s.codeError;
  },
  "POST /nes/sms-kod": (s, req, res, t, url, body) => {
    if (!requireState(s, res, "password-ok")) return;
    if (!s.sms || now() > s.sms.expires) {
      audit("sms-expired", { user: s.user.slice(0, 3) + "…" });
      resetLogin(s);
      return redirect(res, "/nes/sifreli?m=expired");
    }
    const code = (body.get("code") || "").trim();
    if (!sameSecret(code, s.sms.code)) {
      s.sms.attempts++;
      if (s.sms.attempts >= 3) {
        resetLogin(s);
        return redirect(res, "/nes/sifreli?m=codes");
      }
      s.codeError = t.badCode;
      return redirect(res, "/nes/sms-kod");
    }
    rotateSession(s, res);
    s.state = "authenticated";
    delete s.sms;
    audit("login-sms-ok", { user: s.user.slice(0, 3) + "…" });
    redirect(res, "/nes/islemler");
  },
  "GET /nes/islemler": (s, req, res, t) => {
    if (!requireState(s, res, "authenticated")) return;
    send(res, 200, "text/html; charset=utf-8", page(s, t.menuTitle,
      `<nav class="tiles"><a id="kilit" href="/nes/kilit-cozme">${esc(t.unlock)}</a></nav>` + form(s, "/logout", "", t.logout, "logout")));
  },
  "GET /nes/kilit-cozme": (s, req, res, t) => {
    if (!requireState(s, res, "authenticated")) return;
    send(res, 200, "text/html; charset=utf-8", page(s, t.unlockTitle,
      `<div id="status" role="status"></div><fieldset id="chooser" hidden><legend>${esc(t.c.chooseCard)}</legend>` +
      `<div id="choices"></div></fieldset><dl id="card"><dt>${esc(t.reader)}</dt><dd id="reader">–</dd>` +
      `<dt>${esc(t.cardSerial)}</dt><dd id="serial">–</dd><dt>${esc(t.pinTries)}</dt><dd id="tries">–</dd></dl>` +
      `<h2>${esc(t.newPin)}</h2><p id="pin-hint">${esc(t.pinHint)}</p><button id="make-pin" type="button" disabled>${esc(t.makePin)}</button>` +
      `<p id="result" role="alert"></p>` + form(s, "/logout", "", t.logout, "logout"),
    { scripts: ["/lib/nes-bridge.js", "/static/akis.js", "/static/unlock.js"], data: { csrf: s.csrf, lang: s.lang, messages: t.c, success: t.success, test: TEST ? "1" : "" } }));
  },
  "POST /api/unlock/prepare": async (s, req, res, t, url, body) => {
    if (s.state !== "authenticated") return send(res, 403, "application/json", JSON.stringify({ error: "session" }));
    if (!unlockCallAllowed(s, "prepares")) return send(res, 429, "application/json", JSON.stringify({ error: "rate" }), { "Retry-After": "900" });
    const { nonce, challenge, atr, serial } = body;
    const user = users.find((u) => u.tc === s.user);
    if (![nonce, challenge, atr, serial].every((v) => typeof v === "string") || !/^[0-9A-F]{64}$/i.test(nonce) ||
        !/^[0-9A-F]{16}$/i.test(challenge) || !/^[0-9A-F]{4,66}$/i.test(atr) || !/^[A-Z0-9]{1,32}$/.test(serial)) {
      return send(res, 400, "application/json", JSON.stringify({ error: "bad-request" }));
    }
    if (serial !== user.card_serial) {
      audit("unlock-refused", { user: user.tc.slice(0, 3) + "…", serial, reason: "wrong-card" });
      return send(res, 409, "application/json", JSON.stringify({ error: "wrong-card" }));
    }
    if (signerHalted) {
      audit("unlock-sign-refused", { user: user.tc.slice(0, 3) + "…", serial, reason: "signer-halted", exit_code: signerHalted.exit_code });
      return send(res, 503, "application/json", JSON.stringify({ error: "signer" }));
    }
    if (signing >= MAX_SIGNING) {
      return send(res, 503, "application/json", JSON.stringify({ error: "busy" }), { "Retry-After": "10" });
    }
    const script = authority.unlockScript({ nonce, atr, serial, challenge, master: masterKey, now: now() });
    let signed;
    signing++;
    try {
      signed = await signScript(script);
    } catch (e) {
      const exitCode = e.exitCode === undefined ? null : e.exitCode;
      audit("unlock-sign-failed", { user: user.tc.slice(0, 3) + "…", serial, exit_code: exitCode });
      console.error("site: " + e.message);
      if (exitCode === 4 || exitCode === 5) {
        signerHalted = { exit_code: exitCode };
        audit("signer-halted", { exit_code: exitCode });
        console.error("site: the signer is halted (its PIN was refused or is locked); fix the PIN, then restart the server");
      }
      return send(res, 503, "application/json", JSON.stringify({ error: "signer" }));
    } finally {
      signing--;
    }
    /* What was signed, for whom: never the script's APDUs (its secret
     * steps), only their hash. */
    audit("unlock-prepared", { user: user.tc.slice(0, 3) + "…", serial, key_id: signed.key_id,
      not_after: JSON.parse(script).not_after, nonce: nonce.slice(0, 8) + "…",
      script_sha256: crypto.createHash("sha256").update(script).digest("hex") });
    send(res, 200, "application/json", JSON.stringify(signed));
  },
  "POST /api/unlock/result": (s, req, res, t, url, body) => {
    if (s.state !== "authenticated") return send(res, 403, "application/json", JSON.stringify({ error: "session" }));
    if (!unlockCallAllowed(s, "results")) return send(res, 429, "application/json", JSON.stringify({ error: "rate" }), { "Retry-After": "900" });
    const code = typeof body.code === "string" ? body.code.slice(0, 40) : "?";
    audit("unlock-result", { user: s.user.slice(0, 3) + "…", completed: body.completed === true, code });
    send(res, 200, "application/json", "{}");
  },
  "POST /logout": (s, req, res) => {
    resetLogin(s);
    rotateSession(s, res);
    redirect(res, "/nes/sifreli?m=out");
  },
  "GET /lang": (s, req, res, t, url) => {
    s.lang = url.searchParams.get("to") === "en" ? "en" : "tr";
    let back = "/";
    try {
      const referer = new URL(req.headers.referer || "");
      /* Only a path of this site: one '/', not "//host" or "/\host",
       * which a browser takes for another site. */
      if (referer.host === req.headers.host && /^\/(?![/\\])/.test(referer.pathname)) back = referer.pathname;
    } catch (e) {
      /* no Referer, or one that is not a URL: home */
    }
    redirect(res, back);
  },
};

/* Demo mode only: every code and link sent, shown to anyone. */
const DEMO_ROUTES = {
  "GET /demo/sms": (s, req, res, t) => send(res, 200, "text/html; charset=utf-8", page(s, t.outboxSms, outbox.sms.length === 0 ? message(t.outboxEmpty, "ok") :
    `<ol id="outbox">${outbox.sms.slice().reverse().map((m) => `<li>${esc(new Date(m.time).toISOString())} → ${esc(m.to)}: <code class="sms-code">${esc(m.text)}</code></li>`).join("")}</ol>`)),
  "GET /demo/mail": (s, req, res, t) => send(res, 200, "text/html; charset=utf-8", page(s, t.outboxMail, outbox.mail.length === 0 ? message(t.outboxEmpty, "ok") :
    `<ol id="outbox">${outbox.mail.slice().reverse().map((m) => `<li>${esc(new Date(m.time).toISOString())} → ${esc(m.to)}: <a href="${esc(m.text)}">${esc(m.text)}</a></li>`).join("")}</ol>`)),
};
if (DEMO) Object.assign(routes, DEMO_ROUTES);

/* The pages that start a session: the login form (its captcha), the reset
 * form, the language. Every other route works with the session it finds
 * or with none. */
const SESSION_ROUTES = new Set(["GET /nes/sifreli", "GET /nes/sozcuk-yenile", "GET /lang"]);
const JSON_ROUTES = new Set(["POST /api/unlock/prepare", "POST /api/unlock/result"]);

const STATIC = {
  "/static/style.css": [path.join(__dirname, "public", "style.css"), "text/css; charset=utf-8"],
  "/static/unlock.js": [path.join(__dirname, "public", "unlock.js"), "text/javascript; charset=utf-8"],
  "/static/akis.js": [path.join(__dirname, "public", "akis.js"), "text/javascript; charset=utf-8"],
  "/static/countdown.js": [path.join(__dirname, "public", "countdown.js"), "text/javascript; charset=utf-8"],
  "/lib/nes-bridge.js": [path.join(ROOT, "extension", "page", "nes-bridge.js"), "text/javascript; charset=utf-8"],
};

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://localhost");
    if (req.method === "GET" && STATIC[url.pathname]) {
      const [file, type] = STATIC[url.pathname];
      return send(res, 200, type, fs.readFileSync(file));
    }
    if (TEST && req.method === "POST" && url.pathname === "/__test/clock") {
      clockOffset += Number(JSON.parse(await readBody(req, 1024)).advance_seconds || 0) * 1000;
      sweep();
      return send(res, 200, "application/json", JSON.stringify({ offset_s: clockOffset / 1000 }));
    }
    if (TEST && req.method === "GET" && url.pathname === "/__test/state") {
      return send(res, 200, "application/json", JSON.stringify({ sessions: sessions.size, login_failures: loginFailures.size,
        account_failures: accountFailures.size, reset_tokens: resetTokens.size, resets_sent: resetsSent.size,
        resets_asked: resetsAsked.size, scrypt_calls: scryptCalls }));
    }
    const s = getSession(req);
    const t = s.lang === "en" ? en : tr;
    const handler = routes[req.method + " " + url.pathname];
    if (!handler) return send(res, 404, "text/html; charset=utf-8", page(s, "404", ""));
    if (SESSION_ROUTES.has(req.method + " " + url.pathname) && !keepSession(s, res)) {
      return send(res, 503, "text/html; charset=utf-8", page(s, "503", message(t.busy)), { "Retry-After": "60" });
    }
    let body = null;
    if (req.method === "POST") {
      const raw = await readBody(req, 16384);
      const isJson = (req.headers["content-type"] || "").startsWith("application/json");
      /* Each route takes one kind of body: the API JSON, the rest forms. */
      if (isJson !== JSON_ROUTES.has(req.method + " " + url.pathname)) {
        return send(res, 400, "application/json", JSON.stringify({ error: "bad-request" }));
      }
      try {
        body = isJson ? JSON.parse(raw || "{}") : new URLSearchParams(raw);
      } catch (e) {
        return send(res, 400, "application/json", JSON.stringify({ error: "bad-request" }));
      }
      if (isJson && (body === null || typeof body !== "object" || Array.isArray(body))) {
        return send(res, 400, "application/json", JSON.stringify({ error: "bad-request" }));
      }
      const token = isJson ? req.headers["x-csrf-token"] : body.get("csrf");
      if (!s.id || !sameSecret(token, s.csrf)) return send(res, 403, "text/html; charset=utf-8", page(s, "403", message(t.csrf)));
    }
    const ip = clientAddress(req);
    await handler(s, req, res, t, url, body, ip);
  } catch (e) {
    send(res, 500, "text/plain", "internal error");
    console.error("site:", e.message);
  }
});

server.listen(PORT, "127.0.0.1", () => console.log(`site: http://localhost:${PORT}/ (data ${DATA}` +
  `${DEMO ? ", DEMO MODE: codes shown at /demo/sms and /demo/mail, captcha readable" : ""}` +
  `${TEST ? ", test hooks on" : ""}, signer ${process.env.SIGNER || "pem"})`));
