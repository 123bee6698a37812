/* SPDX-License-Identifier: Apache-2.0 */
/* web-ext lint on the release extension: no errors, no notices, and no
 * warning but the one the dual manifest must carry (Firefox ignores
 * background.service_worker, which Chromium needs). */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { execFileSync } = require("child_process");

test("web-ext lint is clean", () => {
  const bin = path.join(__dirname, "node_modules", ".bin", "web-ext");
  const source = path.resolve(__dirname, "..", "..", "extension");
  let out;
  try {
    out = execFileSync(bin, ["lint", "--source-dir", source, "--self-hosted", "--output", "json", "--no-config-discovery",
      "--ignore-files", "build.js", "page/**"], { encoding: "utf8" });
  } catch (e) {
    out = e.stdout; /* web-ext exits non-zero on errors; the JSON says which */
  }
  const report = JSON.parse(out);
  const unexpected = [...report.errors, ...report.notices,
    ...report.warnings.filter((w) => w.code !== "BACKGROUND_SERVICE_WORKER_IGNORED")];
  assert.deepStrictEqual(unexpected.map((m) => m.code + ": " + m.message), []);
});
