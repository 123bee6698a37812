/* SPDX-License-Identifier: Apache-2.0 */
/* Brings up what the unlock needs for end-to-end runs: seeded demo data,
 * the site (with test hooks), the dev build of the extension for the
 * site's origin, the host configuration. pcscd + card come from
 * tests/vcard.sh (make vcard-up). */
"use strict";

const fs = require("fs");
const path = require("path");
const { spawn, execFileSync } = require("child_process");
const H = require("../browser/harness");

const ROOT = H.ROOT;

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch (e) {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error("site did not start: " + url);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/* demo: the site in demo mode (codes at /demo/sms, readable captcha; the
 * default); siteEnv: more of the site's environment (SIGNER=pkcs11...). */
async function startStack({ port, dataDir, test, demo, siteEnv }) {
  const origin = "http://localhost:" + port;
  const env = Object.assign({}, process.env, { NESBRIDGE_SIGN: path.join(H.BUILD, "nesbridge-sign") }, siteEnv || {});
  execFileSync("node", [path.join(ROOT, "site", "seed.js"), dataDir, origin], { stdio: ["ignore", "ignore", "inherit"], env });
  const site = spawn("node", [path.join(ROOT, "site", "server.js")], {
    env: Object.assign(env, { PORT: String(port), SITE_DATA: dataDir, NB_SITE_TEST: test ? "1" : "",
      SITE_DEMO: demo === false ? "" : "1" }),
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForHttp(origin + "/", 10000);
  const ext = H.buildExtension(path.join(dataDir, "extension"), [origin]);
  return {
    origin,
    ext,
    env: { NESBRIDGE_CONFIG: path.join(dataDir, "nesbridge.conf") },
    async advanceClock(seconds) {
      await fetch(origin + "/__test/clock", { method: "POST", body: JSON.stringify({ advance_seconds: seconds }) });
    },
    stop() {
      site.kill();
    },
  };
}

/* Reads the demo captcha's letters out of its SVG (the demo's captcha is
 * a formality; a real one would not be readable like this). */
function captchaText(svg) {
  return Array.from(svg.matchAll(/<text[^>]*>([a-z])<\/text>/g), (m) => m[1]).join("");
}

module.exports = { startStack, captchaText, H };
