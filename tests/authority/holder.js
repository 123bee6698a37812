#!/usr/bin/env node
/* SPDX-License-Identifier: Apache-2.0 */
/* The holder's side of an unlock without a browser: plays the page and
 * the extension against the real nesbridge-host (NESBRIDGE_CONFIG names its
 * trust directory), the way the demo site's page does (site/public/
 * unlock.js): connect, get-nonce, GET CHALLENGE, GET DATA (serial), the
 * server's prepare call, run-script with the new PIN. Used by the tests
 * and by the worked example of docs/authority.md:
 *   node tests/authority/holder.js --reader NAME --prepare "COMMAND" --new-pin DIGITS
 * COMMAND gets the prepare request ({nonce, challenge, atr, serial}) on its
 * stdin and prints the signed script ({script, signature, key_id}). Prints
 * each exchange; exit 0 when the script completed. */
"use strict";

const { spawn } = require("child_process");
const { Host } = require("../battery/host");

const ORIGIN = "https://kamusm.gov.tr";

async function call(host, cmd, args, ms) {
  const reply = await host.call(JSON.stringify({ id: 1, cmd, origin: ORIGIN, args }), ms || 5000);
  return reply;
}

function must(reply, what) {
  if (!reply.ok) throw new Error(what + ": " + reply.error.code);
  return reply.result;
}

/* Connects to the reader through a fresh host: { host, handle, atr }. */
async function open(reader, env) {
  const host = new Host(undefined, { env: env || process.env });
  must(await call(host, "hello", { protocol: 1 }), "hello");
  const conn = must(await call(host, "connect", { reader }), "connect");
  return { host, handle: conn.handle, atr: conn.atr };
}

/* The unlock: prepare(request) resolves with the signed script. Returns
 * { request, signed, reply } (reply: run-script's). */
async function unlock({ reader, prepare, newPin, env, log }) {
  const say = log || (() => {});
  const { host, handle, atr } = await open(reader, env);
  try {
    const nonce = must(await call(host, "get-nonce", { handle }), "get-nonce").nonce;
    const challenge = must(await call(host, "transmit", { handle, apdu: "0084000008" }), "GET CHALLENGE").data;
    const serial = Buffer.from(must(await call(host, "transmit", { handle, apdu: "00CA005A00" }), "GET DATA").data, "hex")
      .toString("latin1");
    const request = { nonce, challenge, atr, serial };
    say("page -> server  POST /api/unlock/prepare " + JSON.stringify(request));
    const signed = await prepare(request);
    say("server -> page  200 " + JSON.stringify(signed));
    say("page -> host    run-script {handle, script, signature, key_id} + new_pin from the extension's window");
    const reply = await call(host, "run-script", Object.assign({ handle }, signed, { new_pin: newPin, new_pin_confirm: newPin }),
      30000);
    say("host -> page    " + JSON.stringify(reply.ok ? reply.result : reply.error));
    return { request, signed, reply };
  } finally {
    await host.end(2000);
  }
}

/* Runs a shell command with the request on stdin; resolves with its
 * stdout as JSON. */
function commandPrepare(command, env) {
  return (request) => new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { env: env || process.env, stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error("prepare exited with " + code));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error("prepare printed no JSON: " + out.slice(0, 200)));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}

module.exports = { open, call, must, unlock, commandPrepare, ORIGIN };

if (require.main === module) {
  const args = {};
  for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
  if (!args.reader || !args.prepare || !/^[0-9]{6,8}$/.test(args["new-pin"] || "")) {
    process.stderr.write("usage: holder.js --reader NAME --prepare COMMAND --new-pin DIGITS\n");
    process.exit(2);
  }
  unlock({ reader: args.reader, prepare: commandPrepare(args.prepare), newPin: args["new-pin"], log: console.log })
    .then(({ reply }) => process.exit(reply.ok && reply.result.completed ? 0 : 1))
    .catch((e) => {
      console.error("holder: " + e.message);
      process.exit(1);
    });
}
