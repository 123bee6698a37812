/* Background: one native port per page (tab and frame), opened on first
 * use and closed when the page goes away. It sets the request's origin
 * from the sender, never from the page, and adds the new PIN from the
 * extension's own PIN field. */
"use strict";

if (typeof importScripts === "function") importScripts("common.js");

(function () {
  const NB = NesBridgeCommon;
  const PIN_PREFIX = "nesbridge-pin:";
  const pinFrames = new Map(); /* token -> { port, tabId } */

  function senderOrigin(sender) {
    if (typeof sender.origin === "string" && sender.origin !== "null") return sender.origin;
    try {
      return new URL(sender.url).origin;
    } catch (e) {
      return null;
    }
  }

  function onPagePort(port) {
    const sender = port.sender || {};
    const origin = senderOrigin(sender);
    if (sender.id !== chrome.runtime.id || !sender.tab || !NB.isAllowedOrigin(origin)) {
      port.disconnect();
      return;
    }
    const state = { origin, tabId: sender.tab.id, native: null, receivedAny: false, router: NB.makeRouter() };

    function toPage(reply) {
      try {
        port.postMessage(reply);
      } catch (e) {
        /* the page went away */
      }
    }

    function ensureNative() {
      if (state.native !== null) return state.native;
      state.receivedAny = false;
      const native = chrome.runtime.connectNative(NB.HOST_NAME);
      native.onMessage.addListener((message) => {
        state.receivedAny = true;
        const routed = state.router.resolve(message);
        if (routed === null) return;
        if (routed.extra && routed.extra.pinToken) tellPinFrame(routed.extra.pinToken, routed.reply.ok);
        toPage(routed.reply);
      });
      native.onDisconnect.addListener(() => {
        const lastError = chrome.runtime.lastError;
        const code = NB.disconnectCode(state.receivedAny);
        const message = lastError && lastError.message ? lastError.message : "the native host closed";
        for (const failed of state.router.failAll(code, message)) toPage(failed.reply);
        state.native = null;
      });
      state.native = native;
      return native;
    }

    function send(request, extraArgs, pinToken) {
      const args = Object.assign({}, request.args, extraArgs || {});
      const nativeId = state.router.add(request.id, pinToken ? { pinToken } : null);
      ensureNative().postMessage({ id: nativeId, cmd: request.cmd, origin: state.origin, args });
    }

    port.onMessage.addListener((message) => {
      const checked = NB.validatePageRequest(Object.assign({ nesbridge: "request" }, message));
      if (checked === null || checked.error) {
        toPage(NB.errorReply(checked ? checked.id : null, "bad-request", checked ? checked.error : "malformed"));
        return;
      }
      const request = checked.request;
      if (!request.pin_field) {
        send(request);
        return;
      }
      collectPin(request.pin_field, state.tabId).then((pin) => {
        if (pin === null) {
          toPage(NB.errorReply(request.id, "pin-required", "no PIN was entered in the PIN field"));
          return;
        }
        send(request, { new_pin: pin.pin, new_pin_confirm: pin.confirm }, request.pin_field);
        pin.pin = pin.confirm = null; /* drop our copies at once */
      });
    });

    port.onDisconnect.addListener(() => {
      if (state.native !== null) state.native.disconnect(); /* the host sees EOF and lets the card go */
      state.native = null;
    });
  }

  /* Asks the PIN frame in the same tab for what the holder typed. */
  function collectPin(token, tabId) {
    const frame = pinFrames.get(token);
    if (!frame || frame.tabId !== tabId) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onReply = (message) => {
        if (!NB.isPlainObject(message) || message.type === undefined) return;
        frame.port.onMessage.removeListener(onReply);
        if (message.type === "pin" && typeof message.pin === "string" && typeof message.confirm === "string") {
          resolve({ pin: message.pin, confirm: message.confirm });
        } else {
          resolve(null);
        }
      };
      frame.port.onMessage.addListener(onReply);
      frame.port.postMessage({ type: "collect" });
    });
  }

  function tellPinFrame(token, ok) {
    const frame = pinFrames.get(token);
    if (frame) frame.port.postMessage({ type: "done", ok });
  }

  function onPinPort(port) {
    const sender = port.sender || {};
    const token = port.name.slice(PIN_PREFIX.length);
    const pinPage = chrome.runtime.getURL("pin.html");
    if (sender.id !== chrome.runtime.id || !sender.tab || typeof sender.url !== "string" ||
        !sender.url.startsWith(pinPage) || !/^[A-Za-z0-9_-]{16,64}$/.test(token)) {
      port.disconnect();
      return;
    }
    pinFrames.set(token, { port, tabId: sender.tab.id });
    port.onDisconnect.addListener(() => pinFrames.delete(token));
  }

  chrome.runtime.onConnect.addListener((port) => {
    if (port.name === "nesbridge-page") onPagePort(port);
    else if (port.name.startsWith(PIN_PREFIX)) onPinPort(port);
    else port.disconnect();
  });
})();
