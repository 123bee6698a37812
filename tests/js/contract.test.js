/* SPDX-License-Identifier: Apache-2.0 */
/* docs/protocol.md is the contract: its tables must say what the code does.
 * The host's side comes from build/tests/contract-dump (the command table,
 * error codes, configuration keys and limits as compiled); the page's side
 * from nes-bridge.d.ts and extension/common.js. Every difference fails,
 * naming the row. The checks are also run on altered copies of the doc, to
 * show that a changed row is noticed. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));
const DOC = fs.readFileSync(path.join(ROOT, "docs", "protocol.md"), "utf8");
const DTS = fs.readFileSync(path.join(ROOT, "extension", "page", "nes-bridge.d.ts"), "utf8");
const COMMON = require("../../extension/common.js");
const CODE = JSON.parse(execFileSync(path.join(BUILD, "tests", "contract-dump"), { encoding: "utf8" }));

/* The doc's Limits rows, by the name the dump gives each limit. */
const LIMIT_ROWS = {
  "request frame, bytes": "request_bytes",
  "reply frame, bytes": "reply_bytes",
  "JSON nesting, levels": "json_depth",
  "members of one JSON object or array": "json_members",
  "string `id`, bytes": "id_string_bytes",
  "card handles at once": "handles",
  "reader name, bytes": "reader_name_bytes",
  "readers reported by `list-readers` and watched by `wait-for-change`": "readers",
  "`wait-for-change` `timeout_ms`, most": "wait_timeout_ms",
  "nonce lifetime, seconds": "nonce_lifetime_s",
  "nonces held at once per host process": "nonce_slots",
  "`run-script` `script`, base64 characters": "script_b64_bytes",
  "`run-script` `signature`, base64 characters": "signature_b64_bytes",
  "script steps": "script_steps",
  "status word patterns per step (`expect`)": "step_expect",
  "APDU of a script step, bytes": "step_apdu_bytes",
  "new PIN length a script may ask for, least": "new_pin_min",
  "new PIN length a script may ask for, most": "new_pin_max",
  "PIN block on a pinpad (`pad_to`), bytes": "pinpad_block",
  "pinpad entry, seconds": "pinpad_limit_s",
  "trusted authority keys": "trusted_keys",
  "`allow_origin` lines": "allow_origin_lines",
  "configuration line, bytes before the newline": "config_line_bytes",
  "`card_timeout_ms`, least": "card_timeout_min_ms",
  "`card_timeout_ms`, most": "card_timeout_max_ms",
  "`card_timeout_ms`, default": "card_timeout_default_ms",
};

/* Splits a table row into cells; a | inside backticks stays. */
function cells(line) {
  const out = [];
  let cell = "", code = false;
  for (const c of line.trim().slice(1, -1)) {
    if (c === "`") code = !code;
    if (c === "|" && !code) {
      out.push(cell.trim());
      cell = "";
    } else {
      cell += c;
    }
  }
  out.push(cell.trim());
  return out;
}

/* The rows of the table whose header is exactly these columns. */
function table(doc, columns) {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => l.trim() === "| " + columns.join(" | ") + " |");
  if (start < 0) return null;
  const rows = [];
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith("|"); i++) rows.push(cells(lines[i]));
  return rows;
}

