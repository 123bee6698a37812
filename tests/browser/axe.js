/* SPDX-License-Identifier: Apache-2.0 */
/* WCAG 2.1 A and AA, checked by axe-core (npm, pinned in
 * package-lock.json) inside the page as the browser renders it: the demo
 * site's pages and the extension's PIN window, in Chromium (playwright-core)
 * and Firefox (Marionette). The engine is evaluated as page script from
 * the test, never served by the site, so the site's Content-Security-Policy
 * stays as it is. */
"use strict";

const fs = require("fs");
const path = require("path");

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
let source = null;

function axeSource() {
  if (source === null) source = fs.readFileSync(require.resolve("axe-core/axe.min.js", { paths: [__dirname] }), "utf8");
  return source;
}

/* The check itself, run in the page: loads the engine once per document,
 * then resolves with the violations, each {id, impact, nodes: [target,
 * summary]}, as plain JSON text (both drivers carry strings as they are). */
const RUN = "(async (tags) => {" +
  "const results = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });" +
  "return JSON.stringify(results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help," +
  "  nodes: v.nodes.map((n) => [n.target.join(' '), n.failureSummary]) })));" +
  "})";

function inject() {
  return "if (!window.axe) { " + axeSource() + "\n}";
}

/* A playwright-core page (a site page or the PIN window). */
async function chromium(page) {
  await page.evaluate(inject());
  return JSON.parse(await page.evaluate(RUN + "(" + JSON.stringify(TAGS) + ")"));
}

/* The Marionette client's current window (tests/e2e/marionette.js). */
async function firefox(ff) {
  await ff.command("WebDriver:ExecuteScript", { script: inject() + "\nreturn true;" });
  return JSON.parse(await ff.evaluate("return await " + RUN + "(" + JSON.stringify(TAGS) + ");"));
}

/* Readable failure: which rule, which element, why. */
function describe(where, violations) {
  return where + ": " + violations.map((v) => v.id + " (" + v.impact + "): " + v.help + "\n  " +
    v.nodes.map((n) => n[0] + " -- " + String(n[1]).replace(/\n/g, " ")).join("\n  ")).join("\n");
}

module.exports = { TAGS, chromium, firefox, describe, axeSource };
