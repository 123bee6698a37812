/* make install-user: the host and a manifest for each browser, for this user. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");

test("install-user.sh puts the host and the three manifests in place", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "nb-home-"));
  const fakeHost = path.join(home, "nesbridge-host-built");
  fs.writeFileSync(fakeHost, "#!/bin/sh\n", { mode: 0o755 });
  const env = { PATH: process.env.PATH, HOME: home };
  execFileSync("sh", [path.join(ROOT, "manifests", "install-user.sh"), fakeHost], { env, stdio: "ignore" });
  const installed = path.join(home, ".local", "share", "nesbridge", "nesbridge-host");
  assert.ok(fs.statSync(installed).mode & 0o100, "the host is executable");
  const expect = {
    [path.join(home, ".config", "chromium", "NativeMessagingHosts")]: "allowed_origins",
    [path.join(home, ".config", "google-chrome", "NativeMessagingHosts")]: "allowed_origins",
    [path.join(home, ".mozilla", "native-messaging-hosts")]: "allowed_extensions",
  };
  for (const [dir, field] of Object.entries(expect)) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "tr.gov.kamusm.nesbridge.json"), "utf8"));
    assert.strictEqual(manifest.name, "tr.gov.kamusm.nesbridge");
    assert.strictEqual(manifest.path, installed);
    assert.strictEqual(manifest.type, "stdio");
    assert.ok(Array.isArray(manifest[field]) && manifest[field].length === 1, dir);
  }
  fs.rmSync(home, { recursive: true, force: true });
});
