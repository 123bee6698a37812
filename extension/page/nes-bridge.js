/* SPDX-License-Identifier: Apache-2.0 */
/* nes-bridge.js: the page's side of nesbridge (docs/protocol.md).
 * Classic script: defines globalThis.NesBridge and NesBridgeError.
 * ES module: import { NesBridge } from "./nes-bridge.mjs".
 *
 * Every promise it gives settles: each call has a deadline (a default per
 * command, options.timeoutMs to change it) and takes an AbortSignal
 * (options.signal); a lost extension port or native host fails what was
 * pending on it; after any end of the host the next call starts a new one
 * and says hello by itself. */
(function (global) {
  "use strict";

  const PROTOCOL = 1;
  const PING_TIMEOUT_MS = 1000;
  /* Default deadlines. The host bounds each card exchange by its
   * card_timeout_ms (default 30 s) and then answers unresponsive-card: a
   * card command waits longer than that, so that the host's own answer
   * wins. run-script: up to 256 exchanges; with a pinpad the reader waits
   * up to 130 s; with askPin the holder types in the extension's window. */
  const QUICK_MS = 15000;
  const CARD_MS = 45000;
  const TIMEOUTS = {
    "hello": QUICK_MS, "list-readers": QUICK_MS, "cancel": QUICK_MS,
    "connect": CARD_MS, "disconnect": CARD_MS, "status": CARD_MS, "begin-transaction": CARD_MS,
    "end-transaction": CARD_MS, "transmit": CARD_MS, "get-nonce": CARD_MS, "run-script": 120000,
  };
  const RUN_SCRIPT_PINPAD_MS = 180000;
  const RUN_SCRIPT_ASK_PIN_MS = 600000;
  /* Above wait-for-change's own timeout_ms. */
  const WAIT_MARGIN_MS = 15000;
  /* Commands whose work the host (or the extension's PIN window) can end
   * when the page gives up on them: a later request ends a wait, and
   * cancel closes a PIN window that is still asking. */
  const CANCELLABLE = new Set(["wait-for-change", "begin-transaction", "run-script"]);
  /* Codes after which the host process may be gone: the next call says
   * hello first (a new host wants it; an old one does not mind). */
  const HOST_ENDED = new Set(["native-disconnected", "native-unavailable", "unresponsive-card", "extension-unavailable"]);

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
  const pending = new Map(); /* id -> {resolve, reject} */
  let nextId = 1;
  let extension = null; /* Promise of the content script's pong */
  let helloDone = null;

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
      if (HOST_ENDED.has(e.code)) helloDone = null;
      if (e.code === "extension-unavailable") extension = null;
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

  /* Posts one request; ctx.id learns its id (so that a deadline can drop it). */
  async function post(cmd, args, extra, ctx) {
    await findExtension();
    if (ctx.settled) throw ctx.settled;
    const id = "nb-" + (nextId++);
    ctx.id = id;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      global.postMessage(Object.assign({ nesbridge: "request", id, cmd, args: args || {} }, extra || {}), origin);
    });
  }

  /* hello once per host process. A hello that finds the old host gone
   * (the watchdog ended it, it crashed or was killed) is tried once more:
   * the extension starts a new one. */
  function hello(options) {
    if (helloDone === null) {
      const once = () => call("hello", { protocol: PROTOCOL }, undefined, options, true);
      helloDone = once().catch((e) => {
        if (e instanceof NesBridgeError && e.code === "native-disconnected") return once();
        throw e;
      }).then((result) => {
        if (result.protocol !== PROTOCOL) throw new NesBridgeError("version-mismatch", "nesbridge-host speaks protocol " + result.protocol);
        return result;
      }).catch((e) => {
        helloDone = null;
        throw e;
      });
    }
    return helloDone;
  }

  function deadlineFor(cmd, args, extra, timeoutMs) {
    if (timeoutMs !== undefined) {
      if (timeoutMs === Infinity) return Infinity;
      if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) throw new TypeError("timeoutMs must be a positive number or Infinity");
      return timeoutMs;
    }
    if (cmd === "wait-for-change") {
      const wait = args && typeof args.timeout_ms === "number" ? args.timeout_ms : 0;
      return wait + WAIT_MARGIN_MS;
    }
    if (cmd === "run-script" && extra && extra.ask_pin) return RUN_SCRIPT_ASK_PIN_MS;
    if (cmd === "run-script" && args && args.pinpad) return RUN_SCRIPT_PINPAD_MS;
    return TIMEOUTS[cmd] || CARD_MS;
  }

  /* One library call: hello first (unless skipHello: the hello itself, a
   * cancel, the low-level request of a hello), the request,
   * its deadline and its signal. A host that answers hello-required was
   * started anew since our hello: say hello and send the request again
   * (nothing was done by the refused one). */
  function call(cmd, args, extra, options, skipHello) {
    const opts = options || {};
    const signal = opts.signal;
    let ms;
    try {
      ms = deadlineFor(cmd, args, extra, opts.timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const ctx = { id: null, settled: null };
      let timer = null;
      const onAbort = () => giveUp(new NesBridgeError("system-cancelled", cmd + ": aborted by the page"));
      function finish() {
        if (timer !== null) clearTimeout(timer);
        if (signal) signal.removeEventListener("abort", onAbort);
      }
      function giveUp(error) {
        if (ctx.settled) return;
        ctx.settled = error;
        finish();
        if (ctx.id !== null && pending.has(ctx.id)) {
          pending.delete(ctx.id);
          /* The host (or the PIN window) may still be busy with it. */
          if (CANCELLABLE.has(cmd)) call("cancel", {}, undefined, undefined, true).catch(() => {});
        }
        reject(error);
      }
      if (signal) {
        if (signal.aborted) {
          onAbort();
          return;
        }
        signal.addEventListener("abort", onAbort, { once: true });
      }
      if (ms !== Infinity) {
        timer = setTimeout(() => giveUp(new NesBridgeError("timeout", cmd + ": no answer within " + ms + " ms")), ms);
      }
      (async () => {
        /* The hello is shared by every call waiting for it: no one
         * caller's signal or deadline ends it. */
        if (!skipHello) await hello();
        if (ctx.settled) throw ctx.settled;
        try {
          return await post(cmd, args, extra, ctx);
        } catch (e) {
          if (skipHello || ctx.settled || !(e instanceof NesBridgeError) || e.code !== "hello-required") throw e;
          helloDone = null;
          await hello();
          if (ctx.settled) throw ctx.settled;
          return post(cmd, args, extra, ctx);
        }
      })().then((value) => {
        if (ctx.settled) return;
        ctx.settled = true;
        finish();
        resolve(value);
      }, (error) => {
        if (ctx.settled) return;
        ctx.settled = error;
        finish();
        reject(error);
      });
    });
  }

  /* The historical bytes of an ATR (ISO/IEC 7816-3), as upper-case hex;
   * "" when the ATR cannot be read. */
  function historicalBytes(atr) {
    if (typeof atr !== "string" || !/^([0-9A-Fa-f]{2})+$/.test(atr)) return "";
    const bytes = atr.toUpperCase().match(/../g).map((h) => parseInt(h, 16));
    if (bytes.length < 2) return "";
    const count = bytes[1] & 0x0F;
    let i = 1; /* T0, then each TDi */
    let next = 2;
    for (;;) {
      const y = bytes[i] >> 4;
      const present = (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1) + ((y >> 3) & 1);
      if (y & 8) {
        i = next + present - 1; /* TDi is the last interface byte of the group */
        next += present;
        if (i >= bytes.length) return "";
      } else {
        next += present;
        break;
      }
    }
    if (next + count > bytes.length) return "";
    return atr.toUpperCase().slice(next * 2, (next + count) * 2);
  }

  /* An ATR pattern: hex digits, "?" for any nibble, matching the whole
   * ATR (as a signed script's expect does); or a RegExp over its
   * upper-case hex. */
  function atrMatches(pattern, atr) {
    if (typeof atr !== "string") return false;
    const hex = atr.toUpperCase();
    if (pattern instanceof RegExp) return pattern.test(hex);
    if (typeof pattern !== "string" || !/^[0-9A-Fa-f?]+$/.test(pattern)) throw new TypeError("atr: hex digits and ? only, or a RegExp");
    const p = pattern.toUpperCase();
    if (p.length !== hex.length) return false;
    for (let k = 0; k < p.length; k++) if (p[k] !== "?" && p[k] !== hex[k]) return false;
    return true;
  }

  /* The readers with a card that the page wants: options.atr (a pattern,
   * see atrMatches) and options.filter(reader) (a predicate) must both
   * accept it when given. */
  function wantedCards(readers, options) {
    const opts = options || {};
    return readers.filter((r) => Array.isArray(r.state) && r.state.includes("present") && r.atr &&
      (opts.atr === undefined || atrMatches(opts.atr, r.atr)) &&
      (typeof opts.filter !== "function" || opts.filter(r) === true))
      .map((r) => ({ reader: r.name, atr: r.atr }));
  }

  function readersMap(readers) {
    const map = {};
    for (const r of readers) map[r.name] = r.state;
    return map;
  }

  /* Resolves with {reader, atr, cards} once a card the page wants is in a
   * reader; cards lists every such card present then (the page may ask
   * the holder which one). options.timeoutMs bounds the whole wait
   * (default: none); options.signal ends it with system-cancelled. */
  async function waitForCard(options) {
    const opts = options || {};
    const deadline = opts.timeoutMs === undefined || opts.timeoutMs === Infinity ? Infinity : Date.now() + opts.timeoutMs;
    const signal = opts.signal;
    const aborted = () => new NesBridgeError("system-cancelled", "waitForCard: aborted by the page");
    if (signal && signal.aborted) throw aborted();
    const left = () => Math.max(1, deadline - Date.now());
    let readers = (await call("list-readers", undefined, undefined, { signal })).readers;
    for (;;) {
      const cards = wantedCards(readers, opts);
      if (cards.length > 0) return { reader: cards[0].reader, atr: cards[0].atr, cards };
      if (deadline - Date.now() <= 0) throw new NesBridgeError("timeout", "no card was inserted in time");
      try {
        const waitMs = Math.min(left(), 3600000);
        const result = await call("wait-for-change", { readers: readersMap(readers), timeout_ms: waitMs }, undefined, { signal });
        readers = result.readers;
      } catch (e) {
        if (signal && signal.aborted) throw aborted();
        if (!(e instanceof NesBridgeError)) throw e;
        if (e.code === "timeout" && deadline !== Infinity && deadline - Date.now() <= 0) {
          throw new NesBridgeError("timeout", "no card was inserted in time");
        }
        /* Another request of this page ended the wait, or the wait's own
         * timeout came round: look again. */
        if (e.code !== "system-cancelled" && e.code !== "timeout") throw e;
        readers = (await call("list-readers", undefined, undefined, { signal })).readers;
      }
    }
  }

  /* The last argument of each call may hold timeoutMs and signal; the rest
   * of it goes to the host where the command takes options. */
  function split(options, keys) {
    const opts = options || {};
    const args = {};
    for (const k of keys) if (opts[k] !== undefined) args[k] = opts[k];
    return { args, call: { timeoutMs: opts.timeoutMs, signal: opts.signal } };
  }

  const NesBridge = {
    PROTOCOL,
    hello: (options) => hello(options),
    /* The readers (at most 15, see listReadersResult for truncated). */
    listReaders: async (options) => (await call("list-readers", undefined, undefined, options)).readers,
    /* {truncated, readers}: truncated when the host left a reader out. */
    listReadersResult: async (options) => {
      const r = await call("list-readers", undefined, undefined, options);
      return { truncated: r.truncated === true, readers: r.readers };
    },
    waitForCard,
    /* The cards present now that the page wants (options as waitForCard). */
    findCards: async (options) => wantedCards((await call("list-readers", undefined, undefined, options)).readers, options),
    historicalBytes,
    atrMatches,
    connect(reader, options) {
      const s = split(options, ["share", "protocols"]);
      return call("connect", Object.assign({ reader }, s.args), undefined, s.call);
    },
    disconnect: (handle, disposition, options) =>
      call("disconnect", disposition ? { handle, disposition } : { handle }, undefined, options),
    status: (handle, options) => call("status", { handle }, undefined, options),
    beginTransaction: (handle, options) => call("begin-transaction", { handle }, undefined, options),
    endTransaction: (handle, disposition, options) =>
      call("end-transaction", disposition ? { handle, disposition } : { handle }, undefined, options),
    transmit(handle, apdu, options) {
      const s = split(options, ["get_response"]);
      return call("transmit", Object.assign({ handle, apdu }, s.args), undefined, s.call);
    },
    getNonce: async (handle, options) => (await call("get-nonce", { handle }, undefined, options)).nonce,
    /* options.askPin (true or {serial}): the extension asks the holder for
     * the new PIN in a window of its own and adds it; the page learns only
     * the result or the error code (pin-cancelled when the holder closes
     * the window). serial is shown there as what the site states.
     * options.pinpad: the holder types it on the reader instead; with
     * askPin too, the extension's window tells the holder so (no field,
     * and it cannot stop the reader: Cancel is the reader's own key). */
    runScript(handle, signed, options) {
      const opts = options || {};
      const args = { handle, script: signed.script, signature: signed.signature, key_id: signed.key_id };
      if (opts.pinpad) args.pinpad = true;
      let extra;
      if (opts.askPin) {
        extra = { ask_pin: {} };
        if (typeof opts.askPin === "object" && opts.askPin.serial !== undefined) extra.ask_pin.serial = opts.askPin.serial;
      }
      return call("run-script", args, extra, { timeoutMs: opts.timeoutMs, signal: opts.signal });
    },
    /* Low-level: any command, for tests and diagnostics. */
    request: (cmd, args, extra, options) => (cmd === "hello" ? call(cmd, args, extra, options, true) :
      call(cmd, args, extra, options)),
  };

  global.NesBridge = NesBridge;
  global.NesBridgeError = NesBridgeError;
})(globalThis);
