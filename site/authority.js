/* SPDX-License-Identifier: Apache-2.0 */
/* The authority's card cryptography and script signing, for the demo site
 * (the same as vcard/sm.c and tests/support/authority.c; vectors in
 * docs/card-profile.md, checked by tests/js/authority.test.js). */
"use strict";

const crypto = require("crypto");

const BLOCK = 16;

function pad(buf) {
  const len = (Math.floor(buf.length / BLOCK) + 1) * BLOCK;
  const out = Buffer.alloc(len);
  buf.copy(out);
  out[buf.length] = 0x80;
  return out;
}

function aesCbc(key, iv, data) {
  const c = crypto.createCipheriv("aes-128-cbc", key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/* AES-CMAC (NIST SP 800-38B). */
function cmac(key, msg) {
  const zero = Buffer.alloc(BLOCK);
  const l = aesCbc(key, zero, zero);
  const dbl = (b) => {
    const out = Buffer.alloc(BLOCK);
    let carry = 0;
    for (let i = BLOCK - 1; i >= 0; i--) {
      out[i] = ((b[i] << 1) | carry) & 0xff;
      carry = b[i] >> 7;
    }
    if (b[0] & 0x80) out[BLOCK - 1] ^= 0x87;
    return out;
  };
  const k1 = dbl(l), k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(msg.length / BLOCK));
  const complete = msg.length > 0 && msg.length % BLOCK === 0;
  const last = Buffer.alloc(BLOCK);
  const tail = msg.subarray((n - 1) * BLOCK);
  if (complete) {
    for (let i = 0; i < BLOCK; i++) last[i] = tail[i] ^ k1[i];
  } else {
    const padded = Buffer.alloc(BLOCK);
    tail.copy(padded);
    padded[tail.length] = 0x80;
    for (let i = 0; i < BLOCK; i++) last[i] = padded[i] ^ k2[i];
  }
  const data = Buffer.concat([msg.subarray(0, (n - 1) * BLOCK), last]);
  const out = aesCbc(key, zero, data);
  return out.subarray(out.length - BLOCK);
}

function kdf(seed, counter) {
  const c = Buffer.alloc(4);
  c.writeUInt32BE(counter);
  return crypto.createHash("sha256").update(Buffer.concat([seed, c])).digest().subarray(0, 16);
}

function adminKey(master, serial) {
  return cmac(master, Buffer.concat([Buffer.from([0x01]), Buffer.from("nesbridge-admin\0"), Buffer.from(serial, "ascii")]));
}

function cardKey(admin, rndIc, rndIfd) {
  return cmac(admin, Buffer.concat([Buffer.from([0x02]), rndIc, rndIfd]));
}

/* E || M over RND.IFD || RND.IC || K.IFD. */
function authRequest(admin, rndIc, rndIfd, kIfd) {
  const e = aesCbc(kdf(admin, 1), Buffer.alloc(BLOCK), Buffer.concat([rndIfd, rndIc, kIfd]));
  return Buffer.concat([e, cmac(kdf(admin, 2), e).subarray(0, 8)]);
}

/* Protects a short command APDU (no data) with the session keys. */
function smWrap(kIfd, kIc, ssc, apdu) {
  const seed = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) seed[i] = kIfd[i] ^ kIc[i];
  const kMac = kdf(seed, 2);
  if (apdu.length !== 4) throw new Error("smWrap: only case 1 commands are needed here");
  const header = Buffer.from(apdu);
  header[0] |= 0x0c;
  const counter = Buffer.alloc(BLOCK);
  counter.writeUInt32BE(ssc, 12);
  const mac = cmac(kMac, pad(Buffer.concat([counter, pad(header)]))).subarray(0, 8);
  return Buffer.concat([header, Buffer.from([0x0a, 0x8e, 0x08]), mac, Buffer.from([0x00])]);
}

/* The APDUs of the authority unlock for a card's challenge. */
function unlockApdus(master, serial, rndIc, random) {
  const rnd = random || crypto.randomBytes;
  const admin = adminKey(master, serial);
  const rndIfd = rnd(8), kIfd = rnd(16);
  const kIc = cardKey(admin, rndIc, rndIfd);
  const auth = Buffer.concat([Buffer.from("0082000028", "hex"), authRequest(admin, rndIc, rndIfd, kIfd), Buffer.from([0x28])]);
  const rrc = smWrap(kIfd, kIc, 1, Buffer.from("002C0381", "hex"));
  return { auth: auth.toString("hex").toUpperCase(), rrc: rrc.toString("hex").toUpperCase() };
}

function keyId(publicKey) {
  return crypto.createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").toUpperCase();
}