function ticked(text) {
  return [...text.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
}

/* A command row's argument keys: in each ;-separated part, the backticked
 * names before its first colon. */
function argKeys(cell) {
  if (cell === "none") return [];
  const keys = [];
  let part = "", code = false;
  const parts = [];
  for (const c of cell) {
    if (c === "`") code = !code;
    if (c === ";" && !code) {
      parts.push(part);
      part = "";
    } else {
      part += c;
    }
  }
  parts.push(part);
  for (const p of parts) {
    let head = "", inCode = false;
    for (const c of p) {
      if (c === "`") inCode = !inCode;
      if (c === ":" && !inCode) break;
      head += c;
    }
    for (const name of ticked(head)) if (/^[a-z_]+$/.test(name)) keys.push(name);
  }
  return keys;
}

function sameSet(a, b) {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

function commandProblems(doc) {
  const rows = table(doc, ["command", "args", "result"]);
  if (rows === null) return ["no commands table (| command | args | result |)"];
  const problems = [];
  const docNames = rows.map((r) => ticked(r[0])[0]);
  for (const cmd of CODE.commands) {
    const row = rows.find((r) => ticked(r[0])[0] === cmd.name);
    if (!row) {
      problems.push(`commands: no row for ${cmd.name}`);
      continue;
    }
    const keys = argKeys(row[1]);
    const code = cmd.args.map((a) => a.name);
    if (!sameSet(keys, code)) problems.push(`commands: row ${cmd.name} lists args [${keys}], the host takes [${code}]`);
    for (const arg of cmd.args) {
      const m = new RegExp("`" + arg.name + "`: (integer|bool|object)").exec(row[1]);
      if (m && m[1] !== arg.type) problems.push(`commands: row ${cmd.name}: ${arg.name} is ${m[1]} in the doc, ${arg.type} in the host`);
    }
  }
  for (const name of docNames) {
    if (!CODE.commands.some((c) => c.name === name)) problems.push(`commands: row ${name} names no host command`);
  }
  return problems;
}

function errorRows(doc) {
  const rows = table(doc, ["code", "meaning", "from"]) || [];
  return rows.map((r) => ({ code: ticked(r[0])[0], from: r[2] }));
}

function errorProblems(doc) {
  const rows = errorRows(doc);
  if (rows.length === 0) return ["no error table (| code | meaning | from |)"];
  const problems = [];
  const fromHost = (from) => /host|policy|SCARD_/.test(from);
  const hostRows = rows.filter((r) => fromHost(r.from)).map((r) => r.code);
  for (const code of CODE.errors) {
    if (!rows.some((r) => r.code === code)) problems.push(`errors: no row for the host's ${code}`);
    else if (!hostRows.includes(code)) problems.push(`errors: row ${code} does not say the host reports it`);
  }
  for (const code of hostRows) {
    if (!CODE.errors.includes(code)) problems.push(`errors: row ${code} says host, but host/errors.c has no such code`);
  }
  const union = [...DTS.matchAll(/"([a-z-]+)"/g)].map((m) => m[1]);
  const unionBlock = /export type ErrorCode =([^;]*);/.exec(DTS);
  const dtsCodes = unionBlock ? [...unionBlock[1].matchAll(/"([a-z-]+)"/g)].map((m) => m[1]) : [];
  if (union.length === 0 || dtsCodes.length === 0) problems.push("errors: no ErrorCode union in nes-bridge.d.ts");
  for (const r of rows) {
    if (!dtsCodes.includes(r.code)) problems.push(`errors: row ${r.code} is missing from nes-bridge.d.ts's ErrorCode`);
  }
  for (const code of dtsCodes) {
    if (!rows.some((r) => r.code === code)) problems.push(`errors: nes-bridge.d.ts's ${code} has no row`);
  }
  for (const code of COMMON.EXTENSION_CODES) {
    const row = rows.find((r) => r.code === code);
    if (!row || !/extension/.test(row.from)) problems.push(`errors: the extension's own ${code} has no row saying extension`);
  }
  for (const r of rows.filter((x) => /^extension/.test(x.from) && !fromHost(x.from))) {
    if (!COMMON.EXTENSION_CODES.includes(r.code)) problems.push(`errors: row ${r.code} says extension, but common.js does not list it`);
  }
  return problems;
}

function configProblems(doc) {
  const rows = table(doc, ["key", "meaning"]);
  if (rows === null) return ["no configuration table (| key | meaning |)"];
  const keys = rows.map((r) => ticked(r[0])[0]);
  const problems = [];
  for (const key of CODE.config_keys) if (!keys.includes(key)) problems.push(`config: no row for ${key}`);
  for (const key of keys) if (!CODE.config_keys.includes(key)) problems.push(`config: row ${key} is no key of host/config.c`);
  return problems;
}

function limitProblems(doc) {
  const rows = table(doc, ["limit", "value"]);
  if (rows === null) return ["no Limits table (| limit | value |)"];
  const problems = [];
  for (const [what, value] of rows) {
    const name = LIMIT_ROWS[what];
    if (name === undefined) problems.push(`limits: row "${what}" is not known to this test`);
    else if (Number(value) !== CODE.limits[name]) problems.push(`limits: row "${what}" says ${value}, the code ${CODE.limits[name]}`);
  }
  for (const [what, name] of Object.entries(LIMIT_ROWS)) {
    if (!rows.some((r) => r[0] === what)) problems.push(`limits: no row "${what}" (${name} = ${CODE.limits[name]})`);
  }
  for (const name of Object.keys(CODE.limits)) {
    if (!Object.values(LIMIT_ROWS).includes(name)) problems.push(`limits: the code's ${name} has no row`);
  }
  return problems;
}

function allProblems(doc) {
  return [...commandProblems(doc), ...errorProblems(doc), ...configProblems(doc), ...limitProblems(doc)];
}

test("docs/protocol.md says what the code does", () => {
  assert.deepStrictEqual(allProblems(DOC), []);
});

test("the extension passes on exactly the host's commands", () => {
  const host = CODE.commands.map((c) => c.name);
  assert.ok(sameSet([...COMMON.PAGE_COMMANDS], host), `extension: [${[...COMMON.PAGE_COMMANDS]}], host: [${host}]`);
});

/* Each alteration of the doc must be noticed, by a message naming it. */
test("a changed row of the doc is noticed, and named", () => {
  const alterations = [
    ["| request frame, bytes | 262144 |", "| request frame, bytes | 262145 |", /request frame/],
    ["| `trust_dir` |", "| `trust_directory` |", /trust_dir/],
    ["| `pin-timeout` |", "| `pin-time-out` |", /pin-time/],
    ["`get_response`: bool", "`follow`: bool", /row transmit/],
    ["| `get-nonce` | `handle` |", "| `get-nonce` | `handle`; `lifetime`: integer |", /row get-nonce/],
    ["| `hello` | `protocol`: integer", "| `hello` | `protocol`: bool", /protocol is bool/],
    ["| `native-disconnected` |", "| `native-vanished` |", /native-(disconnected|vanished)/],
    ["| card handles at once | 8 |\n", "", /card handles at once/],
  ];
  for (const [from, to, named] of alterations) {
    assert.ok(DOC.includes(from), `the doc no longer holds ${JSON.stringify(from)}: update this test`);
    const problems = allProblems(DOC.replace(from, to));
    assert.ok(problems.some((p) => named.test(p)), `${JSON.stringify(to)} went unnoticed: ${problems}`);
  }
});
