#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/* Bench row: page -> extension -> host -> pcscd -> card and back, in warm
 * headless Chromium: NesBridge.transmit round trips. Prints one JSON row. */
"use strict";

const path = require("path");
const fs = require("fs");
const H = require("../tests/browser/harness");

(async () => {
  const work = H.tempDir("bench");
  const server = await H.startServer();
  const ext = H.buildExtension(path.join(work, "extension"), [server.allowed]);
  const env = { NESBRIDGE_CONFIG: H.hostConfig(work, server.allowed) };
  const browser = await H.launchChromium(ext.dir, { withHost: true, env });
  try {
    const { result } = await browser.run(server.allowed + "/pages/test.html?scenario=bench&n=200");
    if (!result.ok) throw new Error(JSON.stringify(result));
    console.log(JSON.stringify(Object.assign({ row: "page-to-card" }, result.value)));
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error("bench/browser.js: " + e.message);
  process.exit(1);
});
