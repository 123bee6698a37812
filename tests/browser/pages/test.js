/* Runs one scenario named in ?scenario= and reports its outcome to the
 * test server (POST /result/<run>), and in window.__result. */
"use strict";

const params = new URLSearchParams(location.search);
const READER = "nesbridge Virtual Reader 00 00";

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

const scenarios = {
  async basic() {
    const hello = await NesBridge.hello();
    const readers = await NesBridge.listReaders();
    const card = await NesBridge.waitForCard({ timeoutMs: 5000 });
    const conn = await NesBridge.connect(card.reader);
    const select = await NesBridge.transmit(conn.handle, "00A4040C07504B43532D3135");
    const refused = await NesBridge.transmit(conn.handle, "0020008108313233343536FFFF").catch(codeOf);
    const nonce = await NesBridge.getNonce(conn.handle);
    await NesBridge.disconnect(conn.handle);
    return {
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
  /* The PIN typed in the extension's field reaches the card; the page
   * never sees it. The signed script uses it for VERIFY (a known PIN). */
  async pinrun() {
    const conn = await NesBridge.connect(READER);
    const nonce = await NesBridge.getNonce(conn.handle);
    const field = await NesBridge.mountPinField(document.getElementById("pin"), { lang: "en" });
    await field.ready;
    await new Promise((resolve) => {
      window.__pinTyped = resolve;
      window.__pinMounted = true;
    });
    const response = await fetch("/sign", { method: "POST", body: JSON.stringify({ nonce, atr: conn.atr }) });
    const signed = await response.json();
    const result = await NesBridge.runScript(conn.handle, signed, { pinField: field });
    const again = await NesBridge.runScript(conn.handle, signed).catch(codeOf);
    return {
      completed: result.completed,
      sw: result.steps[0].sw,
      data: result.steps[0].data,
      replay: again,
      page_saw_pin: document.documentElement.outerHTML.includes("123456"),
    };
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
  async pinframe() {
    const field = await NesBridge.mountPinField(document.getElementById("pin"), { lang: "en" });
    await field.ready;
    let document_visible = null, read_error = null;
    try {
      document_visible = field.iframe.contentDocument !== null;
      const doc = field.iframe.contentWindow.document;
      read_error = "read " + doc.querySelector("input").value;
    } catch (e) {
      read_error = e.name;
    }
    return { src_scheme: new URL(field.iframe.src).protocol, document_visible, read_error, token: field.token.length };
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
