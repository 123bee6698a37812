#!/usr/bin/env node
/* SPDX-License-Identifier: Apache-2.0 */
/* Creates the demo site's data: one demo holder, the DEMO authority signing
 * key (its public half goes to the host's trust directory), the DEMO master
 * key of the virtual cards, and the host configuration for the demo origin.
 * With SIGNER=pkcs11 no key is made here: the public half of the token's
 * key (SIGNER_PKCS11_URI) goes to the trust directory.
 *   node site/seed.js DATA_DIR [ORIGIN] */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const dir = path.resolve(process.argv[2] || path.join(__dirname, "data"));
const origin = process.argv[3] || "http://localhost:8443";
fs.mkdirSync(path.join(dir, "trust"), { recursive: true, mode: 0o755 });
fs.chmodSync(path.join(dir, "trust"), 0o755);

let publicPem;
if (process.env.SIGNER === "pkcs11") {
  /* The key stays in the token: only its public half is published, read
   * from the token by nesbridge-sign (docs/authority.md). */
  const tool = process.env.NESBRIDGE_SIGN || path.join(__dirname, "..", "build", "nesbridge-sign");
  publicPem = require("child_process").execFileSync(tool, ["--public-key", process.env.SIGNER_PKCS11_URI || ""],
    { stdio: ["ignore", "pipe", "inherit"] }).toString();
} else {
  const keyFile = path.join(dir, "authority.key");
  if (!fs.existsSync(keyFile)) {
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    fs.writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  publicPem = crypto.createPublicKey(fs.readFileSync(keyFile)).export({ type: "spki", format: "pem" });
}
fs.writeFileSync(path.join(dir, "trust", "demo-authority.pem"), publicPem, { mode: 0o644 });
fs.chmodSync(path.join(dir, "trust", "demo-authority.pem"), 0o644);

/* DEMO ONLY: the same published master key the virtual card uses. */
fs.writeFileSync(path.join(dir, "master.hex"), "4E4553425249444745444D4F4B455931\n", { mode: 0o600 });

/* Two demo holders, the same security word: the first holds the plain
 * virtual reader's card, the second the pinpad reader's (docs/card-profile.md). */
const holder = (tc, passport, phone, email, cardSerial) => {
  const salt = crypto.randomBytes(16).toString("hex");
  return { tc, passport, phone, email, card_serial: cardSerial, salt,
    word_hash: crypto.scryptSync("guvenli-sozcuk", Buffer.from(salt, "hex"), 32).toString("hex") };
};
const users = [
  holder("10000000146", "U12345678", "5331234567", "demo.kullanici@example.org", "NB0000000001"),
  holder("10000000214", "U23456789", "5339876543", "demo.tustakimi@example.org", "NB0000000002"),
];
fs.writeFileSync(path.join(dir, "users.json"), JSON.stringify(users, null, 2) + "\n", { mode: 0o600 });

fs.writeFileSync(path.join(dir, "nesbridge.conf"),
  "# nesbridge-host configuration for the demo site (DEMO ONLY)\n" +
  "allow_origin = " + origin + "\ntrust_dir = " + path.join(dir, "trust") + "\n", { mode: 0o600 });
fs.chmodSync(path.join(dir, "nesbridge.conf"), 0o600);
console.log("seed: demo data in " + dir + " (holders TC 10000000146 and, with the pinpad reader's card, 10000000214; " +
  "security word guvenli-sozcuk)");
