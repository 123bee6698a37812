#!/usr/bin/env node
/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the extension into a directory. Release: the sources as they are.
 * Dev (origins given): the content script and the origin check also serve
 * those origins, e.g. the demo site's.
 *   node extension/build.js OUTDIR [ORIGIN ...] */
"use strict";

const fs = require("fs");
const path = require("path");

const [outDir, ...devOrigins] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: build.js OUTDIR [ORIGIN ...]");
  process.exit(2);
}
for (const origin of devOrigins) {
  const url = new URL(origin);
  if (url.origin !== origin || !["http:", "https:"].includes(url.protocol)) {
    console.error("build.js: not an origin: " + origin);
    process.exit(2);
  }
}
const src = __dirname;
const files = ["manifest.json", "common.js", "content.js", "background.js", "pin.html", "pin.js", "pin.css"];
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
for (const f of files) fs.copyFileSync(path.join(src, f), path.join(outDir, f));

if (devOrigins.length > 0) {
  const manifestPath = path.join(outDir, "manifest.json");
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  /* Match patterns carry no port (Firefox ignores patterns that do); the
   * origin check in common.js still wants the exact origin, port included. */
  const patterns = [...new Set(devOrigins.map((o) => {
    const url = new URL(o);
    return url.protocol + "//" + url.hostname + "/*";
  }))];
  manifest.name += " (dev)";
  manifest.content_scripts[0].matches.push(...patterns);
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  const commonPath = path.join(outDir, "common.js");
  const common = fs.readFileSync(commonPath, "utf8");
  const marker = "const EXTRA_ORIGINS = [];";
  if (!common.includes(marker)) throw new Error("common.js lost its EXTRA_ORIGINS marker");
  fs.writeFileSync(commonPath, common.replace(marker, "const EXTRA_ORIGINS = " + JSON.stringify(devOrigins) + ";"));
}
console.log("extension built in " + outDir + (devOrigins.length ? " (dev: " + devOrigins.join(", ") + ")" : ""));
