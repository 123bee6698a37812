/* SPDX-License-Identifier: Apache-2.0 */
/* What the doctor tests share: a scratch directory the host may trust, a
 * good home made by the installer, and doctor run against it. */
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const crypto = require("crypto");
const { spawnSync, execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));
const HOST = path.join(BUILD, "nesbridge-host");
const MANIFEST = "tr.gov.kamusm.nesbridge.json";

/* The first directory from dir up to "/" that another user owns or that
 * group or others may write, or null: the host trusts no key or
 * configuration below such a one (docs/protocol.md, Trust store). */
function looseAbove(dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    const sticky = d !== path.resolve(dir) && (st.mode & 0o1000) !== 0;
    if ((st.uid !== 0 && st.uid !== process.geteuid()) || ((st.mode & 0o022) !== 0 && !sticky)) return d;
    if (d === path.dirname(d)) return null;
  }
}

/* Where the set-ups go: the build tree, else $HOME, if nothing above is
 * loose (a sticky directory above, like /tmp, is not). */
const SCRATCH = (() => {
  for (const base of [path.join(BUILD, "doctor-tests"), path.join(os.homedir(), ".cache", "nesbridge-doctor-tests")]) {
    try {
      fs.mkdirSync(base, { recursive: true, mode: 0o755 });
      fs.chmodSync(base, 0o755);
      if (looseAbove(base) === null) return base;
    } catch (e) { /* try the next */ }
  }
  return null;
})();
const NO_SCRATCH = SCRATCH === null && "no directory whose ancestors only root or this user may write (checkout under a group-writable folder?); the host would rightly refuse every set-up";

/* A home with Chromium and Firefox (or opts.dirs), a host installed by the
 * installer (opts.env added to its environment, opts.before(top, home) run
 * first), and a trusted key through a configuration file. */
function goodHome(opts) {
  const o = Object.assign({ dirs: [path.join(".config", "chromium"), ".mozilla"], env: {} }, opts || {});
  const top = fs.mkdtempSync(path.join(SCRATCH, "nb-doctor-"));
  fs.chmodSync(top, 0o755);
  const home = path.join(top, "home");
  fs.mkdirSync(home, { recursive: true });
  for (const d of o.dirs) fs.mkdirSync(path.join(home, d), { recursive: true });
  if (o.before) o.before(top, home);
  execFileSync("sh", [path.join(ROOT, "installer", "install.sh"), "--user", "--host", HOST],
    { env: Object.assign({ PATH: process.env.PATH, HOME: home }, o.env) });
  const trust = path.join(top, "trust");
  fs.mkdirSync(trust, { mode: 0o755 });
  const { publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  fs.writeFileSync(path.join(trust, "k.pem"), publicKey.export({ type: "spki", format: "pem" }), { mode: 0o644 });
  const conf = path.join(top, "nesbridge.conf");
  fs.writeFileSync(conf, "trust_dir = " + trust + "\n", { mode: 0o600 });
  return { top, home, conf, installed: path.join(home, ".local", "lib", "nesbridge", "nesbridge-host") };
}

function doctor(setup, extraEnv, json) {
  const env = Object.assign({ PATH: process.env.PATH, HOME: setup.home, NESBRIDGE_CONFIG: setup.conf, LANG: "C" }, extraEnv || {});
  const r = spawnSync(setup.installed || HOST, ["doctor"].concat(json ? ["--json"] : []), { env, encoding: "utf8", timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

module.exports = { ROOT, BUILD, HOST, MANIFEST, SCRATCH, NO_SCRATCH, goodHome, doctor };
