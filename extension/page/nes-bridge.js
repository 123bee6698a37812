/* nes-bridge.js: the page's side of nesbridge (docs/protocol.md).
 * Classic script: defines globalThis.NesBridge and NesBridgeError.
 * ES module: import { NesBridge } from "./nes-bridge.mjs". */
(function (global) {
  "use strict";

  const PROTOCOL = 1;
  const PING_TIMEOUT_MS = 1000;

  class NesBridgeError extends Error {
    constructor(code, message, pcsc, detail) {
      super(message || code);
      this.name = "NesBridgeError";
      this.code = code;
      if (pcsc !== undefined) this.pcsc = pcsc;
      if (detail !== undefined) this.detail = detail;
    }
  }

  const origin = global.location.origin;
  const pending = new Map();
  let nextId = 1;
  let extension = null; /* Promise of the content script's pong */

  global.addEventListener("message", (event) => {
    if (event.source !== global || event.origin !== origin) return;
    const data = event.data;
    if (data === null || typeof data !== "object") return;
    if (data.nesbridge === "pong" && pongWaiter !== null) {
      pongWaiter(data);
      return;
    }
    if (data.nesbridge !== "reply" || !pending.has(data.id)) return;
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    if (data.ok) resolve(data.result);
    else {
      const e = data.error || {};
      /* A new host process will want its own hello (and knows no handles). */
      if (e.code === "native-disconnected" || e.code === "native-unavailable") helloDone = null;
      reject(new NesBridgeError(e.code || "unknown-error", e.message, e.pcsc, e.detail));
    }
  });

  let pongWaiter = null;
  function findExtension() {
    if (extension !== null) return extension;
    extension = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pongWaiter = null;
        extension = null; /* try again next time: it may get installed */
        reject(new NesBridgeError("extension-unavailable",
          "The nesbridge browser extension is not installed or not enabled for this site."));
      }, PING_TIMEOUT_MS);
      pongWaiter = (pong) => {
        clearTimeout(timer);
        pongWaiter = null;
        resolve(pong);
      };
      global.postMessage({ nesbridge: "ping" }, origin);
    });
    return extension;
  }

  async function request(cmd, args, extra) {
    await findExtension();
    const id = "nb-" + (nextId++);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      global.postMessage(Object.assign({ nesbridge: "request", id, cmd, args: args || {} }, extra || {}), origin);
    });
  }

  let helloDone = null;
  function hello() {
    if (helloDone === null) {
      helloDone = request("hello", { protocol: PROTOCOL }).then((result) => {
        if (result.protocol !== PROTOCOL) throw new NesBridgeError("version-mismatch", "nesbridge-host speaks protocol " + result.protocol);
        return result;
      }).catch((e) => {
        helloDone = null;
        throw e;
      });
    }
    return helloDone;
  }

  async function call(cmd, args, extra) {
    await hello();
    return request(cmd, args, extra);
  }

  function readersMap(readers) {
    const map = {};
    for (const r of readers) map[r.name] = r.state;
    return map;
  }

  /* Resolves with {reader, atr} once a card is in a reader. */
  async function waitForCard(options) {
    const opts = options || {};
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    const signal = opts.signal;
    if (signal && signal.aborted) throw new NesBridgeError("system-cancelled", "aborted");
    let readers = (await call("list-readers")).readers;
    for (;;) {
      const withCard = readers.find((r) => r.state.includes("present") && r.atr);
      if (withCard) return { reader: withCard.name, atr: withCard.atr };
      const left = deadline - Date.now();
      if (left <= 0) throw new NesBridgeError("timeout", "no card was inserted in time");
      const onAbort = () => request("cancel").catch(() => {});
      if (signal) signal.addEventListener("abort", onAbort, { once: true });
      try {
        const result = await call("wait-for-change", {
          readers: readersMap(readers),
          timeout_ms: Math.min(left, 3600000),
        });
        readers = result.readers;
      } finally {
        if (signal) signal.removeEventListener("abort", onAbort);
      }
      if (signal && signal.aborted) throw new NesBridgeError("system-cancelled", "aborted");
    }
  }

  const NesBridge = {
    PROTOCOL,
    hello,
    listReaders: async () => (await call("list-readers")).readers,
    waitForCard,
    connect: (reader, options) => call("connect", Object.assign({ reader }, options || {})),
    disconnect: (handle, disposition) => call("disconnect", disposition ? { handle, disposition } : { handle }),
    status: (handle) => call("status", { handle }),
    beginTransaction: (handle) => call("begin-transaction", { handle }),
    endTransaction: (handle) => call("end-transaction", { handle }),
    transmit: (handle, apdu, options) => call("transmit", Object.assign({ handle, apdu }, options || {})),
    getNonce: async (handle) => (await call("get-nonce", { handle })).nonce,
    /* options.askPin (true or {serial}): the extension asks the holder for
     * the new PIN in a window of its own and adds it; the page learns only
     * the result or the error code (pin-cancelled when the holder closes
     * the window). serial is shown there as what the site states.
     * options.pinpad: the holder types it on the reader instead. */
    runScript(handle, signed, options) {
      const opts = options || {};
      const args = { handle, script: signed.script, signature: signed.signature, key_id: signed.key_id };
      if (opts.pinpad) args.pinpad = true;
      let extra;
      if (opts.askPin) {
        extra = { ask_pin: {} };
        if (typeof opts.askPin === "object" && opts.askPin.serial !== undefined) extra.ask_pin.serial = opts.askPin.serial;
      }
      return call("run-script", args, extra);
    },
    /* Low-level: any command, for tests and diagnostics. */
    request: (cmd, args, extra) => call(cmd, args, extra),
  };

  global.NesBridge = NesBridge;
  global.NesBridgeError = NesBridgeError;
})(globalThis);
