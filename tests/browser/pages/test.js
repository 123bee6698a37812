/* SPDX-License-Identifier: Apache-2.0 */
/* Runs one scenario named in ?scenario= and reports its outcome to the
 * test server (POST /result/<run>), and in window.__result. */
"use strict";

const params = new URLSearchParams(location.search);
const READER = "nesbridge Virtual Reader 00 00";
const PINPAD = "nesbridge Pinpad Reader 00 00";

function codeOf(e) {
  return e && e.code ? e.code : "exception: " + String(e);
}

/* A request straight through postMessage, as a hostile page would. */
function rawRequest(message) {
  return new Promise((resolve) => {
    const onReply = (event) => {
      if (event.source !== window || !event.data || event.data.nesbridge !== "reply" || event.data.id !== message.id) return;
      window.removeEventListener("message", onReply);
      resolve(event.data);
    };
    window.addEventListener("message", onReply);
    window.postMessage(message, location.origin);
  });
}

/* Every message the page receives, as the page sees it: the PIN must
 * never be among them. */
const seen = [];
window.addEventListener("message", (event) => {
  try {
    seen.push(JSON.stringify(event.data));
  } catch (e) {
    seen.push(String(event.data));
  }
}, true);

/* What page script can find of the PIN window. */
function probe() {
  return {
    frames: window.frames.length,
    iframes: document.querySelectorAll("iframe, frame, object, embed").length,
    inputs: document.querySelectorAll("input").length,
    opener: window.opener === null ? null : "set",
    has_focus: document.hasFocus(),
  };
}
window.__probe = () => { window.__during = probe(); return window.__during; };

/* Tells the test a step was reached (window.__signals for Chromium, the
 * test server for runs it cannot see into), and waits for its go. */
window.__signals = {};
async function signal(name) {
  window.__signals[name] = true;
  if (params.get("run")) {
    await fetch("/result/" + encodeURIComponent(params.get("run") + ":" + name), { method: "POST", body: "{}" });
  }
}
async function gate(name) {
  await fetch("/gate/" + encodeURIComponent(params.get("run") + ":" + name));
}

async function sign(nonce, atr) {
  const response = await fetch("/sign", { method: "POST", body: JSON.stringify({ nonce, atr }) });
  return response.json();
}

