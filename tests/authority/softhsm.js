/* SPDX-License-Identifier: Apache-2.0 */
/* SoftHSM2, the test stand-in for the authority's HSM: a private token
 * directory and configuration under the build directory (SOFTHSM2_CONF),
 * a token made with softhsm2-util, keys generated inside it with
 * pkcs11-tool (OpenSC). The PINs go through the environment or a file,
 * never an argument of ours. */
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const MODULE = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
  .find((p) => fs.existsSync(p)) || "/usr/lib/softhsm/libsofthsm2.so";

const CKF_USER_PIN_FINAL_TRY = 1n << 17n;
const CKF_USER_PIN_LOCKED = 1n << 18n;

/* A fresh token in dir: { dir, env, pinFile, uri(object, opts) }. */
function makeToken(dir, { label, pin, soPin } = {}) {
  const o = { label: label || "nbauth", pin: pin || "246810", soPin: soPin || "13579246" };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "tokens"), { recursive: true, mode: 0o700 });
  const conf = path.join(dir, "softhsm2.conf");
  fs.writeFileSync(conf, `directories.tokendir = ${path.join(dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = Object.assign({}, process.env, { SOFTHSM2_CONF: conf });
  delete env.NESBRIDGE_PKCS11_PIN;
  /* softhsm2-util takes its PINs as arguments only: a throw-away token. */
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", o.label, "--pin", o.pin, "--so-pin", o.soPin],
    { env, stdio: "ignore" });
  const pinFile = path.join(dir, "pin");
  fs.writeFileSync(pinFile, o.pin + "\n", { mode: 0o600 });
  return {
    dir, env, pinFile, label: o.label, pin: o.pin,
    /* The URI of a key; opts.pin: "file" (pin-source), or none. */
    uri(object, opts) {
      const p = opts || {};
      let u = `pkcs11:token=${o.label};object=${object}` + (p.type ? `;type=${p.type}` : "") + `?module-path=${MODULE}`;
      if (p.pin === "file") u += `&pin-source=file:${p.pinFile || pinFile}`;
      return u;
    },
    /* Generates a key pair inside the token (never extractable); extra:
     * more pkcs11-tool options, such as --always-auth. */
    generate(object, id, keyType, extra) {
      execFileSync("pkcs11-tool", ["--module", MODULE, "--token-label", o.label, "--login", "--pin", "env:NB_TEST_PIN",
        "--keypairgen", "--key-type", keyType, "--label", object, "--id", id, ...(extra || [])],
      { env: Object.assign({}, env, { NB_TEST_PIN: o.pin }), stdio: "ignore" });
    },
    /* Writes an object from a file into the token (C_CreateObject), e.g. a
     * private key from a PEM file: type "privkey" or "pubkey". */
    writeObject(file, type, object, id, extra) {
      execFileSync("pkcs11-tool", ["--module", MODULE, "--token-label", o.label, "--login", "--pin", "env:NB_TEST_PIN",
        "--write-object", file, "--type", type, "--label", object, "--id", id, ...(extra || [])],
      { env: Object.assign({}, env, { NB_TEST_PIN: o.pin }), stdio: "ignore" });
    },
    /* pkcs11-tool's listing of the token's objects. */
    list() {
      return execFileSync("pkcs11-tool", ["--module", MODULE, "--token-label", o.label, "--login", "--pin", "env:NB_TEST_PIN",
        "--list-objects"], { env: Object.assign({}, env, { NB_TEST_PIN: o.pin }) }).toString();
    },
    /* Sets (or clears) a user-PIN flag as an HSM does after wrong tries:
     * SoftHSM2 keeps CKF_USER_PIN_LOCKED and CKF_USER_PIN_FINAL_TRY in its
     * token flags but never sets them itself, so the flag is set in the
     * token's file (the file object store: 8-byte type, kind 2 = unsigned
     * long, then the value). */
    setUserPinFlag(flag, on) {
      const tokenDir = path.join(dir, "tokens", fs.readdirSync(path.join(dir, "tokens"))[0]);
      const file = path.join(tokenDir, "token.object");
      const bytes = fs.readFileSync(file);
      const marker = Buffer.from("000000008000534b0000000000000002", "hex"); /* CKA_OS_TOKENFLAGS, ulong */
      const at = bytes.indexOf(marker);
      if (at < 0) throw new Error("SoftHSM token flags not found");
      const flags = bytes.readBigUInt64BE(at + marker.length);
      bytes.writeBigUInt64BE(on === false ? flags & ~flag : flags | flag, at + marker.length);
      fs.writeFileSync(file, bytes);
    },
    lockUserPin() { this.setUserPinFlag(CKF_USER_PIN_LOCKED); },
  };
}

module.exports = { makeToken, MODULE, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED };
