/* SPDX-License-Identifier: Apache-2.0 */
/* Key rotation and withdrawal, against the real host and the virtual card:
 * two keys in the trust directory (the outgoing one in a PEM file, the
 * incoming one in the HSM) are both trusted; a key file removed (what a
 * package update does in /etc/nesbridge/trust.d) is unknown-key from the
 * next host start on, while the other still works. docs/authority.md. */
"use strict";

const { test, before } = require("node:test");
const assert = require("node:assert");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { makeToken } = require("./softhsm");
const holder = require("./holder");
const { BUILD } = require("../battery/host");
const H = require("../browser/harness");

const SIGN = path.join(BUILD, "nesbridge-sign");
const WORK = path.join(BUILD, "authority-rotation");
const READER = "nesbridge Virtual Reader 00 00";
let env, trust, oldKey, newUri;

before(async () => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true, mode: 0o755 });
  trust = path.join(WORK, "trust");
  fs.mkdirSync(trust, { mode: 0o755 });
  /* The key in service until now (a PEM file, as before the HSM)... */
  oldKey = path.join(WORK, "authority-2024.key");
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", oldKey], { stdio: "ignore" });
  fs.writeFileSync(path.join(trust, "kamusm-2024.pem"), execFileSync(SIGN, ["--public-key", oldKey]), { mode: 0o644 });
  /* ...and its successor, generated in the HSM. */
  const tok = makeToken(path.join(WORK, "hsm"));
  tok.generate("authority-2025", "2025", "EC:prime256v1");
  newUri = tok.uri("authority-2025", { pin: "file" });
  env = tok.env;
  fs.writeFileSync(path.join(trust, "kamusm-2025.pem"), execFileSync(SIGN, ["--public-key", newUri], { env }), { mode: 0o644 });
  env.NESBRIDGE_CONFIG = H.hostConfig(WORK, holder.ORIGIN, trust);
  await H.vcardControl("reset-state fresh");
});

/* A harmless signed script (one GET CHALLENGE) for the connected card,
 * signed with key (a PEM file or a URI); returns run-script's code. */
async function runSigned(session, key) {
  const { host, handle, atr } = session;
  const nonce = holder.must(await holder.call(host, "get-nonce", { handle }), "get-nonce").nonce;
  const file = path.join(WORK, "script-" + crypto.randomBytes(4).toString("hex") + ".json");
  const notAfter = new Date(Date.now() + 120000).toISOString().replace(/\.\d+Z$/, "Z");
  fs.writeFileSync(file, JSON.stringify({ version: 1, nonce, atr, not_after: notAfter,
    steps: [{ apdu: "0084000008", expect: ["9000"] }] }));
  const signed = JSON.parse(execFileSync(SIGN, ["--key", key, "--in", file], { env }).toString());
  const reply = await holder.call(host, "run-script", Object.assign({ handle }, signed), 20000);
  return reply.ok ? (reply.result.completed ? "completed" : "stopped") : reply.error.code;
}

async function withHost(fn) {
  const session = await holder.open(READER, env);
  try {
    return await fn(session);
  } finally {
    await session.host.end(2000);
  }
}

test("two keys trusted at once: scripts signed with either run", async () => {
  await withHost(async (s) => {
    assert.strictEqual(await runSigned(s, oldKey), "completed");
    assert.strictEqual(await runSigned(s, newUri), "completed");
    assert.strictEqual(await runSigned(s, oldKey), "completed");
  });
});

test("a key removed from the trust directory is unknown-key from the next host start; the other still runs", async () => {
  await withHost(async (running) => {
    assert.strictEqual(await runSigned(running, oldKey), "completed");
    fs.rmSync(path.join(trust, "kamusm-2024.pem"));
    /* A host already running keeps the keys it loaded with its first
     * script: a withdrawal takes effect as hosts start (each browser
     * connection starts one). */
    assert.strictEqual(await runSigned(running, oldKey), "completed");
    await withHost(async (next) => {
      assert.strictEqual(await runSigned(next, oldKey), "unknown-key");
      assert.strictEqual(await runSigned(next, newUri), "completed");
    });
  });
  /* A key put back is trusted again at the next start. */
  fs.writeFileSync(path.join(trust, "kamusm-2024.pem"), execFileSync(SIGN, ["--public-key", oldKey]), { mode: 0o644 });
  await withHost(async (s) => assert.strictEqual(await runSigned(s, oldKey), "completed"));
});
