/* make rpm: rpmbuild makes a package with the host and the manifests. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));

test("the RPM builds and lists the host, manifests and trust directory", () => {
  const out = execFileSync("make", ["-s", "rpm", "BUILD=" + BUILD], { cwd: ROOT }).toString().trim().split("\n");
  const rpm = out[out.length - 1];
  const files = execFileSync("rpm", ["-qlp", rpm], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  for (const f of ["/usr/lib/nesbridge/nesbridge-host", "/etc/nesbridge/trust.d",
    "/etc/chromium/native-messaging-hosts/tr.gov.kamusm.nesbridge.json",
    "/etc/opt/chrome/native-messaging-hosts/tr.gov.kamusm.nesbridge.json",
    "/usr/lib64/mozilla/native-messaging-hosts/tr.gov.kamusm.nesbridge.json"]) {
    assert.ok(files.includes(f), f);
  }
  const info = execFileSync("rpm", ["-qip", rpm], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  assert.match(info, /Name\s*: nesbridge/);
  assert.match(info, /Version\s*: 0\.1\.0/);
});
