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
  const PIN_TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

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

  function validId(id) {
    return (typeof id === "string" && id.length > 0 && id.length <= MAX_ID_STRING) ||
      (Number.isSafeInteger(id));
  }

  /* Checks what a page posted. Returns null for messages that are not ours
   * (ignored silently), {error} for malformed requests (answered with
   * bad-request), or {request} — a fresh object: nothing the page sent
   * beyond id, cmd, args and pin_field goes on, a field called origin
   * least of all. */
  function validatePageRequest(data) {
    if (!isPlainObject(data) || data.nesbridge !== "request") return null;
    if (!validId(data.id)) return { error: "id must be a safe integer or a string of 1-128 characters", id: null };
    const id = data.id;
    for (const key of Object.keys(data)) {
      if (!["nesbridge", "id", "cmd", "args", "pin_field", "origin"].includes(key)) {
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
        return { error: key + " comes only from the extension's PIN field", id };
      }
    }
    const request = { id, cmd: data.cmd, args: JSON.parse(JSON.stringify(args)) };
    if (data.pin_field !== undefined) {
      if (data.cmd !== "run-script" || typeof data.pin_field !== "string" || !PIN_TOKEN.test(data.pin_field)) {
        return { error: "pin_field is a PIN field token, for run-script only", id };
      }
      request.pin_field = data.pin_field;
    }
    return { request };
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
      resolve(reply) {
        if (!isPlainObject(reply) || !pending.has(reply.id)) return null;
        const entry = pending.get(reply.id);
        pending.delete(reply.id);
        const out = { id: entry.pageId, ok: reply.ok === true };
        if (out.ok) out.result = reply.result;
        else out.error = reply.error;
        return { reply: out, extra: entry.extra };
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

  /* A dropped native port: before any reply the host was never there. */
  function disconnectCode(receivedAny) {
    return receivedAny ? "native-disconnected" : "native-unavailable";
  }

  return {
    HOST_NAME, PROTOCOL, EXTRA_ORIGINS, PAGE_COMMANDS, isAllowedOrigin, validatePageRequest,
    makeRouter, errorReply, disconnectCode, isPlainObject,
  };
})();

if (typeof module !== "undefined" && module.exports) module.exports = NesBridgeCommon;
