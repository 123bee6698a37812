/* SPDX-License-Identifier: Apache-2.0 */
/* The shape of the tree (README, "What is here"): shared code in common/
 * depends on nothing of ours above it; each program's folder depends on
 * common/ and itself only; the command files are siblings; no module
 * includes its way back to itself; every source file names its licence. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const FOLDERS = ["common", "host", "sign", "vcard", "ifd"];
/* Which of our folders each folder may include from. */
const MAY_INCLUDE = {
  common: ["common"],
  host: ["common", "host"],
  sign: ["common", "sign"],
  vcard: ["common", "vcard"],
  ifd: ["common", "vcard", "ifd"], /* the pinpad reader's driver holds the card's logic; never the host */
};
const GENERATED = new Set(["browsers_linux.h"]); /* made by the build into build/gen */

function sources(folder) {
  return fs.readdirSync(path.join(ROOT, folder)).filter((f) => /\.[ch]$/.test(f)).map((f) => path.join(folder, f));
}

function includes(file) {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)].map((m) => m[1]);
}

function angleIncludes(file) {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/^\s*#\s*include\s*<([^>]+)>/gm)].map((m) => m[1]);
}

/* Where an included header lives: the including folder first, then the
 * others it may include from. */
function resolve(folder, header) {
  for (const f of [folder, ...MAY_INCLUDE[folder], ...FOLDERS]) {
    if (fs.existsSync(path.join(ROOT, f, header))) return path.join(f, header);
  }
  return null;
}

function module(file) {
  return file.replace(/\.[ch]$/, "");
}

test("no folder includes from a folder above it or beside it", () => {
  const problems = [];
  for (const folder of FOLDERS) {
    for (const file of sources(folder)) {
      for (const header of includes(file)) {
        if (GENERATED.has(header)) continue;
        const where = resolve(folder, header);
        if (where === null) problems.push(`${file}: ${header} is nowhere`);
        else if (!MAY_INCLUDE[folder].includes(where.split(path.sep)[0])) problems.push(`${file} includes ${where}`);
      }
    }
  }
  assert.deepStrictEqual(problems, []);
});

/* An own header in angle brackets would escape the folder rule above. */
test("our headers are included in quotes, never in angle brackets", () => {
  const ours = new Set(FOLDERS.flatMap((f) => sources(f)).filter((f) => f.endsWith(".h")).map((f) => path.basename(f)));
  const problems = [];
  for (const folder of FOLDERS) {
    for (const file of sources(folder)) {
      for (const header of angleIncludes(file)) if (ours.has(header)) problems.push(`${file} includes <${header}>`);
    }
  }
  assert.deepStrictEqual(problems, []);
});

test("no module includes its way back to itself", () => {
  const edges = new Map();
  for (const folder of FOLDERS) {
    for (const file of sources(folder)) {
      const from = module(file);
      if (!edges.has(from)) edges.set(from, new Set());
      for (const header of includes(file)) {
        const where = GENERATED.has(header) ? null : resolve(folder, header);
        if (where !== null && module(where) !== from) edges.get(from).add(module(where));
      }
    }
  }
  const state = new Map(); /* 1 visiting, 2 done */
  const cycles = [];
  function visit(node, trail) {
    if (state.get(node) === 2) return;
    if (state.get(node) === 1) {
      cycles.push([...trail.slice(trail.indexOf(node)), node].join(" -> "));
      return;
    }
    state.set(node, 1);
    for (const next of edges.get(node) || []) visit(next, [...trail, node]);
    state.set(node, 2);
  }
  for (const node of edges.keys()) visit(node, []);
  assert.deepStrictEqual(cycles, []);
});

test("the command files are siblings: none includes another", () => {
  const problems = [];
  for (const file of sources("host").filter((f) => /cmd_\w+\.[ch]$/.test(f))) {
    for (const header of includes(file)) {
      if (/^cmd_/.test(header) && module(path.join("host", header)) !== module(file)) problems.push(`${file} includes ${header}`);
    }
  }
  assert.deepStrictEqual(problems, []);
});

test("every source file names its licence", () => {
  const tracked = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f && !/node_modules|corpus\//.test(f))
    .filter((f) => /\.(c|h|js|mjs|ts|sh|py|awk|css|html|wxs|rc|spec)$/.test(f) || /(^|\/)(Makefile|run)$/.test(f));
  const missing = tracked.filter((f) => {
    if (!fs.existsSync(path.join(ROOT, f))) return false;
    const head = fs.readFileSync(path.join(ROOT, f), "utf8").split("\n").slice(0, 3).join("\n");
    return !head.includes("SPDX-License-Identifier: Apache-2.0");
  });
  assert.deepStrictEqual(missing, []);
  assert.ok(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8").includes("Apache License"));
});
