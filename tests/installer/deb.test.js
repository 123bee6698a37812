/* SPDX-License-Identifier: Apache-2.0 */
/* make deb: the package's contents, lintian, and a real dpkg install and
 * removal into a temporary root. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync, spawnSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));
const VERSION = "0.1.0-1";
let deb;

test("the package builds and holds what it should", () => {
  deb = execFileSync("sh", [path.join(ROOT, "installer", "make-deb.sh"), BUILD, VERSION], { cwd: ROOT }).toString().trim();
  const files = execFileSync("dpkg-deb", ["-c", deb]).toString();
  for (const f of ["./usr/lib/nesbridge/nesbridge-host", "./usr/lib/mozilla/native-messaging-hosts/tr.gov.kamusm.nesbridge.json",
    "./etc/chromium/native-messaging-hosts/tr.gov.kamusm.nesbridge.json", "./etc/opt/chrome/native-messaging-hosts/tr.gov.kamusm.nesbridge.json",
    "./etc/opt/edge/native-messaging-hosts/tr.gov.kamusm.nesbridge.json", "./etc/chromium/policies/managed/nesbridge.json",
    "./etc/nesbridge/trust.d/README", "./usr/share/doc/nesbridge/copyright"]) {
    assert.ok(files.includes(f), f);
  }
  const control = execFileSync("dpkg-deb", ["-f", deb]).toString();
  assert.match(control, /^Package: nesbridge$/m);
  assert.match(control, /^Version: 0\.1\.0-1$/m);
  assert.match(control, /^Depends: .*libpcsclite1/m);
});

/* Snap and Flatpak browsers reach the host through the WebExtensions
 * portal or xdg-native-messaging-proxy: the package's manifests must be in
 * their search lists (mozilla and chromium mode), and its note says what
 * doctor says. */
test("the package's manifests are where the portal and the proxy look, and its note says so", () => {
  const files = execFileSync("dpkg-deb", ["-c", deb]).toString();
  const has = (dir) => files.includes("." + dir + "/tr.gov.kamusm.nesbridge.json");
  assert.ok(["/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"].some(has), "a Firefox manifest the portal and proxy read");
  assert.ok(["/etc/opt/chrome/native-messaging-hosts", "/etc/chromium/native-messaging-hosts"].every(has), "the Chromium family's");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nb-deb-x-"));
  execFileSync("dpkg-deb", ["-x", deb, tmp]);
  const note = fs.readFileSync(path.join(tmp, "usr/share/doc/nesbridge/README.Debian"), "utf8");
  assert.match(note, /WebExtensions portal/);
  assert.match(note, /xdg-native-messaging-proxy/);
  assert.match(note, /nesbridge-host doctor/);
  assert.doesNotMatch(note, /cannot start a host outside/);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("lintian finds nothing but the documented overrides", () => {
  const r = spawnSync("lintian", ["--tag-display-limit", "0", deb], { encoding: "utf8" });
  const findings = r.stdout.split("\n").filter((l) => /^[EW]: /.test(l));
  assert.deepStrictEqual(findings, []);
});

test("dpkg installs it into a root and removes it again", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nb-dpkg-"));
  for (const d of ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, "var/lib/dpkg/status"), "");
  const dpkg = (...args) => execFileSync("dpkg", ["--root=" + root, "--force-depends", "--force-script-chrootless",
    "--force-not-root", ...args], { stdio: "pipe" });
  dpkg("-i", deb);
  const host = path.join(root, "usr/lib/nesbridge/nesbridge-host");
  assert.match(execFileSync(host, ["--version"]).toString(), /nesbridge-host 0\.1\.0/);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "etc/chromium/native-messaging-hosts/tr.gov.kamusm.nesbridge.json"), "utf8"));
  assert.strictEqual(manifest.path, "/usr/lib/nesbridge/nesbridge-host");
  assert.match(execFileSync("dpkg", ["--root=" + root, "-s", "nesbridge"]).toString(), /Status: install ok installed/);
  dpkg("--purge", "nesbridge");
  assert.ok(!fs.existsSync(host));
  assert.ok(!fs.existsSync(path.join(root, "etc/chromium/native-messaging-hosts/tr.gov.kamusm.nesbridge.json")));
  fs.rmSync(root, { recursive: true, force: true });
});
