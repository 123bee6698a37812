/* SPDX-License-Identifier: Apache-2.0 */
/* End to end: the demo site's unlock in real headless Chromium and Firefox
 * ESR with the extension, the real host, pcscd and the virtual NES card. */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert");
const path = require("path");
const fs = require("fs");
const { execFileSync, spawn } = require("child_process");
const { startStack, H } = require("./stack");
const drivers = require("./drivers");
const AXE = require("../browser/axe");
const { tr } = require("../../site/i18n");
const { PINPAD_TC, PINPAD_READER: PINPAD } = require("./chromium-flow");

const READER = "nesbridge Virtual Reader 00 00";
const SUCCESS = "Kart Pin Başarıyla Değiştirildi.";
/* The AKİS way to read the card (docs/card-profile.md): GET DATA 01 06
 * (the serial at offset 55 of the system data), SELECT of the MF (the
 * FCI's security byte), VERIFY with no data; never our own GET DATA 5A. */
const AKIS_READS = ["00CA01064D", "00A40000023F0000", "00200081", "00200082"];
let stack;

function apdu(...hex) {
  return apduOn(READER, ...hex);
}
function apduOn(reader, ...hex) {
  return execFileSync(path.join(H.BUILD, "tests", "pcsc-apdu"), [reader, ...hex]).toString().trim().split("\n")
    .map((l) => l.split(" ").pop());
}
const verifyHex = (pin) => "0020008108" + Buffer.from(pin).toString("hex").toUpperCase() + "FF".repeat(8 - pin.length);

before(async () => {
  stack = await startStack({ port: 8451, dataDir: path.join(H.BUILD, "e2e-site"), test: true });
});
after(() => stack.stop());

