/* SPDX-License-Identifier: Apache-2.0 */
/* `nesbridge-host doctor` on broken set-ups (each kind of breakage named)
 * and on a good one; needs pcscd with the virtual reader (make vcard-up). */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const { ROOT, HOST, MANIFEST, NO_SCRATCH, goodHome, doctor } = require("./doctor_home");

const chromiumManifest = (s) => path.join(s.home, ".config", "chromium", "NativeMessagingHosts", MANIFEST);

test("doctor: a good set-up passes, in English, Turkish and JSON", { skip: NO_SCRATCH }, () => {
  const s = goodHome();
  const r = doctor(s);
  assert.strictEqual(r.code, 0, r.out);
  assert.match(r.out, /Everything is in place\./);
  assert.match(r.out, /Chromium: .*NativeMessagingHosts/);
  assert.match(r.out, /Firefox: .*native-messaging-hosts/);
  assert.match(r.out, /nesbridge Virtual Reader 00 00: card present/);
  assert.match(r.out, /1 authority key\(s\) trusted/);
  assert.match(doctor(s, { LANG: "tr_TR.UTF-8" }).out, /Her şey yerinde\./);
  const j = JSON.parse(doctor(s, {}, true).out);
  assert.strictEqual(j.ok, true);
  assert.ok(j.checks.every((c) => c.ok));
  fs.rmSync(s.top, { recursive: true, force: true });
});

