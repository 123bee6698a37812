/* SPDX-License-Identifier: Apache-2.0 */
/* Content script: the only bridge between the page and the extension. It
 * listens to window.postMessage from this very window, on an allowed
 * origin, in a secure context, and answers only to that origin. */
"use strict";

(function () {
  const NB = NesBridgeCommon;
  const origin = window.location.origin;
  if (!window.isSecureContext || !NB.isAllowedOrigin(origin)) return;

  let port = null;
  /* Page ids sent on the current port and not answered yet (an id the
   * page reuses counts once per request). */
  let pending = new Map();

  function toPage(message) {
    window.postMessage(Object.assign({ nesbridge: "reply" }, message), origin);
  }

  function settle(ids, id) {
    const n = ids.get(id) || 0;
    if (n <= 1) ids.delete(id);
    else ids.set(id, n - 1);
  }

  function ensurePort() {
    if (port !== null) return port;
    const own = chrome.runtime.connect({ name: "nesbridge-page" });
    const ids = new Map();
    port = own;
    pending = ids;
    own.onMessage.addListener((message) => {
      if (message !== null && typeof message === "object") settle(ids, message.id);
      toPage(message);
    });
    /* The background went away (stopped, reloaded, updated): nothing sent
     * on this port will be answered. Fail it all now; the next request
     * opens a new port. */
    own.onDisconnect.addListener(() => {
      if (port === own) port = null;
      void chrome.runtime.lastError;
      for (const [id, n] of ids) {
        for (let k = 0; k < n; k++) {
          toPage(NB.errorReply(id, "extension-unavailable", "the extension's background went away"));
        }
      }
      ids.clear();
    });
    return own;
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
    const id = checked.request.id;
    let target;
    try {
      target = ensurePort();
      target.postMessage(checked.request);
    } catch (e) {
      /* The extension was reloaded under this page: this script is
       * orphaned and can reach nobody. */
      if (port === target) port = null;
      toPage(NB.errorReply(id, "extension-unavailable", "the extension is not reachable from this page"));
      return;
    }
    pending.set(id, (pending.get(id) || 0) + 1);
  });
})();
