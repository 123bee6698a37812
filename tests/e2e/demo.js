#!/usr/bin/env node
/* SPDX-License-Identifier: Apache-2.0 */
/* make demo: the whole unlock, end to end, as a person would do it: a
 * virtual NES card locked by 3 wrong PINs, the demo authority site, headless
 * Chromium with the extension, the real host and pcscd. Prints each step
 * with its timing, saves screenshots in build/demo/, proves the new PIN
 * with a VERIFY on the card. UI=1: a visible browser, left running. */
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { startStack, H } = require("./stack");
const F = require("./chromium-flow");

const READER = "nesbridge Virtual Reader 00 00";
const NEW_PIN = "24681357";
const ui = process.env.UI === "1";

function apdu(...hex) {
  return execFileSync(path.join(H.BUILD, "tests", "pcsc-apdu"), [READER, ...hex]).toString().trim().split("\n");
}

(async () => {
  const shots = path.join(H.BUILD, "demo");
  fs.rmSync(shots, { recursive: true, force: true });
  fs.mkdirSync(shots, { recursive: true });
  await H.vcardControl("reset-state fresh");
  const wrong = apdu(...Array(3).fill("0020008108" + "303030303030FFFF"));
  console.log("demo: the card is locked by three wrong PINs: " + wrong.map((l) => l.split(" ").pop()).join(", ") +
    "; VERIFY status now " + apdu("00200081")[0].trim());
  const stack = await startStack({ port: 8443, dataDir: path.join(H.BUILD, "demo-site"), test: false });
  const browser = await H.launchChromium(stack.ext.dir, { withHost: true, env: stack.env, headed: ui, lang: "tr-TR" });
  let ok = false;
  try {
    const page = await browser.newPage();
    const step = F.makeSteps(page, {
      shots,
      onStep: (s) => console.log(`demo: ${String(s.n).padStart(2)} ${s.name.padEnd(20)} ${String(s.ms).padStart(5)} ms  (${path.relative(H.ROOT, s.file)})`),
    });
    await F.login(page, stack.origin, step);
    const result = await F.unlock(page, step, NEW_PIN);
    console.log(`demo: page says "${result.text}" (button disabled: ${result.disabled}, PIN tries now ${result.tries})`);
    console.log(`demo: the new PIN was typed in the extension's own window (${result.pinWindow.url.split("#")[0]}), ` +
      `which showed ${result.pinWindow.origin}, ${result.pinWindow.reader}, serial ${result.pinWindow.serial}`);
    console.log(`demo: "Yeni PIN Üret" to the success message: ${result.ms.toFixed(1)} ms in the page (the PIN window included), ` +
      `${result.sinceEnterMs} ms from the PIN's Enter`);
    const verify = apdu("0020008108" + Buffer.from(NEW_PIN).toString("hex").toUpperCase())[0].trim();
    console.log("demo: VERIFY of the new PIN on the card: " + verify);
    ok = result.ok && result.text === "Kart Pin Başarıyla Değiştirildi." && verify === "9000";
    if (ui) {
      console.log("demo: the site stays at " + stack.origin + " with the browser open; press Ctrl-C to stop.");
      await new Promise(() => {});
    }
  } finally {
    await browser.close();
    stack.stop();
  }
  console.log(ok ? "demo: OK, the card is unlocked with the new PIN" : "demo: FAILED");
  process.exit(ok ? 0 : 1);
})().catch((e) => {
  console.error("demo: " + e.message);
  process.exit(1);
});