const breakages = [
  ["no manifest", (s) => fs.rmSync(chromiumManifest(s)), /Chromium: no manifest/, /install\.sh --user/],
  ["manifest not JSON", (s) => fs.writeFileSync(chromiumManifest(s), "{ not json"), /Chromium: manifest is not valid JSON/, /install\.sh/],
  ["wrong name", (s) => { const p = chromiumManifest(s); const m = JSON.parse(fs.readFileSync(p)); m.name = "x"; fs.writeFileSync(p, JSON.stringify(m)); }, /wrong name/, /install\.sh/],
  ["host missing", (s) => { const p = chromiumManifest(s); const m = JSON.parse(fs.readFileSync(p)); m.path = "/nonexistent/nesbridge-host"; fs.writeFileSync(p, JSON.stringify(m)); }, /host not executable: \/nonexistent/, /install\.sh/],
  ["host not executable", (s) => { fs.chmodSync(s.installed, 0o644); s.installed = null; }, /host not executable/, /install\.sh/],
  ["foreign extension allowed", (s) => { const p = chromiumManifest(s); const m = JSON.parse(fs.readFileSync(p)); m.allowed_origins = ["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]; fs.writeFileSync(p, JSON.stringify(m)); }, /does not allow our extension/, /install\.sh/],
  ["firefox add-on id wrong", (s) => { const p = path.join(s.home, ".mozilla", "native-messaging-hosts", MANIFEST); const m = JSON.parse(fs.readFileSync(p)); m.allowed_extensions = ["x@y"]; fs.writeFileSync(p, JSON.stringify(m)); }, /Firefox: manifest does not allow our extension; expected nesbridge@kamusm\.gov\.tr/, /install\.sh/],
  ["no browser", (s) => { fs.rmSync(path.join(s.home, ".config"), { recursive: true }); fs.rmSync(path.join(s.home, ".mozilla"), { recursive: true }); }, /no supported browser found/, /install Firefox or Chromium/],
  ["no trusted key", (s) => fs.writeFileSync(s.conf, ""), /0 authority key\(s\) trusted/, /reinstall nesbridge/],
  ["pcscd unreachable", (s) => { s.env = { PCSCLITE_CSOCK_NAME: "/nonexistent/pcscd.comm" }; }, /pcscd\) cannot be reached/, /systemctl start pcscd/],
  /* Issue 14: what is not trusted is named, with why. */
  ["a key file that is a link", (s) => fs.symlinkSync(path.join(s.top, "trust", "k.pem"), path.join(s.top, "trust", "l.pem")),
    /ignored: .*\/trust\/l\.pem: a symbolic link, never followed/, /writable by the owner only; put the file itself, not a link/],
  ["a key file others may write", (s) => fs.chmodSync(path.join(s.top, "trust", "k.pem"), 0o666),
    /0 authority key\(s\) trusted[^]*ignored: .*\/trust\/k\.pem: others than its owner may write it/, /owned by root \(or you\)/],
  ["a file in the trust directory that is no key", (s) => fs.writeFileSync(path.join(s.top, "trust", "x.pem"), "no key\n", { mode: 0o644 }),
    /ignored: .*\/trust\/x\.pem: not a P-256 or RSA>=3072 public key/, /replace it with the authority's public key/],
  ["a trust directory that is a link", (s) => { fs.renameSync(path.join(s.top, "trust"), path.join(s.top, "real")); fs.symlinkSync("real", path.join(s.top, "trust")); },
    /ignored: .*\/trust: a symbolic link, never followed/, /not a link/],
  ["a directory above that others may write", (s) => fs.chmodSync(s.top, 0o777),
    /configuration ignored: .*nesbridge\.conf: others may write a directory above it \(.*nb-doctor-[^)]*\)/, /writable by the owner only/],
  ["a configuration file that is a link", (s) => { fs.renameSync(s.conf, s.conf + ".real"); fs.symlinkSync(s.conf + ".real", s.conf); },
    /configuration ignored: .*nesbridge\.conf: a symbolic link, never followed/, /not a link/],
  ["a configuration file with an unknown key", (s) => fs.appendFileSync(s.conf, "frobnicate = 1\n"),
    /configuration ignored: .*nesbridge\.conf:2: frobnicate: unknown key/, /fix that line/],
];
/* Another user's files: only root can make them here. */
if (process.geteuid() === 0) {
  breakages.push(
    ["a trust directory of another user", (s) => fs.chownSync(path.join(s.top, "trust"), 65534, 65534),
      /ignored: .*\/trust: owned by another user/, /owned by root \(or you\)/],
    ["a key file of another user", (s) => fs.chownSync(path.join(s.top, "trust", "k.pem"), 65534, 65534),
      /ignored: .*\/trust\/k\.pem: owned by another user/, /owned by root/],
    ["a directory above owned by another user", (s) => fs.chownSync(s.top, 65534, 65534),
      /configuration ignored: .*: a directory above it is owned by another user/, /owned by root/]);
}

for (const [name, breakIt, problem, fix] of breakages) {
  test("doctor names it: " + name, { skip: NO_SCRATCH }, () => {
    const s = goodHome();
    breakIt(s);
    const r = doctor(s, s.env);
    assert.strictEqual(r.code, 1, r.out);
    assert.match(r.out, problem);
    assert.match(r.out, fix);
    fs.rmSync(s.top, { recursive: true, force: true });
  });
}

/* The same reasons in Turkish, and in the JSON report: the count of
 * trusted keys first, then one item per file refused. */
test("doctor names what it ignored in Turkish and in JSON", { skip: NO_SCRATCH }, () => {
  const s = goodHome();
  fs.symlinkSync(path.join(s.top, "trust", "k.pem"), path.join(s.top, "trust", "l.pem"));
  const tr = doctor(s, { LANG: "tr_TR.UTF-8" });
  assert.strictEqual(tr.code, 1, tr.out);
  assert.match(tr.out, /yok sayıldı: .*\/l\.pem: sembolik bağlantı; izlenmez/);
  const j = JSON.parse(doctor(s, {}, true).out);
  const trust = j.checks.filter((c) => c.area === "trust");
  assert.deepStrictEqual(trust.map((c) => c.ok), [true, false]);
  assert.strictEqual(trust[0].what, "1 authority key(s) trusted");
  assert.match(trust[1].what, /^ignored: .*\/l\.pem: a symbolic link, never followed$/);
  fs.rmSync(s.top, { recursive: true, force: true });
});

/* install.sh and doctor read one table (installer/browsers-linux.tsv): a
 * home with every browser of it, and a space in its path, ends with a
 * good manifest for each, under the table's name. */
test("doctor and install.sh agree on every browser of the shared table", { skip: NO_SCRATCH }, () => {
  const rows = fs.readFileSync(path.join(ROOT, "installer", "browsers-linux.tsv"), "utf8").split("\n")
    .filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split("\t"))
    .filter((r) => r[3] !== "-");
  assert.ok(rows.length >= 10, "the table has the browsers");
  const s = goodHome();
  const spaced = path.join(s.top, "home with space");
  fs.renameSync(s.home, spaced);
  s.home = spaced;
  for (const r of rows) fs.mkdirSync(path.join(s.home, r[3]), { recursive: true });
  execFileSync("sh", [path.join(ROOT, "installer", "install.sh"), "--user", "--host", HOST], { env: { PATH: process.env.PATH, HOME: s.home } });
  s.installed = path.join(s.home, ".local", "lib", "nesbridge", "nesbridge-host");
  const j = JSON.parse(doctor(s, {}, true).out);
  const manifests = j.checks.filter((c) => c.area === "manifest");
  assert.deepStrictEqual(manifests.map((c) => c.what.split(": ")[0]), rows.map((r) => r[1]));
  for (const c of manifests) assert.ok(c.ok, c.what);
  assert.strictEqual(j.ok, true, JSON.stringify(j.checks.filter((c) => !c.ok)));
  fs.rmSync(s.top, { recursive: true, force: true });
});
