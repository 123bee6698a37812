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
/* PC/SC's codes by name, as host/errors.h spells them; *_WIN are WinSCard's. */
const PCSC_NAMES = new Map([...fs.readFileSync(path.join(ROOT, "host", "errors.h"), "utf8")
  .matchAll(/#define NB_(SCARD_[A-Z_]+)\s+0x([0-9A-Fa-f]{8})u/g)].map((m) => [m[1], "0x" + m[2].toUpperCase()]));

/* The transport table's rows: the limit each holds, and where its number is. */
const TRANSPORT_ROWS = {
  "request frame": ["request_bytes", /^1 to (\d+) bytes$/],
  "reply frame": ["reply_bytes", /^at most (\d+) bytes/],
  "JSON nesting": ["json_depth", /^(\d+) levels$/],
  "members of one object or array": ["json_members", /^(\d+)$/],
};

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

/* A command row's arguments: in each ;-separated part, the backticked
 * names before its first colon, each with the text after that colon and
 * the whole part. */
function argSegments(cell) {
  if (cell === "none") return [];
  const parts = [];
  let part = "", code = false;
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
  const out = [];
  for (const p of parts) {
    let head = "", inCode = false;
    for (const c of p) {
      if (c === "`") inCode = !inCode;
      if (c === ":" && !inCode) break;
      head += c;
    }
    for (const name of ticked(head)) if (/^[a-z_]+$/.test(name)) out.push({ name, text: p.slice(head.length + 1).trim(), whole: p });
  }
  return out;
}

function argKeys(cell) {
  return argSegments(cell).map((a) => a.name);
}

/* The first cells that appear more than once. */
function duplicates(names) {
  return names.filter((n, i) => names.indexOf(n) !== i);
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
    const segments = argSegments(row[1]);
    for (const arg of cmd.args) {
      const segment = segments.find((a) => a.name === arg.name);
      if (!segment) continue;
      /* The type, when the doc names one first. */
      const m = /^(integer|bool|object|string|array)s?\b/.exec(segment.text);
      if (m && m[1] !== arg.type) problems.push(`commands: row ${cmd.name}: ${arg.name} is ${m[1]} in the doc, ${arg.type} in the host`);
      /* An argument with a default is optional; an optional one says so. */
      const saysOptional = /\(default|only for|optional/.test(segment.whole);
      if (arg.required && saysOptional) problems.push(`commands: row ${cmd.name}: ${arg.name} has a default in the doc, the host requires it`);
      if (!arg.required && !saysOptional) problems.push(`commands: row ${cmd.name}: ${arg.name} is optional in the host, the doc gives no default`);
    }
  }
  for (const name of duplicates(docNames)) problems.push(`commands: row ${name} appears twice`);
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
  for (const code of duplicates(rows.map((r) => r.code))) problems.push(`errors: row ${code} appears twice`);
  for (const code of COMMON.EXTENSION_CODES) {
    const row = rows.find((r) => r.code === code);
    if (!row || !/extension/.test(row.from)) problems.push(`errors: the extension's own ${code} has no row saying extension`);
  }
  for (const r of rows.filter((x) => /^extension/.test(x.from) && !fromHost(x.from))) {
    if (!COMMON.EXTENSION_CODES.includes(r.code)) problems.push(`errors: row ${r.code} says extension, but common.js does not list it`);
  }
  return problems;
}

/* Each PC/SC code the doc names is in the row of the error the host makes
 * of it, and each code the host maps to a named error is named there. */
function pcscProblems(doc) {
  const rows = errorRows(doc);
  const problems = [];
  for (const r of rows) {
    for (const name of r.from.match(/SCARD_[A-Z_]+/g) || []) {
      if (PCSC_NAMES.has(name)) {
        const becomes = CODE.pcsc[PCSC_NAMES.get(name)];
        if (becomes !== r.code) problems.push(`errors: row ${r.code} names ${name}, which the host reports as ${becomes}`);
      } else if (!PCSC_NAMES.has(name + "_WIN")) {
        problems.push(`errors: row ${r.code} names ${name}, no PC/SC code of host/errors.h`);
      }
    }
  }
  for (const [name, value] of PCSC_NAMES) {
    if (name === "SCARD_S_SUCCESS" || name.endsWith("_WIN")) continue;
    const becomes = CODE.pcsc[value];
    if (becomes === "unknown-error" && name !== "SCARD_F_UNKNOWN_ERROR") continue;
    const row = rows.find((r) => r.code === becomes);
    if (!row || !(row.from.match(/SCARD_[A-Z_]+/g) || []).includes(name)) {
      problems.push(`errors: the host reports ${name} as ${becomes}, and that row does not name it`);
    }
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
  for (const key of duplicates(keys)) problems.push(`config: row ${key} appears twice`);
  return problems;
}

function limitProblems(doc) {
  const rows = table(doc, ["limit", "value"]);
  if (rows === null) return ["no Limits table (| limit | value |)"];
  const problems = [];
  for (const [what, value] of rows) {
    const name = LIMIT_ROWS[what];
    if (name === undefined) problems.push(`limits: row "${what}" is not known to this test`);
    else if (!/^\d+$/.test(value) || Number(value) !== CODE.limits[name]) problems.push(`limits: row "${what}" says ${value}, the code ${CODE.limits[name]}`);
  }
  for (const what of duplicates(rows.map((r) => r[0]))) problems.push(`limits: row "${what}" appears twice`);
  const transport = table(doc, ["limit", "value", "when exceeded"]);
  if (transport === null) return [...problems, "no transport table (| limit | value | when exceeded |)"];
  for (const [what, [name, pattern]] of Object.entries(TRANSPORT_ROWS)) {
    const row = transport.find((r) => r[0] === what);
    const m = row ? pattern.exec(row[1]) : null;
    if (!m) problems.push(`transport: no row "${what}" with its number as ${pattern}`);
    else if (Number(m[1]) !== CODE.limits[name]) problems.push(`transport: row "${what}" says ${m[1]}, the code ${CODE.limits[name]}`);
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
  return [...commandProblems(doc), ...errorProblems(doc), ...pcscProblems(doc), ...configProblems(doc),
    ...limitProblems(doc)];
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
    ["| card handles at once | 8 |", "| card handles at once | 8.0 |", /card handles at once/],
    ["| card handles at once | 8 |", "| card handles at once | 8 |\n| card handles at once | 8 |", /appears twice/],
    ["| `cancel` | none |", "| `cancel` | none |\n| `cancel` | none |", /row cancel appears twice/],
    ["| JSON nesting | 8 levels |", "| JSON nesting | 9 levels |", /transport: row "JSON nesting"/],
    ["| `reset-card` | another program reset the card | SCARD_W_RESET_CARD |",
      "| `reset-card` | another program reset the card | SCARD_W_REMOVED_CARD |", /SCARD_W_(RESET|REMOVED)_CARD/],
    ["SCARD_E_INVALID_PARAMETER, SCARD_E_INVALID_VALUE,", "SCARD_E_INVALID_PARAMETER/VALUE,", /SCARD_E_INVALID_VALUE/],
    ["`get_response`: bool (default false)", "`get_response`: bool", /get_response is optional/],
    ["`pinpad`: bool (default false)", "`pinpad`: string (default false)", /pinpad is string/],
    ["| `status` | `handle` |", "| `status` | `handle` (default the last one) |", /row status: handle has a default/],
  ];
  for (const [from, to, named] of alterations) {
    assert.ok(DOC.includes(from), `the doc no longer holds ${JSON.stringify(from)}: update this test`);
    const problems = allProblems(DOC.replace(from, to));
    assert.ok(problems.some((p) => named.test(p)), `${JSON.stringify(to)} went unnoticed: ${problems}`);
  }
});
