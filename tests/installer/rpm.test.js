/* SPDX-License-Identifier: Apache-2.0 */
/* make rpm: rpmbuild makes a package with the host and the manifests. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));

test("the RPM builds and lists the host, manifests and trust directory", () => {
  execFileSync("make", ["-s", "--no-print-directory", "rpm", "BUILD=" + BUILD], { cwd: ROOT, stdio: "ignore" });
  /* Found on disk, not in make's output (a sub-make adds its own lines). */
  const dir = path.join(BUILD, "rpm", "RPMS");
  const rpms = fs.readdirSync(dir).flatMap((arch) => fs.readdirSync(path.join(dir, arch)).map((f) => path.join(dir, arch, f)));
  assert.strictEqual(rpms.length, 1);
  const rpm = rpms[0];
  const files = execFileSync("rpm", ["-qlp", rpm], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  for (const f of ["/usr/lib/nesbridge/nesbridge-host", "/etc/nesbridge/trust.d",
    "/etc/chromium/native-messaging-hosts/tr.gov.kamusm.nesbridge.json",
    "/etc/opt/chrome/native-messaging-hosts/tr.gov.kamusm.nesbridge.json",
    "/usr/lib64/mozilla/native-messaging-hosts/tr.gov.kamusm.nesbridge.json"]) {
    assert.ok(files.includes(f), f);
  }
  /* Snap and Flatpak browsers: the WebExtensions portal and
   * xdg-native-messaging-proxy read these very folders. */
  const has = (dir) => files.includes(dir + "/tr.gov.kamusm.nesbridge.json");
  assert.ok(["/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"].every(has));
  assert.ok(["/etc/opt/chrome/native-messaging-hosts", "/etc/chromium/native-messaging-hosts"].every(has));
  const info = execFileSync("rpm", ["-qip", rpm], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  assert.match(info, /Name\s*: nesbridge/);
  assert.match(info, /Version\s*: 0\.1\.0/);
});
