/* SPDX-License-Identifier: Apache-2.0 */
/* Background: one native port per page (tab and frame), opened on first
 * use and closed when the page goes away. It sets the request's origin
 * from the sender, never from the page, and adds the new PIN, which the
 * holder types in a window of the extension's own (pin.html), opened here
 * with windows.create: the page can neither see nor reach that window. */
"use strict";

if (typeof importScripts === "function") importScripts("common.js");

(function () {
  const NB = NesBridgeCommon;
  const PIN_PREFIX = "nesbridge-pin:";
  /* How long the window shows how the script ended before it closes. */
  const CLOSE_AFTER_MS = 2500;
  const pinSessions = new Map(); /* tabId -> session (one PIN window per tab) */

  function senderOrigin(sender) {
    if (typeof sender.origin === "string" && sender.origin !== "null") return sender.origin;
    try {
      return new URL(sender.url).origin;
    } catch (e) {
      return null;
    }
  }

  function randomToken() {
    const bytes = new Uint8Array(24);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function closeWindow(session) {
    if (session.closeTimer) clearTimeout(session.closeTimer);
    session.closeTimer = null;
    if (session.windowId !== null) {
      chrome.windows.remove(session.windowId, () => void chrome.runtime.lastError);
    }
  }

  function forget(session) {
    if (pinSessions.get(session.tabId) === session) pinSessions.delete(session.tabId);
  }

  /* The holder gave no PIN: closed the window, pressed Escape or Cancel,
   * or the page went away. Nothing goes to the host. */
  function cancelSession(session, code, message) {
    if (session.phase !== "asking") return;
    session.phase = "ended";
    forget(session);
    closeWindow(session);
    session.answer({ code, message });
  }

  /* The script ended: the window says how, then closes itself. The tab
   * keeps the session until then, so that a new request replaces it. */
  function endSession(session, outcome) {
    session.phase = "ended";
    if (session.port !== null) {
      try {
        session.port.postMessage({ type: "done", done: outcome.done, code: outcome.code });
      } catch (e) {
        /* the window is gone already */
      }
    }
    session.closeTimer = setTimeout(() => closeWindow(session), CLOSE_AFTER_MS);
  }

  /* Opens the PIN window for a tab; resolves with {pin, confirm, session},
   * {session} for a pinpad (keypad: the holder types on the reader; the
   * window only says so, as soon as it shows), or {code}. */
  function askPin(info) {
    return new Promise((resolve) => {
      const session = Object.assign({
        token: randomToken(), windowId: null, port: null, phase: "asking", closeTimer: null, answer: resolve,
      }, info);
      pinSessions.set(info.tabId, session);
      if (!chrome.windows || typeof chrome.windows.create !== "function") {
        cancelSession(session, "unsupported-feature", "this browser cannot open the extension's PIN window");
        return;
      }
      chrome.windows.create({
        url: chrome.runtime.getURL("pin.html") + "#" + session.token,
        type: "popup", width: 480, height: 600, focused: true,
      }, (win) => {
        if (chrome.runtime.lastError || !win) {
          cancelSession(session, "unsupported-feature", "the PIN window could not be opened");
          return;
        }
        session.windowId = win.id;
        if (session.phase === "ended" && session.closeTimer === null) closeWindow(session);
      });
    });
  }

  function onPagePort(port) {
    const sender = port.sender || {};
    const origin = senderOrigin(sender);
    if (sender.id !== chrome.runtime.id || !sender.tab || !NB.isAllowedOrigin(origin)) {
      port.disconnect();
      return;
    }
    const state = {
      origin, tabId: sender.tab.id,
      conn: null, /* {native, router, receivedAny}: the current native port */
      readers: new Map(), /* handle -> reader name, from the page's own connects */
    };

    function toPage(reply) {
      try {
        port.postMessage(reply);
      } catch (e) {
        /* the page went away */
      }
    }

    /* Fails what was pending on one native port, once it is gone. */
    function lose(conn, message) {
      if (conn.lost) return;
      conn.lost = true;
      if (state.conn === conn) {
        state.conn = null;
        state.readers.clear();
      }
      const code = NB.disconnectCode(conn.receivedAny);
      for (const failed of conn.router.failAll(code, message)) {
        if (failed.extra && failed.extra.pinSession) endSession(failed.extra.pinSession, NB.pinOutcome(failed.reply));
        toPage(failed.reply);
      }
    }

    /* Each native port has its own router: a late event of an old port
     * can neither answer nor fail what a newer one carries. */
    function ensureNative() {
      if (state.conn !== null) return state.conn;
      const conn = { native: chrome.runtime.connectNative(NB.HOST_NAME), router: NB.makeRouter(), receivedAny: false,
        lost: false };
      conn.native.onMessage.addListener((message) => {
        conn.receivedAny = true;
        const routed = conn.router.resolve(message);
        if (routed === null) return;
        const extra = routed.extra || {};
        if (extra.pinSession) endSession(extra.pinSession, NB.pinOutcome(routed.reply));
        if (extra.connectReader && routed.reply.ok && NB.isPlainObject(routed.reply.result) && state.conn === conn) {
          state.readers.set(routed.reply.result.handle, extra.connectReader);
        }
        toPage(routed.reply);
      });
      conn.native.onDisconnect.addListener(() => {
        const lastError = chrome.runtime.lastError;
        lose(conn, lastError && lastError.message ? lastError.message : "the native host closed");
      });
      state.conn = conn;
      return conn;
    }

    /* The request as the host will get it, or null (and the page told)
     * when it is too large to send. */
    function nativeRequest(request, extraArgs) {
      const args = Object.assign({}, request.args, extraArgs || {});
      const message = { id: Number.MAX_SAFE_INTEGER, cmd: request.cmd, origin: state.origin, args };
      if (NB.nativeSize(message) > NB.MAX_REQUEST_BYTES) {
        toPage(NB.errorReply(request.id, "message-too-large",
          "the request is over " + NB.MAX_REQUEST_BYTES + " bytes; nothing was sent"));
        return null;
      }
      return message;
    }

    function send(request, extraArgs, extra) {
      const message = nativeRequest(request, extraArgs);
      if (message === null) {
        if (extra && extra.pinSession) endSession(extra.pinSession, { done: false, code: "message-too-large" });
        return;
      }
      const conn = ensureNative();
      message.id = conn.router.add(request.id, extra || null);
      try {
        conn.native.postMessage(message);
      } catch (e) {
        /* The host went away and its port's event is still on its way. */
        lose(conn, "the native host closed");
      }
      /* postMessage copied the request: drop our copies of a PIN at once. */
      if (extraArgs) for (const key of Object.keys(extraArgs)) extraArgs[key] = message.args[key] = null;
    }

    function runWithPin(request) {
      const rules = NB.pinRules(request.args.script);
      if (rules === null) {
        toPage(NB.errorReply(request.id, "bad-request", "ask_pin: the script has no readable new_pin step"));
        return;
      }
      /* With a pinpad the holder types on the reader's keypad: the window
       * tells so and has no field; nothing is added to the request. */
      const keypad = request.args.pinpad === true;
      /* Too large even before the PIN: say so before the holder types. */
      const longest = "0".repeat(16);
      if (nativeRequest(request, keypad ? null : { new_pin: longest, new_pin_confirm: longest }) === null) return;
      const open = pinSessions.get(state.tabId);
      if (open && open.phase !== "ended") {
        toPage(NB.errorReply(request.id, "bad-request", "a PIN window is already open for this tab"));
        return;
      }
      if (open) { /* one that only shows how the last script ended */
        closeWindow(open);
        forget(open);
      }
      askPin({
        tabId: state.tabId, page: port, origin: state.origin, rules,
        reader: state.readers.get(request.args.handle) || null,
        serial: request.ask_pin.serial || null, keypad,
      }).then((answer) => {
        if (answer.code) {
          toPage(NB.errorReply(request.id, answer.code, answer.message));
          return;
        }
        if (keypad) {
          send(request, null, { pinSession: answer.session });
          return;
        }
        send(request, { new_pin: answer.pin, new_pin_confirm: answer.confirm }, { pinSession: answer.session });
        answer.pin = answer.confirm = null;
      });
    }

    port.onMessage.addListener((message) => {
      const checked = NB.validatePageRequest(Object.assign({ nesbridge: "request" }, message));
      if (checked === null || checked.error) {
        toPage(NB.errorReply(checked ? checked.id : null, "bad-request", checked ? checked.error : "malformed"));
        return;
      }
      const request = checked.request;
      if (request.cmd === "cancel") {
        /* The page gave up on its run-script: a PIN window still asking
         * closes (that request ends with pin-cancelled), then the host
         * ends whatever wait it is in. */
        const session = pinSessions.get(state.tabId);
        if (session && session.page === port) cancelSession(session, "pin-cancelled", "the page cancelled");
      }
      if (request.ask_pin) {
        runWithPin(request);
        return;
      }
      const extra = request.cmd === "connect" && typeof request.args.reader === "string" ?
        { connectReader: request.args.reader } : null;
      send(request, null, extra);
    });

    port.onDisconnect.addListener(() => {
      const session = pinSessions.get(state.tabId);
      if (session && session.page === port) {
        /* Nobody is left to answer: the window closes, whatever its phase. */
        if (session.phase === "asking") {
          cancelSession(session, "pin-cancelled", "the page went away");
        } else {
          session.phase = "ended";
          closeWindow(session);
        }
        forget(session);
      }
      if (state.conn !== null) {
        const conn = state.conn;
        state.conn = null;
        conn.lost = true; /* nobody is left to answer */
        conn.native.disconnect(); /* the host sees EOF and lets the card go */
      }
    });
  }

  function sessionByToken(token) {
    for (const session of pinSessions.values()) if (session.token === token) return session;
    return null;
  }

  /* The PIN window: the extension's own page, top-level in the window this
   * background opened, naming the token only that window's URL holds. */
  function onPinPort(port) {
    const sender = port.sender || {};
    const token = port.name.slice(PIN_PREFIX.length);
    const session = sessionByToken(token);
    const url = chrome.runtime.getURL("pin.html") + "#" + token;
    if (sender.id !== chrome.runtime.id || sender.url !== url || session === null || session.port !== null ||
        session.phase !== "asking" || (sender.frameId !== undefined && sender.frameId !== 0) ||
        (session.windowId !== null && sender.tab && sender.tab.windowId !== session.windowId)) {
      port.disconnect();
      return;
    }
    session.port = port;
    const show = {
      type: "show", origin: session.origin, reader: session.reader, serial: session.serial,
      min: session.rules.min, max: session.rules.max, confirm: session.rules.confirm, action: session.rules.action,
    };
    if (session.keypad) show.keypad = true;
    port.postMessage(show);
    if (session.keypad) {
      /* The window now tells the holder to type on the reader: the script
       * goes to the host, whose reader waits for the keypad. From here the
       * window cannot stop it (the host waits inside SCardControl until
       * the reader answers): its Cancel and Escape tell the holder to
       * press Cancel on the reader, and closing it leaves the entry to
       * the reader (Cancel there, or its timeout). */
      session.phase = "running";
      session.answer({ session });
    }
    port.onMessage.addListener((message) => {
      if (!NB.isPlainObject(message) || session.phase !== "asking") return;
      if (message.type === "cancel") {
        cancelSession(session, "pin-cancelled", "the holder cancelled the PIN window");
        return;
      }
      if (message.type !== "pin") return;
      const why = NB.checkPin(session.rules, message.pin, message.confirm);
      if (why !== null) {
        /* The window checks the same rules first; this is the backstop. */
        cancelSession(session, why, "the PIN window's PIN breaks the script's rules");
        return;
      }
      session.phase = "running";
      session.answer({ pin: message.pin, confirm: session.rules.confirm ? message.confirm : message.pin, session });
      message.pin = message.confirm = null;
    });
    port.onDisconnect.addListener(() => {
      session.port = null;
      cancelSession(session, "pin-cancelled", "the PIN window was closed");
    });
  }

  if (chrome.windows) {
    chrome.windows.onRemoved.addListener((windowId) => {
      for (const session of pinSessions.values()) {
        if (session.windowId !== windowId) continue;
        cancelSession(session, "pin-cancelled", "the PIN window was closed");
        /* A pinpad entry goes on without its window: the tab keeps the
         * session (no second window) until the script ends. */
        if (session.phase !== "running") forget(session);
      }
    });
  }

  chrome.runtime.onConnect.addListener((port) => {
    if (port.name === "nesbridge-page") onPagePort(port);
    else if (port.name.startsWith(PIN_PREFIX)) onPinPort(port);
    else port.disconnect();
  });
})();
