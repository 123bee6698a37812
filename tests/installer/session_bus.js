/* SPDX-License-Identifier: Apache-2.0 */
/* A private session bus (Debian's dbus-daemon) for the sandbox tests, and
 * the stand-in services of sandbox_services.py on it. The bus has no
 * service directory, so nothing installed on this machine can be started
 * on it: only what a test starts answers. */
"use strict";

const fs = require("fs");
const path = require("path");
const { spawn, execFileSync } = require("child_process");

const PYTHON = "/usr/bin/python3"; /* Debian's, with python3-dbus and python3-gi */
const SERVICES = path.join(__dirname, "sandbox_services.py");

function startBus(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const conf = path.join(dir, "bus.conf");
  fs.writeFileSync(conf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`);
  /* --fork returns once the bus listens; it prints the address, then the pid. */
  const out = execFileSync("dbus-daemon", ["--config-file=" + conf, "--fork", "--print-address=1", "--print-pid=1", "--nopidfile"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 20000 }).trim().split("\n");
  const address = out[0];
  const pid = Number(out[1]);
  return { address, pid, stop: () => { try { process.kill(pid); } catch (e) { /* gone already */ } } };
}

/* Starts the stand-ins with args; resolves once they own their names. */
function startServices(bus, home, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SERVICES, ...args], {
      env: { PATH: process.env.PATH, HOME: home, DBUS_SESSION_BUS_ADDRESS: bus.address },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    const timer = setTimeout(() => { child.kill(); reject(new Error("stand-ins not ready: " + err)); }, 30000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("ready\n")) {
        clearTimeout(timer);
        resolve({
          stop: () => new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill();
          }),
        });
      }
    });
    child.stderr.on("data", (d) => { err += d; });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error("stand-ins ended (" + code + "): " + err)); });
  });
}

module.exports = { startBus, startServices, PYTHON };
