/* Content script: the only bridge between the page and the extension. It
 * listens to window.postMessage from this very window, on an allowed
 * origin, in a secure context, and answers only to that origin. */
"use strict";

(function () {
  const NB = NesBridgeCommon;
  const origin = window.location.origin;
  if (!window.isSecureContext || !NB.isAllowedOrigin(origin)) return;

  let port = null;

  function toPage(message) {
    window.postMessage(Object.assign({ nesbridge: "reply" }, message), origin);
  }

  function ensurePort() {
    if (port !== null) return port;
    port = chrome.runtime.connect({ name: "nesbridge-page" });
    port.onMessage.addListener(toPage);
    port.onDisconnect.addListener(() => {
      port = null;
    });
    return port;
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== origin) return;
    /* A copy made here: the page's objects belong to another compartment
     * (Firefox), and a copy cannot change under our feet. */
    let data;
    try {
      data = JSON.parse(JSON.stringify(event.data));
    } catch (e) {
      return;
    }
    if (NB.isPlainObject(data) && data.nesbridge === "ping") {
      window.postMessage({ nesbridge: "pong", protocol: NB.PROTOCOL }, origin);
      return;
    }
    const checked = NB.validatePageRequest(data);
    if (checked === null) return;
    if (checked.error) {
      toPage(NB.errorReply(checked.id, checked.code || "bad-request", checked.error));
      return;
    }
    ensurePort().postMessage(checked.request);
  });
})();