/* The unlock script (its exact bytes, before signing): authenticate,
 * protected RESET RETRY COUNTER, then the new PIN typed in the extension.
 * lifetimeSeconds: how long it may be used (not_after), 120 s by default. */
function unlockScript({ nonce, atr, serial, challenge, master, lifetimeSeconds, now }) {
  const { auth, rrc } = unlockApdus(master, serial, Buffer.from(challenge, "hex"));
  const notAfter = new Date(now + (lifetimeSeconds || 120) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  return Buffer.from(JSON.stringify({
    version: 1, nonce, atr, not_after: notAfter,
    steps: [
      { apdu: auth, expect: ["9000"], secret: true },
      { apdu: rrc, expect: ["9000"], secret: true },
      { new_pin: { apdu_prefix: "00240181", min_len: 6, max_len: 8, charset: "digits", confirm: true,
        pad_to: 8, pad_byte: "FF" }, expect: ["9000"] },
    ],
  }));
}

/* Signs a script's bytes with a private key held here (a PEM file: the
 * demo's default signer). */
function signWithKey(privateKey, script) {
  const signature = crypto.sign("sha256", script, { key: privateKey, dsaEncoding: "der" });
  return { script: script.toString("base64"), signature: signature.toString("base64"),
    key_id: keyId(crypto.createPublicKey(privateKey)) };
}

/* Signs a script's bytes with a key that stays in a PKCS#11 token, through
 * nesbridge-sign (the script on its stdin; the PIN from the URI's
 * pin-source or NESBRIDGE_PKCS11_PIN in env, never an argument). The tool
 * gives up on the token after timeoutSeconds (20 by default; its
 * NESBRIDGE_SIGN_TIMEOUT) and exits 7; it is killed only 5 s later, if it
 * has not ended by then. Resolves with {script, signature, key_id};
 * rejects with the tool's exit code (null when killed) and its message. */
function signWithToken(script, { tool, uri, env, timeoutSeconds }) {
  const { execFile } = require("child_process");
  const seconds = timeoutSeconds || 20;
  const childEnv = Object.assign({}, env || process.env, { NESBRIDGE_SIGN_TIMEOUT: String(seconds) });
  return new Promise((resolve, reject) => {
    const child = execFile(tool, ["--key", uri, "--in", "-"], { env: childEnv, timeout: (seconds + 5) * 1000,
      killSignal: "SIGKILL", maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error("nesbridge-sign: " + (String(stderr).trim() || err.message));
        e.exitCode = typeof err.code === "number" ? err.code : null;
        return reject(e);
      }
      try {
        const signed = JSON.parse(stdout);
        if (signed.script !== script.toString("base64")) throw new Error("signed other bytes");
        resolve(signed);
      } catch (parseError) {
        reject(new Error("nesbridge-sign: unexpected output: " + parseError.message));
      }
    });
    child.stdin.on("error", () => {});
    child.stdin.end(script);
  });
}

function signedUnlockScript(privateKey, params) {
  return signWithKey(privateKey, unlockScript(params));
}

module.exports = { cmac, kdf, adminKey, cardKey, authRequest, smWrap, unlockApdus, keyId, unlockScript, signWithKey,
  signWithToken, signedUnlockScript };

/* From the command line, the script an authority's server builds for one
 * card and one moment (docs/authority.md, worked example):
 *   node site/authority.js unlock-script MASTER_HEX_FILE < {"nonce","challenge","atr","serial"}
 * prints the script's exact bytes, to be signed by nesbridge-sign. */
if (require.main === module) {
  const fs = require("fs");
  const [command, masterFile] = process.argv.slice(2);
  if (command !== "unlock-script" || !masterFile) {
    process.stderr.write("usage: node site/authority.js unlock-script MASTER_HEX_FILE < request.json\n");
    process.exit(2);
  }
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  const ok = [request.nonce, request.challenge, request.atr, request.serial].every((v) => typeof v === "string") &&
    /^[0-9A-F]{64}$/i.test(request.nonce) && /^[0-9A-F]{16}$/i.test(request.challenge) &&
    /^[0-9A-F]{4,66}$/i.test(request.atr) && /^[A-Z0-9]{1,32}$/.test(request.serial);
  if (!ok) {
    process.stderr.write("authority: the request needs nonce (64 hex), challenge (16 hex), atr (hex), serial\n");
    process.exit(1);
  }
  const master = Buffer.from(fs.readFileSync(masterFile, "utf8").trim(), "hex");
  process.stdout.write(unlockScript(Object.assign({ master, now: Date.now() }, request)));
}
