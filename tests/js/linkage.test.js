/* SPDX-License-Identifier: Apache-2.0 */
/* What the host loads is part of its start-up cost (issue 18): it links
 * only pcsc-lite, cJSON and the C library; libcrypto is loaded by the first
 * signed script, never by a start, a hello or a bad request. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { execFileSync, spawnSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.resolve(process.env.NB_BUILD || path.join(ROOT, "build"));
const HOST = path.join(BUILD, "nesbridge-host");

/* The sanitizers' runtimes, when the build has them, are not the host's. */
const RUNTIME = /^lib(asan|ubsan|lsan|stdc\+\+|gcc_s)\.so/;

test("the host links pcsc-lite, cJSON and libc, nothing else", () => {
  const dynamic = execFileSync("readelf", ["-d", HOST], { encoding: "utf8" });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)]
    .map((m) => m[1]).filter((lib) => !RUNTIME.test(lib)).sort();
  assert.deepStrictEqual(needed, ["libc.so.6", "libcjson.so.1", "libpcsclite.so.1"]);
});

function frame(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

test("a hello and a refused request load no libcrypto", () => {
  const input = Buffer.concat([
    frame({ id: 1, cmd: "hello", origin: "https://kamusm.gov.tr", args: { protocol: 1 } }),
    frame({ id: 2, cmd: "run-script", origin: "https://kamusm.gov.tr", args: {} }),
    Buffer.from([5, 0, 0, 0]), Buffer.from("{bad}"),
  ]);
  const r = spawnSync(HOST, ["chrome-extension://nesbridgetest/"], {
    input, env: { PATH: process.env.PATH, LD_DEBUG: "libs", NESBRIDGE_CONFIG: "/nonexistent" }, timeout: 10000,
  });
  assert.strictEqual(r.status, 0, r.stderr.toString().slice(-2000));
  const replies = [];
  for (let at = 0; at + 4 <= r.stdout.length;) {
    const len = r.stdout.readUInt32LE(at);
    replies.push(JSON.parse(r.stdout.subarray(at + 4, at + 4 + len).toString()));
    at += 4 + len;
  }
  assert.strictEqual(replies.length, 3, JSON.stringify(replies));
  const loaded = r.stderr.toString();
  assert.match(loaded, /libpcsclite\.so\.1/); /* LD_DEBUG did report */
  assert.doesNotMatch(loaded, /libcrypto|libm\.so/);
});
