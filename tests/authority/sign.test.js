/* SPDX-License-Identifier: Apache-2.0 */
/* nesbridge-sign with the key in an HSM (SoftHSM2): a token with a P-256
 * and an RSA-3072 key generated inside it; unlock scripts signed through
 * the token and accepted by the real host against the virtual card
 * (pcscd + card up, as tests/run_integration.sh brings them); each failure
 * a clear message and its documented exit code (docs/authority.md). */
"use strict";

const { test, before } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { spawnSync, execFileSync } = require("child_process");
const { makeToken, CKF_USER_PIN_FINAL_TRY } = require("./softhsm");
const holder = require("./holder");
const { BUILD } = require("../battery/host");
const H = require("../browser/harness");
const A = require("../../site/authority");

const SIGN = path.join(BUILD, "nesbridge-sign");
const WORK = path.join(BUILD, "authority-sign");
const READER = "nesbridge Virtual Reader 00 00";
const MASTER = Buffer.from("4E4553425249444745444D4F4B455931", "hex"); /* the virtual card's DEMO master key */
const EXIT = { usage: 2, token: 3, pin: 4, locked: 5, noKey: 6, timeout: 7 };

let tok, trust, env, scriptFile;

function run(args, extraEnv, input) {
  const r = spawnSync(SIGN, args, { env: Object.assign({}, env, extraEnv || {}), timeout: 60000, input });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

before(() => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true, mode: 0o755 });
  tok = makeToken(path.join(WORK, "hsm"));
  tok.generate("authority-ec", "01", "EC:prime256v1");
  tok.generate("authority-rsa", "02", "rsa:3072");
  env = tok.env;
  trust = path.join(WORK, "trust");
  fs.mkdirSync(trust, { mode: 0o755 });
  for (const name of ["authority-ec", "authority-rsa"]) {
    const pem = run(["--public-key", tok.uri(name)]);
    assert.strictEqual(pem.status, 0, pem.stderr);
    fs.writeFileSync(path.join(trust, name + ".pem"), pem.stdout, { mode: 0o644 });
  }
  env.NESBRIDGE_CONFIG = H.hostConfig(WORK, holder.ORIGIN, trust);
  scriptFile = path.join(WORK, "script.json");
  fs.writeFileSync(scriptFile, JSON.stringify({ version: 1, hello: "token" }));
});

test("the keys were generated in the token and never leave it", () => {
  const listing = tok.list();
  for (const label of ["authority-ec", "authority-rsa"]) {
    const block = listing.split(/\n(?=\S)/).find((b) => b.startsWith("Private Key Object") && b.includes("label:      " + label));
    assert.ok(block, label);
    assert.match(block, /Access:\s+sensitive, always sensitive, never extractable, local/);
  }
});

test("--key-id and --public-key read the token's public key; the key id is SHA-256 of its SubjectPublicKeyInfo", () => {
  for (const name of ["authority-ec", "authority-rsa"]) {
    const id = run(["--key-id", tok.uri(name)]);
    assert.strictEqual(id.status, 0, id.stderr);
    const pem = fs.readFileSync(path.join(trust, name + ".pem"), "utf8");
    assert.strictEqual(id.stdout.trim(), A.keyId(require("crypto").createPublicKey(pem)));
    /* The same key named by id= and type=public instead of its label. */
    const byId = run(["--key-id", tok.uri(name).replace(`object=${name}`, `id=%0${name.endsWith("ec") ? 1 : 2};type=public`)]);
    assert.strictEqual(byId.stdout, id.stdout, byId.stderr);
  }
});

test("ECDSA P-256 through the token: DER, and it verifies as the host verifies", () => {
  const r = run(["--key", tok.uri("authority-ec", { pin: "file" }), "--in", scriptFile]);
  assert.strictEqual(r.status, 0, r.stderr);
  const signed = JSON.parse(r.stdout);
  assert.deepStrictEqual(Object.keys(signed), ["script", "signature", "key_id"]);
  assert.strictEqual(Buffer.from(signed.script, "base64").toString(), fs.readFileSync(scriptFile, "utf8"));
  const sig = Buffer.from(signed.signature, "base64");
  assert.strictEqual(sig[0], 0x30, "the token's r||s became DER");
  const signedFile = path.join(WORK, "signed-ec.json");
  fs.writeFileSync(signedFile, r.stdout);
  const v = run(["--verify", "--pub", path.join(trust, "authority-ec.pem"), "--in", signedFile]);
  assert.strictEqual(v.status, 0, v.stderr);
  assert.ok(require("crypto").verify("sha256", Buffer.from(signed.script, "base64"),
    { key: fs.readFileSync(path.join(trust, "authority-ec.pem")), dsaEncoding: "der" }, sig));
});