const scenarios = {
  async basic() {
    const hello = await NesBridge.hello();
    const readers = await NesBridge.listReaders();
    const card = await NesBridge.waitForCard({ timeoutMs: 5000 });
    const conn = await NesBridge.connect(card.reader);
    const select = await NesBridge.transmit(conn.handle, "00A4040C07504B43532D3135");
    const refused = await NesBridge.transmit(conn.handle, "0020008108313233343536FFFF").catch(codeOf);
    const nonce = await NesBridge.getNonce(conn.handle);
    /* Too large for native messaging: the extension refuses it and sends
     * nothing (the host would have ended), so the next call works. */
    const tooLarge = await NesBridge.transmit(conn.handle, "00".repeat(140000)).catch(codeOf);
    const after = await NesBridge.transmit(conn.handle, "00A4040C07504B43532D3135");
    const listed = await NesBridge.listReadersResult();
    await NesBridge.disconnect(conn.handle);
    return {
      too_large: tooLarge, after_sw: after.sw, truncated: listed.truncated,
      protocol: hello.protocol,
      readers: readers.map((r) => r.name),
      reader: card.reader,
      atr: conn.atr,
      sw: select.sw,
      refused,
      nonce_length: nonce.length,
    };
  },
  async unavailable() {
    const t0 = performance.now();
    const code = await NesBridge.hello().then(() => "ok", codeOf);
    return { code, ms: Math.round(performance.now() - t0) };
  },
  async forged() {
    /* A page-made "origin" must not reach the host: the background sets it. */
    await new Promise((r) => setTimeout(r, 50));
    const reply = await rawRequest({ nesbridge: "request", id: "forged-1", cmd: "hello",
      args: { protocol: 1 }, origin: params.get("claim") });
    const pin = await rawRequest({ nesbridge: "request", id: "forged-2", cmd: "run-script",
      args: { handle: 1, script: "", signature: "", key_id: "", new_pin: "123456" } });
    return { code: reply.ok ? "ok" : reply.error.code, pin_code: pin.ok ? "ok" : pin.error.code };
  },
  /* The new PIN is typed in the extension's own window; the page learns
   * only the result. The signed script uses it for VERIFY (a known PIN).
   * The driver types into the window and probes the page meanwhile. */
  async pinwindow() {
    const conn = await NesBridge.connect(READER);
    const nonce = await NesBridge.getNonce(conn.handle);
    const signed = await sign(nonce, conn.atr);
    const before = probe();
    window.__phase = "asking";
    const result = await NesBridge.runScript(conn.handle, signed, { askPin: { serial: "NB0000000001" } });
    const again = await NesBridge.runScript(conn.handle, signed).catch(codeOf);
    return {
      completed: result.completed, sw: result.steps[0].sw, data: result.steps[0].data, replay: again,
      before, during: window.__during || null, after: probe(), messages: seen, html: document.documentElement.outerHTML,
    };
  },
  /* Escape, then a closed window: pin-cancelled, nothing reaches the host
   * (the same signed script, nonce unspent, then runs); a second request
   * while the window is open is refused. */
  async pincancel() {
    const conn = await NesBridge.connect(READER);
    const nonce = await NesBridge.getNonce(conn.handle);
    const signed = await sign(nonce, conn.atr);
    window.__phase = "escape";
    const escaped = await NesBridge.runScript(conn.handle, signed, { askPin: true }).catch(codeOf);
    window.__phase = "close";
    const closed = await NesBridge.runScript(conn.handle, signed, { askPin: true }).catch(codeOf);
    const third = NesBridge.runScript(conn.handle, signed, { askPin: true }).catch(codeOf);
    await new Promise((r) => setTimeout(r, 300));
    const busy = await NesBridge.runScript(conn.handle, signed, { askPin: true }).catch(codeOf);
    window.__phase = "type";
    const run = await third;
    return { escaped, closed, busy, completed: run.completed, sw: run.steps ? run.steps[0].sw : run };
  },
  /* What list-readers says of each reader's keypad. */
  async readers() {
    const readers = await NesBridge.listReaders();
    const pinpad = {};
    for (const r of readers) pinpad[r.name] = r.pinpad;
    return { pinpad };
  },
  /* A pinpad reader: the extension's window tells the holder to type on
   * the keypad and has no field; the test types on the keypad (the
   * script VERIFYs the card's PIN 123456), then cancels, then lets the
   * reader time out, each round once the test opens its gate. A fresh
   * connection each round: a script that did not complete, or held a
   * secret, ends with a card reset. */
  async pinpad() {
    const outcomes = [];
    for (const round of ["typed", "cancel", "timeout"]) {
      if (round !== "typed") await gate(round); /* the test has seen the last window close */
      const conn = await NesBridge.connect(PINPAD);
      const nonce = await NesBridge.getNonce(conn.handle);
      const signed = await sign(nonce, conn.atr);
      window.__phase = round;
      outcomes.push(await NesBridge.runScript(conn.handle, signed, { pinpad: true, askPin: { serial: "NB0000000002" } })
        .then((r) => ({ completed: r.completed, sw: r.steps[0].sw }),
          (e) => ({ code: codeOf(e), completed: e.detail ? e.detail.completed : null })));
      await NesBridge.disconnect(conn.handle).catch(() => {});
    }
    return outcomes;
  },
  /* A PIN the card refuses: the script stops, the page hears completed
   * false, the window does not say done. */
  async pinrefused() {
    const conn = await NesBridge.connect(READER);
    const nonce = await NesBridge.getNonce(conn.handle);
    const signed = await sign(nonce, conn.atr);
    window.__phase = "asking";
    const result = await NesBridge.runScript(conn.handle, signed, { askPin: true });
    return { completed: result.completed, stopped_at: result.stopped_at, sw: result.steps[0].sw };
  },
  /* The host goes away during a wait: the page hears native-disconnected,
   * and the next call starts a new host. */
  async disconnect() {
    const readers = await NesBridge.listReaders();
    const map = {};
    for (const r of readers) map[r.name] = r.state;
    const waiting = NesBridge.request("wait-for-change", { readers: map, timeout_ms: 30000 }).catch(codeOf);
    await new Promise((r) => setTimeout(r, 300));
    window.__waiting = true;
    const code = await waiting;
    const again = await NesBridge.listReaders().then((list) => list.length > 0, codeOf);
    return { code, again };
  },
  /* The host is killed while waitForCard waits (for a card that never
   * comes): it rejects at once, and the next call starts a new host. */
  async killwait() {
    await NesBridge.hello();
    const waiting = NesBridge.waitForCard({ atr: "FF" }).then(() => "resolved", codeOf);
    await new Promise((r) => setTimeout(r, 300));
    await signal("waiting");
    const code = await waiting;
    const again = await NesBridge.listReaders().then((list) => list.some((r) => r.name === READER), codeOf);
    return { code, again };
  },
  /* The card stops answering (the test muted it): the host's watchdog
   * answers unresponsive-card after card_timeout_ms and ends the host;
   * once the card is back, the next calls work without a hello of the
   * page's own. */
  async mute() {
    const conn = await NesBridge.connect(READER);
    await signal("connected");
    await gate("muted");
    const t0 = performance.now();
    const code = await NesBridge.transmit(conn.handle, "00A4000C023F00").then(() => "answered", codeOf);
    const ms = Math.round(performance.now() - t0);
    await signal("hung");
    await gate("back");
    const card = await NesBridge.waitForCard({ timeoutMs: 10000 });
    const conn2 = await NesBridge.connect(card.reader);
    const next = await NesBridge.transmit(conn2.handle, "00A4040C07504B43532D3135");
    return { code, ms, next_sw: next.sw };
  },
  /* The port between content script and background drops (the test stops
   * the background) while a wait is pending: the page hears
   * extension-unavailable at once, and the next call works. */
  async dropport() {
    const readers = await NesBridge.listReaders();
    const map = {};
    for (const r of readers) map[r.name] = r.state;
    const waiting = NesBridge.request("wait-for-change", { readers: map, timeout_ms: 60000 }).catch(codeOf);
    await new Promise((r) => setTimeout(r, 300));
    await signal("waiting");
    const code = await waiting;
    const again = await NesBridge.listReaders().then((list) => list.some((r) => r.name === READER), codeOf);
    return { code, again };
  },
  /* Page-to-card latency: NesBridge.transmit of a SELECT, warm. */
  async bench() {
    const conn = await NesBridge.connect(READER);
    for (let i = 0; i < 50; i++) await NesBridge.transmit(conn.handle, "00A4000C023F00");
    const times = [];
    for (let i = 0; i < Number(params.get("n") || 200); i++) {
      const t0 = performance.now();
      await NesBridge.transmit(conn.handle, "00A4000C023F00");
      times.push(performance.now() - t0);
    }
    await NesBridge.disconnect(conn.handle);
    times.sort((a, b) => a - b);
    return { n: times.length, median_ms: times[Math.floor(times.length / 2)],
      p95_ms: times[Math.floor(times.length * 0.95)] };
  },
  async native() {
    const code = await NesBridge.hello().then(() => "ok", codeOf);
    return { code };
  },
  /* The page looks for the PIN window's page: an iframe of it (no longer
   * web-accessible) does not load it. */
  async pinembed() {
    const pong = await new Promise((resolve) => {
      const onPong = (event) => {
        if (event.source === window && event.data && event.data.nesbridge === "pong") {
          window.removeEventListener("message", onPong);
          resolve(event.data);
        }
      };
      window.addEventListener("message", onPong);
      window.postMessage({ nesbridge: "ping" }, location.origin);
    });
    const url = params.get("pinurl");
    let loaded = null;
    if (url) {
      const frame = document.createElement("iframe");
      frame.src = url + "#" + "0".repeat(48);
      document.body.appendChild(frame);
      loaded = await new Promise((resolve) => {
        frame.addEventListener("load", () => resolve("load"), { once: true });
        frame.addEventListener("error", () => resolve("error"), { once: true });
        setTimeout(() => resolve("timeout"), 3000);
      });
    }
    return { pong_keys: Object.keys(pong).sort(), loaded };
  },
};

(async () => {
  /* Firefox starts a sideloaded add-on while it already loads the first
   * page: that page gets no content script. Load it again once settled. */
  if (params.has("settle")) {
    params.delete("settle");
    await new Promise((r) => setTimeout(r, 1500));
    location.replace(location.pathname + "?" + params.toString());
    return;
  }
  const name = params.get("scenario");
  let result;
  try {
    result = { scenario: name, ok: true, value: await scenarios[name]() };
  } catch (e) {
    result = { scenario: name, ok: false, error: codeOf(e), message: String(e && e.message) };
  }
  window.__result = result;
  document.getElementById("out").textContent = JSON.stringify(result, null, 2);
  const run = params.get("run");
  if (run) {
    await fetch("/result/" + encodeURIComponent(run), { method: "POST", body: JSON.stringify(result) }).catch(() => {});
  }
})();
