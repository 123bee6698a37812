/* SPDX-License-Identifier: Apache-2.0 */
/* Runs build/nesbridge-host as a browser does and speaks raw frames to it;
 * optionally under valgrind (NB_VALGRIND=1), or another program given as
 * opts.command (["wine", "x.exe"] for the Windows build). */
"use strict";

const path = require("path");
const { spawn } = require("child_process");

const BUILD = path.resolve(process.env.NB_BUILD || path.join(__dirname, "..", "..", "build"));
const CALLER = "chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/";

class Host {
  constructor(args, opts) {
    const o = opts || {};
    const bin = path.join(BUILD, "nesbridge-host");
    const argv = args === undefined ? [CALLER] : args;
    this.valgrind = o.valgrind;
    this.child = o.valgrind
      ? spawn("valgrind", ["--quiet", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
        "--show-leak-kinds=definite,indirect", bin, ...argv], { stdio: ["pipe", "pipe", "pipe"], env: o.env || process.env })
      : o.command
        ? spawn(o.command[0], [...o.command.slice(1), ...argv], { stdio: ["pipe", "pipe", "pipe"], env: o.env || process.env })
        : spawn(bin, argv, { stdio: ["pipe", "pipe", "pipe"], env: o.env || process.env });
    this.buffer = Buffer.alloc(0);
    this.waiters = [];
    this.stderr = "";
    this.child.stdout.on("data", (d) => { this.buffer = Buffer.concat([this.buffer, d]); this.pump(); });
    this.child.stderr.on("data", (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
    this.child.stdin.on("error", () => {});
  }

  pump() {
    while (this.waiters.length > 0 && this.buffer.length >= 4) {
      const len = this.buffer.readUInt32LE(0);
      if (this.buffer.length < 4 + len) return;
      const body = this.buffer.subarray(4, 4 + len).toString("utf8");
      this.buffer = this.buffer.subarray(4 + len);
      this.waiters.shift()(JSON.parse(body));
    }
  }

  raw(bytes) {
    this.child.stdin.write(bytes);
  }

  frame(text) {
    const body = Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8");
    const header = Buffer.alloc(4);
    header.writeUInt32LE(body.length);
    this.raw(Buffer.concat([header, body]));
  }

  reply(ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reply within " + ms + " ms")), ms);
      this.waiters.push((r) => { clearTimeout(timer); resolve(r); });
      this.pump();
    });
  }

  async call(text, ms) {
    this.frame(text);
    return this.reply(ms || (this.valgrind ? 10000 : 1000));
  }

  request(cmd, args, id) {
    return this.call(JSON.stringify({ id: id === undefined ? 1 : id, cmd, origin: "https://kamusm.gov.tr", args }));
  }

  async end(ms) {
    this.child.stdin.end();
    const timer = new Promise((resolve) => setTimeout(() => resolve(null), ms || 1000));
    const result = await Promise.race([this.exited, timer]);
    if (result === null) this.child.kill("SIGKILL");
    return result;
  }
}

module.exports = { Host, BUILD, CALLER };