test("RSA-PSS 3072 through the token: SHA-256, MGF1-SHA-256, 32-byte salt, checked by openssl", () => {
  const r = run(["--key", tok.uri("authority-rsa", { pin: "file" }), "--in", scriptFile]);
  assert.strictEqual(r.status, 0, r.stderr);
  const signed = JSON.parse(r.stdout);
  const sigFile = path.join(WORK, "rsa.sig");
  fs.writeFileSync(sigFile, Buffer.from(signed.signature, "base64"));
  assert.strictEqual(fs.statSync(sigFile).size, 384);
  const out = execFileSync("openssl", ["dgst", "-sha256", "-verify", path.join(trust, "authority-rsa.pem"),
    "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-sigopt", "rsa_mgf1_md:sha256",
    "-signature", sigFile, scriptFile]).toString();
  assert.match(out, /Verified OK/);
  /* Another salt length does not verify: the parameters are the host's. */
  const other = spawnSync("openssl", ["dgst", "-sha256", "-verify", path.join(trust, "authority-rsa.pem"),
    "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20", "-sigopt", "rsa_mgf1_md:sha256",
    "-signature", sigFile, scriptFile]);
  assert.notStrictEqual(other.status, 0);
});

test("the PIN may come from the environment; it is never needed on the command line", () => {
  const r = run(["--key", tok.uri("authority-ec"), "--in", scriptFile], { NESBRIDGE_PKCS11_PIN: tok.pin });
  assert.strictEqual(r.status, 0, r.stderr);
  const inUri = run(["--key", tok.uri("authority-ec") + "&pin-value=" + tok.pin, "--in", scriptFile]);
  assert.strictEqual(inUri.status, EXIT.usage);
  assert.match(inUri.stderr, /pin-value puts the PIN on the command line/);
});

for (const [name, keyType] of [["authority-ec", "P-256"], ["authority-rsa", "RSA-3072"]]) {
  test(`an unlock script signed through the token (${keyType}) is run by the real host on the virtual card`, async () => {
    await H.vcardControl("reset-state pin-locked");
    const newPin = keyType === "P-256" ? "24681357" : "97531864";
    const { signed, reply } = await holder.unlock({
      reader: READER, newPin, env,
      prepare: async (request) => {
        const script = A.unlockScript(Object.assign({ master: MASTER, now: Date.now() }, request));
        return A.signWithToken(script, { tool: SIGN, uri: tok.uri(name, { pin: "file" }), env });
      },
    });
    assert.strictEqual(signed.key_id, run(["--key-id", tok.uri(name)]).stdout.trim());
    assert.strictEqual(reply.ok, true, JSON.stringify(reply));
    assert.strictEqual(reply.result.completed, true);
    assert.match(await H.vcardControl("status"), /pin_tries=3 puk_tries=10 new_pin_required=0/);
    const verify = execFileSync(path.join(BUILD, "tests", "pcsc-apdu"),
      [READER, "0020008108" + Buffer.from(newPin).toString("hex").toUpperCase()]).toString();
    assert.match(verify, /9000\s*$/);
  });
}