async function withBrowser(kind, fn) {
  const browser = await drivers[kind](stack);
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/* A second virtual NES card, locked, in the second slot of the virtual
 * reader ("... 00 01", vpcd's port 36865); stopped by its pid. It has the
 * same serial as the first (the demo holder's card: the site signs for no
 * other), so only the reader and the PINs tell them apart. */
const READER2 = "nesbridge Virtual Reader 00 01";
async function withSecondCard(fn) {
  const dir = H.tempDir("card2");
  const card = spawn(path.join(H.BUILD, "nesbridge-vcard"), ["--state", path.join(dir, "card.state"),
    "--control", path.join(dir, "control.sock"), "--port", "36865", "--serial", "NB0000000001", "--init", "pin-locked",
    "--cert", path.join(H.BUILD, "pki", "card-cert.der")], { stdio: "ignore" });
  try {
    execFileSync(path.join(H.BUILD, "tests", "pcsc-probe"), [READER2, "10000"], { stdio: "ignore" });
    return await fn();
  } finally {
    const gone = new Promise((r) => card.once("exit", r));
    card.kill();
    await gone;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of ["chromium", "firefox"]) {
  async function unlockCase(prepare, newPin, triesBefore) {
    await H.vcardControl("reset-state fresh");
    prepare();
    await withBrowser(kind, async (b) => {
      await b.login();
      const result = await b.unlock(newPin);
      /* Both virtual cards have real AKİS ATRs: the site offers both. */
      assert.ok(result.choices.includes(READER) && result.choices.includes(PINPAD), JSON.stringify(result.choices));
      /* The serial read with GET DATA 01 06, the tries from the FCI and VERIFY. */
      assert.deepStrictEqual({ serial: result.before.serial, tries: result.before.tries, apdus: result.before.apdus },
        { serial: "NB0000000001", tries: triesBefore, apdus: AKIS_READS });
      assert.strictEqual(result.text, SUCCESS);
      assert.strictEqual(result.disabled, true, "the button stays disabled after success");
      /* The PIN was typed in the extension's own window, in Turkish, which
       * named the site, the reader and the serial; the page has no frame. */
      const w = result.pinWindow;
      assert.match(w.url, /^(chrome|moz)-extension:\/\/[^/]+\/pin\.html#[0-9a-f]{48}$/);
      assert.deepStrictEqual({ lang: w.lang, heading: w.heading, origin: w.origin, reader: w.reader, serial: w.serial,
        focused: w.focused }, { lang: "tr", heading: "Yeni PIN Kodu", origin: stack.origin, reader: READER,
        serial: "NB0000000001", focused: "pin" });
      assert.strictEqual(w.action, "Kartınızın kilidi çözülecek ve buraya yazacağınız yeni PIN kodu karta yazılacak.");
      assert.strictEqual(result.frames, 0);
      assert.deepStrictEqual(apdu(verifyHex(newPin)), ["9000"]);
    });
  }

  test(kind + ": change the PIN knowing the old one", async () => {
    await unlockCase(() => assert.deepStrictEqual(apdu(verifyHex("123456")), ["9000"]), "13572468", "3");
  });

  test(kind + ": forgotten PIN (a wrong try spent)", async () => {
    await unlockCase(() => assert.deepStrictEqual(apdu(verifyHex("999999")), ["63C2"]), "975310", "2");
  });

  test(kind + ": card locked after 3 wrong tries", async () => {
    await unlockCase(() => assert.deepStrictEqual(
      apdu(verifyHex("000000"), verifyHex("000000"), verifyHex("000000"), "00200081"), ["63C2", "63C1", "63C0", "6983"]),
    "24681357", "0");
  });

  test(kind + ": two AKİS cards: the site asks which one, and unlocks the one chosen", async () => {
    await H.vcardControl("reset-state fresh");
    await withSecondCard(() => withBrowser(kind, async (b) => {
      await b.login();
      const result = await b.unlock("31415926", { choose: READER2 });
      /* Every AKİS card is offered (the set-up may hold a third). */
      assert.ok(result.choices.includes(READER) && result.choices.includes(READER2), JSON.stringify(result.choices));
      assert.strictEqual(result.text, SUCCESS);
      assert.deepStrictEqual([result.pinWindow.reader, result.pinWindow.serial], [READER2, "NB0000000001"]);
      assert.deepStrictEqual(apduOn(READER2, verifyHex("31415926")), ["9000"]);
      assert.deepStrictEqual(apdu(verifyHex("123456")), ["9000"], "the other card is untouched");
    }));
  });

  test(kind + ": a wrong SMS code is refused", async () => {
    await withBrowser(kind, async (b) => {
      await b.login({ wrongCode: true });
      assert.strictEqual(await b.message(), "SMS onay kodu hatalı.");
      assert.ok((await b.url()).endsWith("/nes/sms-kod"));
    });
  });

  test(kind + ": an expired SMS code sends the holder back to the start", async () => {
    await withBrowser(kind, async (b) => {
      await b.login({ beforeCode: () => stack.advanceClock(301) });
      assert.strictEqual(await b.message(), "SMS onay kodunun süresi doldu. Lütfen işlemi baştan tekrarlayınız.");
      assert.ok((await b.url()).includes("/nes/sifreli"));
    });
  });

  test(kind + ": card pulled out during the unlock: clear message, card consistent, retry works", async () => {
    await H.vcardControl("reset-state pin-locked");
    await withBrowser(kind, async (b) => {
      await b.login();
      /* Out right after the card processed the authentication (the 2nd
       * APDU after the button: GET CHALLENGE, MUTUAL AUTHENTICATE). */
      const first = await b.unlock("11223344", { beforePress: () => H.vcardControl("remove-after 2") });
      assert.strictEqual(first.ok, false);
      assert.match(first.text, /Kart işlem sırasında çıkarıldı/);
      assert.match(await H.vcardControl("status"), /pin_tries=0 puk_tries=10 new_pin_required=0/);
      await H.vcardControl("insert");
      assert.strictEqual(await b.retry("11223344"), SUCCESS);
      assert.deepStrictEqual(apdu(verifyHex("11223344")), ["9000"]);
    });
  });

  test(kind + ": Escape in the PIN window: the site says so, nothing reaches the card, a retry works", async () => {
    await H.vcardControl("reset-state pin-locked");
    await withBrowser(kind, async (b) => {
      await b.login();
      assert.deepStrictEqual(await b.cancelPin(), {
        text: "Yeni PIN girişi iptal edildi; kartta bir değişiklik yapılmadı.", disabled: false });
      assert.match(await H.vcardControl("status"), /pin_tries=0 puk_tries=10 /);
      assert.strictEqual(await b.retry("86420135"), SUCCESS);
      assert.deepStrictEqual(apdu(verifyHex("86420135")), ["9000"]);
    });
  });

  test(kind + ": the site's pages and the PIN window meet WCAG 2.1 AA (axe-core)", async () => {
    await H.vcardControl("reset-state pin-locked");
    await withBrowser(kind, async (b) => {
      const pages = await b.accessibility();
      /* Every page of the flow was checked, the PIN window among them. */
      for (const where of ["/", "/online", "/nes", "/nes/sifreli", "/nes/sms-onay", "/nes/sms-kod", "/nes/islemler",
        "/nes/kilit-cozme", "pin.html", "/demo/sms"]) {
        assert.ok(pages.some((p) => p.path === where || p.path.endsWith("/" + where)), where + " was not checked: " +
          JSON.stringify(pages.map((p) => p.path)));
      }
      const failed = pages.filter((p) => p.violations.length > 0);
      assert.deepStrictEqual(failed.map((p) => p.name), [],
        failed.map((p) => AXE.describe(p.name + " (" + p.path + ")", p.violations)).join("\n"));
    });
  });

  /* The pinpad reader's card belongs to the second demo holder. */
  const KEYPAD_WINDOW = { lang: "tr", inputs: 0, focused: "keypad",
    keypad: "Yeni PIN kodunuzu kart okuyucunun tuş takımında iki kez yazınız: önce bir kez, okuyucu sorduğunda bir kez daha. 6-8 haneli.",
    action: "Kartınızın kilidi çözülecek ve kart okuyucunun tuş takımında yazacağınız yeni PIN kodu karta yazılacak." };

  test(kind + ": a pinpad reader: the new PIN typed twice on its keypad, no field in the window; the new PIN verifies", async () => {
    await H.pinpadControl("reset-state pin-locked");
    await withBrowser(kind, async (b) => {
      await b.login({ tc: PINPAD_TC });
      const r = await b.unlockOnKeypad("keypad 24681357", { choose: PINPAD });
      assert.ok(r.choices.includes(PINPAD) && r.choices.includes(READER), JSON.stringify(r.choices));
      assert.deepStrictEqual({ reader: r.before.reader, serial: r.before.serial, tries: r.before.tries, hint: r.before.hint },
        { reader: PINPAD, serial: "NB0000000002", tries: "0", hint: tr.c.pinHintPinpad });
      assert.strictEqual(r.status, tr.c.typePinPad);
      const w = r.pinWindow;
      assert.deepStrictEqual({ lang: w.lang, inputs: w.inputs, focused: w.focused, keypad: w.keypad, action: w.action,
        origin: w.origin, reader: w.reader, serial: w.serial },
      Object.assign({ origin: stack.origin, reader: PINPAD, serial: "NB0000000002" }, KEYPAD_WINDOW));
      assert.deepStrictEqual({ text: r.text, disabled: r.disabled, tries: r.tries }, { text: SUCCESS, disabled: true, tries: "3" });
      assert.deepStrictEqual(apduOn(PINPAD, verifyHex("24681357")), ["9000"]);
    });
  });

  test(kind + ": a pinpad reader: Cancel on the keypad gives pin-cancelled, no entry in time pin-timeout; the card stays blocked; then the keypad unlocks it", async () => {
    await H.pinpadControl("reset-state pin-locked");
    await withBrowser(kind, async (b) => {
      await b.login({ tc: PINPAD_TC });
      const cancelled = await b.unlockOnKeypad("keypad cancel", { choose: PINPAD });
      assert.deepStrictEqual({ text: cancelled.text, disabled: cancelled.disabled, tries: cancelled.tries },
        { text: tr.c["pin-cancelled"], disabled: false, tries: "0" });
      assert.match(await H.pinpadControl("status"), /pin_tries=0 /);
      const timedOut = await b.unlockOnKeypad("keypad timeout", { again: true });
      assert.deepStrictEqual({ text: timedOut.text, disabled: timedOut.disabled, tries: timedOut.tries },
        { text: tr.c["pin-timeout"], disabled: false, tries: "0" });
      assert.match(await H.pinpadControl("status"), /pin_tries=0 /);
      assert.deepStrictEqual(apduOn(PINPAD, "00200081"), ["6983"], "still blocked");
      const done = await b.unlockOnKeypad("keypad 86420135", { again: true });
      assert.strictEqual(done.text, SUCCESS);
      assert.deepStrictEqual(apduOn(PINPAD, verifyHex("86420135")), ["9000"]);
    });
  });

  test(kind + ": replaying the first signed script is refused", async () => {
    await H.vcardControl("reset-state pin-locked");
    await withBrowser(kind, async (b) => {
      await b.login();
      assert.strictEqual((await b.unlock("55667788")).text, SUCCESS);
      assert.strictEqual(await b.replay(), "nonce-replayed");
      assert.deepStrictEqual(apdu(verifyHex("55667788")), ["9000"]);
    });
  });
}

/* The whole unlock with the authority's key in an HSM (SoftHSM2): the site
 * signs through nesbridge-sign (SIGNER=pkcs11), the seed publishes the
 * token's public key, no private key is anywhere in the site's data.
 * Chromium only. */
test("chromium: the unlock signed by a key that never leaves the HSM (SIGNER=pkcs11)", async () => {
  const { makeToken } = require("../authority/softhsm");
  const dataDir = path.join(H.BUILD, "e2e-site-pkcs11");
  fs.rmSync(dataDir, { recursive: true, force: true });
  const tok = makeToken(dataDir + "-hsm");
  tok.generate("kamusm-2025", "2025", "EC:prime256v1");
  const uri = tok.uri("kamusm-2025", { pin: "file" });
  const hsmStack = await startStack({ port: 8452, dataDir, test: true,
    siteEnv: { SOFTHSM2_CONF: tok.env.SOFTHSM2_CONF, SIGNER: "pkcs11", SIGNER_PKCS11_URI: uri } });
  try {
    assert.ok(!fs.existsSync(path.join(dataDir, "authority.key")), "no key file in the site's data");
    await H.vcardControl("reset-state pin-locked");
    const browser = await drivers.chromium(hsmStack);
    try {
      await browser.login();
      assert.strictEqual((await browser.unlock("36925814")).text, SUCCESS);
    } finally {
      await browser.close();
    }
    assert.deepStrictEqual(apdu(verifyHex("36925814")), ["9000"]);
    const tokenKeyId = execFileSync(path.join(H.BUILD, "nesbridge-sign"), ["--key-id", uri], { env: tok.env }).toString().trim();
    const audit = fs.readFileSync(path.join(dataDir, "audit.log"), "utf8");
    const prepared = audit.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.event === "unlock-prepared");
    assert.strictEqual(prepared.length, 1);
    assert.strictEqual(prepared[0].key_id, tokenKeyId);
    assert.match(prepared[0].script_sha256, /^[0-9a-f]{64}$/);
    /* Never in the audit: the script's secret APDUs, the new PIN, the token's PIN. */
    assert.doesNotMatch(audit, /0082000028|36925814|246810/);
  } finally {
    hsmStack.stop();
  }
});
