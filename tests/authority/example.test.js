/* SPDX-License-Identifier: Apache-2.0 */
/* docs/authority.md's worked example, run as it is written: the shell
 * blocks between its worked-example markers, against SoftHSM2, the real
 * host and the virtual card (pcscd + card up). */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { spawnSync, execFileSync } = require("child_process");
const { BUILD } = require("../battery/host");
const H = require("../browser/harness");

const ROOT = path.resolve(__dirname, "..", "..");
const READER = "nesbridge Virtual Reader 00 00";

function example() {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "authority.md"), "utf8");
  const part = doc.split("<!-- worked-example:begin -->")[1].split("<!-- worked-example:end -->")[0];
  return Array.from(part.matchAll(/```sh\n([\s\S]*?)```/g), (m) => m[1]).join("\n");
}

test("docs/authority.md's worked example unlocks the virtual card with a key in the HSM", async () => {
  const script = example();
  assert.match(script, /softhsm2-util --init-token/);
  assert.match(script, /holder\.js/);
  await H.vcardControl("reset-state pin-locked");
  const env = Object.assign({}, process.env, { NB_BUILD: path.relative(ROOT, BUILD) });
  delete env.NESBRIDGE_PKCS11_PIN;
  delete env.SOFTHSM2_CONF;
  const r = spawnSync("sh", ["-eu", "-c", script], { cwd: ROOT, env, timeout: 120000 });
  const out = r.stdout.toString();
  assert.strictEqual(r.status, 0, out + r.stderr.toString());
  assert.match(out, /^key id: [0-9A-F]{64}$/m);
  assert.match(out, /page -> server {2}POST \/api\/unlock\/prepare \{"nonce":"[0-9A-F]{64}"/i);
  assert.match(out, /host -> page {4}\{"completed":true,"stopped_at":null/);
  assert.match(await H.vcardControl("status"), /pin_tries=3 puk_tries=10 new_pin_required=0/);
  const verify = execFileSync(path.join(BUILD, "tests", "pcsc-apdu"),
    [READER, "0020008108" + Buffer.from("24681357").toString("hex").toUpperCase()]).toString();
  assert.match(verify, /9000\s*$/);
  /* The private key stayed in the token: no key file was made. */
  const made = fs.readdirSync(path.join(BUILD, "authority-example"));
  assert.deepStrictEqual(made.filter((f) => /\.(key|p8|der)$/.test(f)), []);
});