test("a wrong PIN, a PIN file others can read, or no PIN: exit 4, the PIN never printed", () => {
  const wrong = path.join(WORK, "wrong-pin");
  fs.writeFileSync(wrong, "999999\n", { mode: 0o600 });
  let r = run(["--key", tok.uri("authority-ec", { pin: "file", pinFile: wrong }), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.pin);
  assert.match(r.stderr, /the token refused the PIN.*CKR_PIN_INCORRECT|the token refused the PIN.*0xa0/);
  assert.doesNotMatch(r.stderr + r.stdout, /999999/);
  const open = path.join(WORK, "open-pin");
  fs.writeFileSync(open, tok.pin, { mode: 0o644 });
  fs.chmodSync(open, 0o644);
  r = run(["--key", tok.uri("authority-ec", { pin: "file", pinFile: open }), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.pin);
  assert.match(r.stderr, /can be read by others/);
  r = run(["--key", tok.uri("authority-ec"), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.pin);
  assert.match(r.stderr, /no PIN: put pin-source=file:\/path in the URI or set NESBRIDGE_PKCS11_PIN/);
  assert.strictEqual(r.stdout, "");
  /* A link to the PIN file, a relative path, a directory: refused. */
  const link = path.join(WORK, "pin-link");
  fs.rmSync(link, { force: true });
  fs.symlinkSync(tok.pinFile, link);
  for (const [source, why] of [[link, /cannot open the PIN file/], ["pin", /pin-source must be file:\/absolute\/path/],
    [WORK, /is not a regular file/]]) {
    r = run(["--key", tok.uri("authority-ec") + "&pin-source=file:" + source, "--in", scriptFile]);
    assert.strictEqual(r.status, EXIT.pin, source);
    assert.match(r.stderr, why);
  }
  if (process.getuid() === 0) {
    /* Someone else's file, even one only its owner can read. */
    const theirs = path.join(WORK, "their-pin");
    fs.writeFileSync(theirs, tok.pin, { mode: 0o600 });
    fs.chownSync(theirs, 65534, 65534);
    r = run(["--key", tok.uri("authority-ec", { pin: "file", pinFile: theirs }), "--in", scriptFile]);
    assert.strictEqual(r.status, EXIT.pin);
    assert.match(r.stderr, /belongs to another user/);
  }
});

test("a missing key or several keys: exit 6; a missing token or module: exit 3", () => {
  let r = run(["--key", tok.uri("no-such-key", { pin: "file" }), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.noKey);
  assert.match(r.stderr, /no signing key on the token matches the URI/);
  r = run(["--key", tok.uri("x", { pin: "file" }).replace(";object=x", ""), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.noKey);
  assert.match(r.stderr, /more than one key matches the URI/);
  r = run(["--key-id", tok.uri("no-such-key")]);
  assert.strictEqual(r.status, EXIT.noKey);
  r = run(["--key", tok.uri("authority-ec", { pin: "file" }).replace("token=nbauth", "token=other"), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.token);
  assert.match(r.stderr, /no token matches the URI/);
  r = run(["--key", "pkcs11:token=nbauth;object=authority-ec?module-path=/nonexistent/module.so", "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.token);
  assert.match(r.stderr, /cannot load the PKCS#11 module \/nonexistent\/module.so/);
  r = run(["--key", "pkcs11:token=nbauth;object=authority-ec", "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.usage);
  assert.match(r.stderr, /the URI must name its module/);
  r = run(["--key", "pkcs11:token=nbauth;object=authority-ec;bogus=1?module-path=/x.so", "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.usage);
  r = run(["--key", "pkcs11:token=nbauth;object=authority-ec?module-path=libsofthsm2.so", "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.usage);
  assert.match(r.stderr, /module-path must be an absolute path/);
  r = run(["--key", "pkcs11:token=nbauth;object=authority-ec?module-name=../x.so", "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.usage);
  r = run(["--key", tok.uri("authority-ec", { type: "public", pin: "file" }), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.usage);
  assert.match(r.stderr, /must name a private key/);
});

test("a token that does not answer: exit 7 within the time set", () => {
  /* Loading a FIFO as the module blocks in open() for ever. */
  const fifo = path.join(WORK, "stuck-module.so");
  fs.rmSync(fifo, { force: true });
  execFileSync("mkfifo", [fifo]);
  const t0 = Date.now();
  const r = run(["--key", `pkcs11:token=nbauth;object=authority-ec?module-path=${fifo}`, "--in", scriptFile],
    { NESBRIDGE_SIGN_TIMEOUT: "1" });
  assert.strictEqual(r.status, EXIT.timeout);
  assert.match(r.stderr, /did not answer in time/);
  assert.ok(Date.now() - t0 < 10000);
});

/* Signs scriptFile through the URI; the signed JSON, verified with pem. */
function signAndVerify(uri, pem, extraEnv) {
  const r = run(["--key", uri, "--in", scriptFile], extraEnv);
  assert.strictEqual(r.status, 0, r.stderr);
  const signed = JSON.parse(r.stdout);
  const crypto = require("crypto");
  const key = crypto.createPublicKey(pem);
  const opts = key.asymmetricKeyType === "rsa" ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : { key, dsaEncoding: "der" };
  assert.ok(crypto.verify("sha256", Buffer.from(signed.script, "base64"), opts, Buffer.from(signed.signature, "base64")));
  return signed;
}

test("a PIN file of more than one line is refused (exit 4), one line end (LF or CR LF) is taken off", () => {
  const file = path.join(WORK, "lines-pin");
  for (const [text, status] of [[tok.pin + "\r\n", 0], [tok.pin + "\n\n", EXIT.pin], [tok.pin + "\n" + tok.pin + "\n", EXIT.pin],
    [tok.pin + "\r\r\n", EXIT.pin], [tok.pin + "\r", EXIT.pin], [tok.pin + "\0\n", EXIT.pin], ["\n", EXIT.pin]]) {
    fs.writeFileSync(file, text, { mode: 0o600 });
    const r = run(["--key", tok.uri("authority-ec", { pin: "file", pinFile: file }), "--in", scriptFile]);
    assert.strictEqual(r.status, status, JSON.stringify(text) + "\n" + r.stderr);
    if (status !== 0) {
      assert.match(r.stderr, /the PIN in the PIN file is empty, longer than 256 bytes, or not one line/);
      assert.doesNotMatch(r.stderr + r.stdout, new RegExp(tok.pin));
    }
  }
  /* The same rule for the environment. */
  const r = run(["--key", tok.uri("authority-ec"), "--in", scriptFile], { NESBRIDGE_PKCS11_PIN: tok.pin + "\n\n" });
  assert.strictEqual(r.status, EXIT.pin);
  assert.match(r.stderr, /the PIN in NESBRIDGE_PKCS11_PIN .* not one line/);
});

test("a PIN file its group can write (0660) is refused; one its group can read (0640) only when root owns it", () => {
  const file = path.join(WORK, "group-pin");
  const attempt = (mode) => {
    fs.writeFileSync(file, tok.pin + "\n");
    fs.chmodSync(file, mode);
    return run(["--key", tok.uri("authority-ec", { pin: "file", pinFile: file }), "--in", scriptFile]);
  };
  let r = attempt(0o660);
  assert.strictEqual(r.status, EXIT.pin, r.stderr);
  assert.match(r.stderr, /can be written by its group or others/);
  r = attempt(0o620);
  assert.strictEqual(r.status, EXIT.pin, r.stderr);
  r = attempt(0o640);
  if (process.getuid() === 0) {
    /* Root's file, read by root: the group may read it. */
    assert.strictEqual(r.status, 0, r.stderr);
  } else {
    assert.strictEqual(r.status, EXIT.pin, r.stderr);
    assert.match(r.stderr, /can be read by its group and is not owned by root/);
  }
  assert.strictEqual(attempt(0o600).status, 0);
});

test("as a user other than root, that user's own PIN file its group can read (0640) is refused", (t) => {
  if (process.getuid() !== 0) return t.skip("the test before covers it: this user is not root");
  /* Root runs the tool as nobody, with a token and a PIN file of nobody's. */
  const nobody = 65534;
  const dir = path.join(WORK, "hsm-nobody");
  const own = makeToken(dir, { label: "nbnobody" });
  const file = path.join(dir, "pin-0640");
  fs.writeFileSync(file, own.pin + "\n", { mode: 0o640 });
  fs.chmodSync(file, 0o640);
  execFileSync("chown", ["-R", `${nobody}:${nobody}`, dir]);
  const asNobody = (pinFile) => {
    const r = spawnSync(SIGN, ["--key", own.uri("no-key-here", { pin: "file", pinFile }), "--in", scriptFile],
      { env: own.env, uid: nobody, gid: nobody, timeout: 60000 });
    return { status: r.status, stderr: r.stderr.toString() };
  };
  let r = asNobody(file);
  assert.strictEqual(r.status, EXIT.pin, r.stderr);
  assert.match(r.stderr, /can be read by its group and is not owned by root/);
  /* 0600: the PIN is taken and the login works; the token has no key. */
  fs.chmodSync(file, 0o600);
  r = asNobody(file);
  assert.strictEqual(r.status, EXIT.noKey, r.stderr);
  assert.match(r.stderr, /no signing key on the token matches/);
});

test("a key imported from a PEM file into the token is refused (exit 6); the generated keys sign", () => {
  const pem = path.join(WORK, "imported.pem"), pub = path.join(WORK, "imported-pub.pem");
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pem]);
  execFileSync("openssl", ["pkey", "-in", pem, "-pubout", "-out", pub]);
  tok.writeObject(pem, "privkey", "imported-ec", "10", ["--usage-sign"]);
  tok.writeObject(pub, "pubkey", "imported-ec", "10");
  /* Sensitive from now on, but neither always sensitive nor never extractable. */
  const block = tok.list().split(/\n(?=\S)/).find((b) => b.startsWith("Private Key Object") && b.includes("label:      imported-ec"));
  assert.match(block, /Access:\s+sensitive\s*$/m);
  const r = run(["--key", tok.uri("imported-ec", { pin: "file" }), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.noKey, r.stderr);
  assert.match(r.stderr, /must have been generated in the token and never left it/);
  assert.strictEqual(r.stdout, "");
  signAndVerify(tok.uri("authority-ec", { pin: "file" }), fs.readFileSync(path.join(trust, "authority-ec.pem")));
  signAndVerify(tok.uri("authority-rsa", { pin: "file" }), fs.readFileSync(path.join(trust, "authority-rsa.pem")));
});

test("a key that wants the PIN at each use (CKA_ALWAYS_AUTHENTICATE) signs: the context-specific login", () => {
  tok.generate("authority-aa", "20", "EC:prime256v1", ["--always-auth"]);
  assert.match(tok.list(), /label:\s+authority-aa[\s\S]*?always authenticate/);
  const pem = run(["--public-key", tok.uri("authority-aa")]);
  assert.strictEqual(pem.status, 0, pem.stderr);
  const a = signAndVerify(tok.uri("authority-aa", { pin: "file" }), pem.stdout);
  const b = signAndVerify(tok.uri("authority-aa"), pem.stdout, { NESBRIDGE_PKCS11_PIN: tok.pin });
  assert.strictEqual(a.key_id, run(["--key-id", tok.uri("authority-aa")]).stdout.trim());
  assert.strictEqual(b.key_id, a.key_id);
});

test("--key-id and --public-key log in only when they must, and pair the public key through the private key's CKA_ID", () => {
  /* A wrong PIN given, but nothing needs it: no login, no try lost. */
  const wrong = path.join(WORK, "wrong-pin");
  fs.writeFileSync(wrong, "999999\n", { mode: 0o600 });
  let r = run(["--key-id", tok.uri("authority-ec", { pin: "file", pinFile: wrong })]);
  assert.strictEqual(r.status, 0, r.stderr);
  r = run(["--key-id", tok.uri("authority-ec")], { NESBRIDGE_PKCS11_PIN: "999999" });
  assert.strictEqual(r.status, 0, r.stderr);
  /* A stray public key under the signing key's label, another CKA_ID. */
  tok.generate("authority-pair", "30", "EC:prime256v1");
  const strayKey = path.join(WORK, "stray.pem"), strayPub = path.join(WORK, "stray-pub.pem");
  execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", strayKey]);
  execFileSync("openssl", ["pkey", "-in", strayKey, "-pubout", "-out", strayPub]);
  tok.writeObject(strayPub, "pubkey", "authority-pair", "31");
  /* With the PIN the private key is seen, and its public key printed. */
  const pem = run(["--public-key", tok.uri("authority-pair", { pin: "file" })]);
  assert.strictEqual(pem.status, 0, pem.stderr);
  assert.notStrictEqual(pem.stdout, fs.readFileSync(strayPub, "utf8"));
  const signed = signAndVerify(tok.uri("authority-pair", { pin: "file" }), pem.stdout);
  const id = run(["--key-id", tok.uri("authority-pair")], { NESBRIDGE_PKCS11_PIN: tok.pin });
  assert.strictEqual(id.stdout.trim(), signed.key_id, id.stderr);
  /* Without one, two public keys and no private key seen: refused, not guessed. */
  r = run(["--public-key", tok.uri("authority-pair")]);
  assert.strictEqual(r.status, EXIT.noKey);
  assert.match(r.stderr, /more than one public key matches the URI/);
  assert.strictEqual(r.stdout, "");
  /* A wrong PIN when one is needed: exit 4. */
  r = run(["--public-key", tok.uri("authority-pair", { pin: "file", pinFile: wrong })]);
  assert.strictEqual(r.status, EXIT.pin);
  /* type=public names the public object itself. */
  r = run(["--public-key", tok.uri("authority-pair", { type: "public" }).replace("object=authority-pair", "id=%31;object=authority-pair")]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, fs.readFileSync(strayPub, "utf8"));
});

test("with SIGALRM blocked by the parent, a token that does not answer still ends in exit 7", () => {
  const fifo = path.join(WORK, "stuck-module.so");
  fs.rmSync(fifo, { force: true });
  execFileSync("mkfifo", [fifo]);
  const uri = `pkcs11:token=nbauth;object=authority-ec?module-path=${fifo}`;
  const blocked = ["-e", "use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGALRM)) or die; exec @ARGV or die", SIGN];
  for (const args of [["--key", uri, "--in", scriptFile], ["--key-id", uri], ["--public-key", uri]]) {
    const t0 = Date.now();
    const r = spawnSync("perl", [...blocked, ...args], { env: Object.assign({}, env, { NESBRIDGE_SIGN_TIMEOUT: "1" }), timeout: 15000 });
    assert.strictEqual(r.status, EXIT.timeout, args[0] + " " + (r.signal || "") + "\n" + r.stderr);
    assert.match(r.stderr.toString(), /did not answer in time/);
    assert.ok(Date.now() - t0 < 10000);
  }
});

test("without valgrind errors or leaks: signing with each key, a wrong PIN, a missing key, the context-specific login, a refused key", (t) => {
  if (process.env.NB_SANITIZED === "1") return t.skip("built with the sanitizers, which check this run instead");
  if (spawnSync("valgrind", ["--version"]).status !== 0) return t.skip("no valgrind");
  const wrong = path.join(WORK, "wrong-pin");
  for (const [args, status] of [
    [["--key", tok.uri("authority-ec", { pin: "file" }), "--in", scriptFile], 0],
    [["--key", tok.uri("authority-rsa", { pin: "file" }), "--in", scriptFile], 0],
    [["--key", tok.uri("authority-ec", { pin: "file", pinFile: wrong }), "--in", scriptFile], EXIT.pin],
    [["--key", tok.uri("nothing", { pin: "file" }), "--in", scriptFile], EXIT.noKey],
    [["--key-id", tok.uri("authority-rsa")], 0],
    [["--key", tok.uri("authority-aa", { pin: "file" }), "--in", scriptFile], 0],
    [["--key", tok.uri("imported-ec", { pin: "file" }), "--in", scriptFile], EXIT.noKey],
    [["--public-key", tok.uri("authority-pair", { pin: "file" })], 0],
    [["--public-key", tok.uri("authority-pair")], EXIT.noKey],
  ]) {
    const r = spawnSync("valgrind", ["--quiet", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect", SIGN, ...args],
    { env, timeout: 120000 });
    assert.strictEqual(r.status, status, args.join(" ") + "\n" + r.stderr);
  }
});

test("a user PIN with one try left (CKF_USER_PIN_FINAL_TRY) is not tried: exit 4, the operator must check the PIN source", () => {
  tok.setUserPinFlag(CKF_USER_PIN_FINAL_TRY);
  try {
    /* Not even the right PIN: a wrong source would lock the token. */
    for (const extraEnv of [{}, { NESBRIDGE_PKCS11_PIN: tok.pin }]) {
      const r = run(["--key", tok.uri("authority-ec", extraEnv.NESBRIDGE_PKCS11_PIN ? {} : { pin: "file" }), "--in", scriptFile], extraEnv);
      assert.strictEqual(r.status, EXIT.pin, r.stderr);
      assert.match(r.stderr, /user PIN has one try left, so it is not tried: an operator must check the PIN source/);
      assert.doesNotMatch(r.stderr, /refused the PIN/);
      assert.strictEqual(r.stdout, "");
    }
    /* Its public key can still be read, for the trust store. */
    assert.strictEqual(run(["--key-id", tok.uri("authority-ec", { pin: "file" })]).status, 0);
  } finally {
    tok.setUserPinFlag(CKF_USER_PIN_FINAL_TRY, false);
  }
  assert.strictEqual(run(["--key", tok.uri("authority-ec", { pin: "file" }), "--in", scriptFile]).status, 0);
});

test("a locked token: exit 5, and the PIN is not tried", () => {
  tok.lockUserPin();
  const r = run(["--key", tok.uri("authority-ec", { pin: "file" }), "--in", scriptFile]);
  assert.strictEqual(r.status, EXIT.locked);
  assert.match(r.stderr, /user PIN is locked/);
  /* Its public key can still be read, for the trust store. */
  assert.strictEqual(run(["--key-id", tok.uri("authority-ec")]).status, 0);
});
