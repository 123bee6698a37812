/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the content script, the background and the Node tests: which
 * origins are served, what a page may ask, and how replies are routed.
 * Plain script (no modules): browsers load it before the other scripts. */
"use strict";

var NesBridgeCommon = (function () {
  const HOST_NAME = "tr.gov.kamusm.nesbridge";
  const PROTOCOL = 1;
  /* The dev build (extension/build.sh) fills this in; release: empty. */
  const EXTRA_ORIGINS = [];
  const AUTHORITY_DOMAIN = "kamusm.gov.tr";

  const PAGE_COMMANDS = new Set([
    "hello", "list-readers", "wait-for-change", "cancel", "connect", "disconnect", "status",
    "begin-transaction", "end-transaction", "transmit", "get-nonce", "run-script",
  ]);
  /* Fields only the extension itself may put into a request. */
  const EXTENSION_ONLY_ARGS = ["new_pin", "new_pin_confirm"];
  const MAX_ID_STRING = 128;
  /* The host reads request frames of at most this many bytes and exits on
   * a larger one (docs/protocol.md, Transport): the extension refuses such
   * a request itself, with the host's own code, and sends nothing. */
  const MAX_REQUEST_BYTES = 262144;
  /* The serial the site shows in the PIN window: display text only. */
  const SERIAL_TEXT = /^[A-Za-z0-9 ._-]{1,32}$/;
  /* Codes the extension itself gives the page (the host's are in
   * host/errors.c; the page library adds extension-unavailable and
   * version-mismatch). */
  const EXTENSION_CODES = ["native-unavailable", "native-disconnected", "pin-cancelled"];

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value) &&
      Object.getPrototypeOf(value) === Object.prototype;
  }

  /* https://kamusm.gov.tr and its https subdomains, plus the dev origins. */
  function isAllowedOrigin(origin) {
    if (typeof origin !== "string") return false;
    if (EXTRA_ORIGINS.includes(origin)) return true;
    let url;
    try {
      url = new URL(origin);
    } catch (e) {
      return false;
    }
    if (url.protocol !== "https:" || url.origin !== origin) return false;
    const host = url.hostname;
    return host === AUTHORITY_DOMAIN || host.endsWith("." + AUTHORITY_DOMAIN);
  }

  /* A page's id: a safe integer, or a string of 1-128 bytes in UTF-8 (as
   * docs/protocol.md counts a string id). */
  function validId(id) {
    if (typeof id === "string") {
      return id.length > 0 && id.length <= MAX_ID_STRING && new TextEncoder().encode(id).length <= MAX_ID_STRING;
    }
    return Number.isSafeInteger(id);
  }

  /* Checks what a page posted. Returns null for messages that are not ours
   * (ignored silently), {error} for malformed requests (answered with
   * bad-request), or {request} — a fresh object: nothing the page sent
   * beyond id, cmd, args and ask_pin goes on, a field called origin
   * least of all. ask_pin ({} or {serial}) asks the extension to collect
   * the new PIN in its own window for a run-script; with args.pinpad the
   * window tells the holder to type it on the reader's keypad instead. */
  function validatePageRequest(data) {
    if (!isPlainObject(data) || data.nesbridge !== "request") return null;
    if (!validId(data.id)) return { error: "id must be a safe integer or a string of 1-128 bytes", id: null };
    const id = data.id;
    for (const key of Object.keys(data)) {
      if (!["nesbridge", "id", "cmd", "args", "ask_pin", "origin"].includes(key)) {
        return { error: "unknown field " + key.slice(0, 40), id };
      }
    }
    if (typeof data.cmd !== "string" || !PAGE_COMMANDS.has(data.cmd)) {
      return { error: "unknown command", id, code: "unknown-command" };
    }
    if (data.args !== undefined && !isPlainObject(data.args)) return { error: "args must be an object", id };
    const args = data.args === undefined ? {} : data.args;
    for (const key of EXTENSION_ONLY_ARGS) {
      if (Object.prototype.hasOwnProperty.call(args, key)) {
        return { error: key + " comes only from the extension's PIN window", id };
      }
    }
    const request = { id, cmd: data.cmd, args: JSON.parse(JSON.stringify(args)) };
    if (data.ask_pin !== undefined) {
      const ask = data.ask_pin;
      if (data.cmd !== "run-script" || !isPlainObject(ask) || Object.keys(ask).some((k) => k !== "serial") ||
          (ask.serial !== undefined && (typeof ask.serial !== "string" || !SERIAL_TEXT.test(ask.serial)))) {
        return { error: "ask_pin is {serial?: 1-32 letters, digits, space . _ -}, for run-script only", id };
      }
      request.ask_pin = ask.serial === undefined ? {} : { serial: ask.serial };
    }
    return { request };
  }

  /* What the PIN window needs to know from a signed script: the rules of
   * its new_pin step and what the step's command does. null when the
   * script cannot be read or asks for no new PIN (the host decides on the
   * signature; these rules only guide the holder, the host checks them
   * again). */
  function pinRules(scriptBase64) {
    let script;
    try {
      const binary = atob(scriptBase64);
      const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
      script = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      return null;
    }
    if (!isPlainObject(script) || !Array.isArray(script.steps)) return null;
    const step = script.steps.find((s) => isPlainObject(s) && isPlainObject(s.new_pin));
    if (!step) return null;
    const p = step.new_pin;
    const inRange = (n) => Number.isInteger(n) && n >= 4 && n <= 16;
    if (!inRange(p.min_len) || !inRange(p.max_len) || p.min_len > p.max_len) return null;
    if (typeof p.apdu_prefix !== "string" || !/^[0-9A-Fa-f]{8}$/.test(p.apdu_prefix)) return null;
    /* RESET RETRY COUNTER (2C) anywhere in the script unblocks the PIN;
     * else CHANGE REFERENCE DATA (24) changes it. */
    const insOf = (hex) => (typeof hex === "string" && hex.length >= 4 ? hex.slice(2, 4).toUpperCase() : "");
    const ins = insOf(p.apdu_prefix);
    const unblocks = ins === "2C" || script.steps.some((s) => isPlainObject(s) && insOf(s.apdu) === "2C");
    const action = unblocks ? "unblock" : ins === "24" ? "change" : "other";
    return { min: p.min_len, max: p.max_len, confirm: p.confirm === true, action };
  }

  /* The PIN window's answer against the script's rules: null when it may
   * go to the host, else the code the host would give. */
  function checkPin(rules, pin, confirm) {
    if (typeof pin !== "string" || !new RegExp("^[0-9]{" + rules.min + "," + rules.max + "}$").test(pin)) {
      return "pin-format";
    }
    if (rules.confirm && confirm !== pin) return "pin-mismatch";
    return null;
  }

  /* How a run-script with the window's PIN ended, for the window: done
   * only when the host says ok and the script completed. */
  function pinOutcome(reply) {
    if (isPlainObject(reply) && reply.ok === true && isPlainObject(reply.result) && reply.result.completed === true) {
      return { done: true, code: null };
    }
    if (isPlainObject(reply) && reply.ok === true) return { done: false, code: "not-completed" };
    const error = isPlainObject(reply) && isPlainObject(reply.error) ? reply.error : {};
    return { done: false, code: typeof error.code === "string" ? error.code : "unknown-error" };
  }

  /* Maps the page's ids to the native port's own, so that pages cannot
   * collide with each other or guess replies. */
  function makeRouter() {
    let next = 1;
    const pending = new Map();
    return {
      add(pageId, extra) {
        const nativeId = next++;
        pending.set(nativeId, { pageId, extra });
        return nativeId;
      },
      /* A reply for one of ours. The host answers in order, one reply per
       * request: a reply with "id": null (the host could not read the
       * frame's id) belongs to the oldest request still pending. */
      resolve(reply) {
        if (!isPlainObject(reply)) return null;
        let key = reply.id;
        if (key === null) {
          const oldest = pending.keys().next();
          if (oldest.done) return null;
          key = oldest.value;
        }
        if (!pending.has(key)) return null;
        const entry = pending.get(key);
        pending.delete(key);
        const out = { id: entry.pageId, ok: reply.ok === true };
        if (out.ok) out.result = reply.result;
        else out.error = reply.error;
        return { reply: out, extra: entry.extra };
      },
      /* Forgets one request (it never reached the host). */
      drop(nativeId) {
        pending.delete(nativeId);
      },
      failAll(code, message) {
        const replies = [];
        for (const entry of pending.values()) {
          replies.push({ reply: errorReply(entry.pageId, code, message), extra: entry.extra });
        }
        pending.clear();
        return replies;
      },
      get size() {
        return pending.size;
      },
    };
  }

  function errorReply(id, code, message) {
    return { id, ok: false, error: { code, message } };
  }

  /* The size of a native message as the browser frames it: the UTF-8
   * bytes of its JSON. */
  function nativeSize(message) {
    return new TextEncoder().encode(JSON.stringify(message)).length;
  }

  /* A dropped native port: before any reply the host was never there. */
  function disconnectCode(receivedAny) {
    return receivedAny ? "native-disconnected" : "native-unavailable";
  }

  return {
    HOST_NAME, PROTOCOL, EXTRA_ORIGINS, MAX_REQUEST_BYTES, nativeSize, PAGE_COMMANDS, EXTENSION_CODES, isAllowedOrigin, validatePageRequest,
    makeRouter, errorReply, disconnectCode, isPlainObject, pinRules, checkPin, pinOutcome,
  };
})();

if (typeof module !== "undefined" && module.exports) module.exports = NesBridgeCommon;
