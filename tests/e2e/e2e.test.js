/* End to end: the demo site's unlock in real headless Chromium with the
 * extension, the real host, pcscd and the virtual NES card. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { execFileSync } = require("child_process");
const { startStack, H } = require("./stack");
const F = require("./chromium-flow");

const READER = "nesbridge Virtual Reader 00 00";
const SUCCESS = "Kart Pin Başarıyla Değiştirildi.";
let stack;

function apdu(...hex) {
  return execFileSync(path.join(H.BUILD, "tests", "pcsc-apdu"), [READER, ...hex]).toString().trim().split("\n")
    .map((l) => l.split(" ").pop());
}
const verifyHex = (pin) => "0020008108" + Buffer.from(pin).toString("hex").toUpperCase() + "FF".repeat(8 - pin.length);

before(async () => {
  stack = await startStack({ port: 8451, dataDir: path.join(H.BUILD, "e2e-chromium"), test: true });
});
after(() => stack.stop());

async function withBrowser(fn) {
  const browser = await H.launchChromium(stack.ext.dir, { withHost: true, env: stack.env });
  try {
    const page = await browser.newPage();
    return await fn(page, F.makeSteps(page, {}));
  } finally {
    await browser.close();
  }
}

async function unlockCase(prepare, newPin) {
  await H.vcardControl("reset-state fresh");
  prepare();
  return withBrowser(async (page, step) => {
    await F.login(page, stack.origin, step);
    const result = await F.unlock(page, step, newPin);
    assert.strictEqual(result.text, SUCCESS);
    assert.strictEqual(result.disabled, true, "the button stays disabled after success");
    assert.deepStrictEqual(apdu(verifyHex(newPin)), ["9000"]);
    return result;
  });
}

test("change the PIN knowing the old one", async () => {
  await unlockCase(() => assert.deepStrictEqual(apdu(verifyHex("123456")), ["9000"]), "13572468");
});

test("forgotten PIN (one wrong try spent)", async () => {
  await unlockCase(() => assert.deepStrictEqual(apdu(verifyHex("999999")), ["63C2"]), "975310");
});

test("card locked after 3 wrong tries", async () => {
  await unlockCase(() => assert.deepStrictEqual(apdu(verifyHex("000000"), verifyHex("000000"), verifyHex("000000"), "00200081"),
    ["63C2", "63C1", "63C0", "6983"]), "24681357");
});

test("a wrong SMS code is refused", async () => {
  await withBrowser(async (page, step) => {
    await F.login(page, stack.origin, step, { wrongCode: true });
    assert.strictEqual(await page.textContent(".msg"), "SMS onay kodu hatalı.");
    assert.ok(page.url().endsWith("/nes/sms-kod"));
  });
});

test("an expired SMS code sends the holder back to the start", async () => {
  await withBrowser(async (page, step) => {
    await F.login(page, stack.origin, step, { beforeCode: () => stack.advanceClock(301) });
    assert.strictEqual(await page.textContent(".msg"), "SMS onay kodunun süresi doldu. Lütfen işlemi baştan tekrarlayınız.");
    assert.ok(page.url().includes("/nes/sifreli"));
  });
});

test("the card pulled out during the unlock: clear message, card consistent, retry works", async () => {
  await H.vcardControl("reset-state pin-locked");
  await withBrowser(async (page, step) => {
    await F.login(page, stack.origin, step);
    /* Pulled right after the card processed the authentication (2nd APDU
     * after the button: GET CHALLENGE, MUTUAL AUTHENTICATE). */
    const first = await F.unlock(page, step, "11223344", { beforePress: () => H.vcardControl("remove-after 2") });
    assert.strictEqual(first.ok, false);
    assert.match(first.text, /Kart işlem sırasında çıkarıldı/);
    const state = await H.vcardControl("status");
    assert.match(state, /pin_tries=0 puk_tries=10 new_pin_required=0/, "nothing half-done on the card");
    await H.vcardControl("insert");
    await page.waitForFunction(() => !document.getElementById("make-pin").disabled, null, { timeout: 15000 });
    const frame = page.frames().find((f) => f.url().includes("/pin.html"));
    await frame.fill("#pin", "11223344");
    await frame.fill("#confirm", "11223344");
    await page.click("#make-pin");
    await page.waitForFunction((s) => document.getElementById("result").textContent === s, SUCCESS, { timeout: 20000 });
    assert.deepStrictEqual(apdu(verifyHex("11223344")), ["9000"]);
  });
});

test("replaying the first signed script is refused", async () => {
  await H.vcardControl("reset-state pin-locked");
  await withBrowser(async (page, step) => {
    await F.login(page, stack.origin, step);
    const result = await F.unlock(page, step, "55667788");
    assert.strictEqual(result.text, SUCCESS);
    const replay = await page.evaluate(async () => {
      const last = window.__nbLastSigned;
      return NesBridge.runScript(last.handle, last.signed).then(() => "ran", (e) => e.code);
    });
    assert.strictEqual(replay, "nonce-replayed");
    assert.deepStrictEqual(apdu(verifyHex("55667788")), ["9000"]);
  });
});
