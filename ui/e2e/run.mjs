// End-to-end test of the real window (tauri-driver + WebKitWebDriver under
// Xvfb): first-run setup → log in → register a member with a photo → lend
// two books → the Jalali due date → a third book refused for the limit →
// a return → the overdue list after moving the clock → card and label
// print layouts. Every main screen is screenshotted and checked with
// axe-core. Run by scripts/e2e.sh (which builds the app first).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { ROOT, axeViolations, invoke, openApp, screenshotDir } from "./driver.mjs";
import { AXE_ALLOWED } from "./axe-allowed.mjs";

const APP = process.env.KANOON_DESK_BIN ?? path.join(ROOT, "target/debug/kanoon-desk");
const workDir = path.join(ROOT, "target/e2e");
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
const db = path.join(workDir, "e2e-center.sqlite");
const shots = screenshotDir();
const ENTER = "\uE007";
const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const ascii = (s) => s.replace(/[۰-۹]/g, (d) => String(PERSIAN.indexOf(d)));

let passed = 0;
const failures = [];
const axeReport = [];

const { browser, stop } = await openApp(APP, { KANOON_DESK_DB: db, KANOON_DESK_TEST_CLOCK: "1" });
const $ = (sel) => browser.$(sel);

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e.message}`);
    try {
      grab(path.join(shots, `failed-${name.replace(/\W+/g, "-")}.png`));
    } catch {
      /* the failure itself is what counts */
    }
    throw e;
  }
}

/** The X screen as the librarian sees it (xvfb-run's display). WebKit's
 * own WebDriver screenshot does not answer when the window draws without
 * accelerated compositing, as the app does. */
function grab(file) {
  execFileSync("import", ["-window", "root", file], { timeout: 20000 });
}

async function shot(name) {
  await browser.pause(150); // fonts and layout settle
  grab(path.join(shots, `${name}.png`));
}

async function checkA11y(screen) {
  const violations = (await axeViolations(browser)).filter((v) => !AXE_ALLOWED[v.id]);
  axeReport.push({ screen, violations });
  if (violations.length > 0) {
    throw new Error(`axe on ${screen}: ${JSON.stringify(violations, null, 1)}`);
  }
}

/** Checks the screen with axe, then screenshots it (as `file`). */
async function look(screen, file) {
  await checkA11y(screen);
  await shot(file);
}

async function nav(screen) {
  await (await $(`button[data-screen="${screen}"]`)).click();
}

async function waitText(sel, pred, what) {
  await browser.waitUntil(async () => {
    const el = await $(sel);
    return (await el.isExisting()) && pred(await el.getText());
  }, { timeout: 8000, timeoutMsg: `waiting for ${what ?? sel}` });
}

async function typeInto(sel, text) {
  const el = await $(sel);
  await el.waitForDisplayed({ timeout: 8000 });
  await el.setValue(text);
}

/** Types each text into the field of its selector, in order. */
async function fill(fields) {
  for (const [sel, text] of Object.entries(fields)) await typeInto(sel, text);
}

let memberNumber = "";

try {
  await step("first-run setup", async () => {
    await (await $("#center-code")).waitForDisplayed({ timeout: 20000 });
    await fill({
      "#center-code": "۱۲۳۴",
      "#center-name": "مرکز فرهنگی هنری شماره ۱ اراک",
      "#desk-number": "۱",
      "#manager-name": "زهرا محمدی",
      "#manager-username": "zahra",
      "#manager-password": "کتابخانه۱۴۰۵",
      "#manager-password2": "کتابخانه۱۴۰۵",
    });
    await look("setup", "01-setup");
    await (await $("#setup-submit")).click();
    await (await $('button[data-screen="loan"]')).waitForDisplayed({ timeout: 8000 });
  });

  await step("log out and log in (wrong password refused)", async () => {
    await (await $("button=خروج")).click();
    await typeInto("#login-username", "zahra");
    await typeInto("#login-password", "wrong-password");
    await (await $("#login-submit")).click();
    await (await $('[data-error-code="wrong_credentials"]')).waitForDisplayed({ timeout: 5000 });
    await look("login", "02-login");
    await typeInto("#login-password", "کتابخانه۱۴۰۵");
    await (await $("#login-submit")).click();
    await (await $("#loan-member")).waitForDisplayed({ timeout: 5000 });
  });

  await step("home", async () => {
    await nav("home");
    await (await $("#home-today")).waitForDisplayed({ timeout: 5000 });
    await look("home", "03-home");
  });

  await step("catalog: add a title with three copies", async () => {
    await nav("catalog");
    const open = await $("#catalog-new-title");
    if (await open.isExisting()) await open.click();
    await typeInto("#title-title", "شازده کوچولو");
    await typeInto("#title-regnos", "100001, 100002, 100003");
    await (await $("#title-submit")).click();
    await browser.waitUntil(async () => (await (await $("main")).getText()).includes("100003") || (await (await $("main")).getText()).includes("۱۰۰۰۰۳"), { timeout: 8000, timeoutMsg: "copies listed" });
    await look("catalog", "04-catalog");
  });

  await step("register a member with a photo file", async () => {
    await nav("register");
    await fill({
      "#reg-first-name": "سارا",
      "#reg-last-name": "احمدی",
      "#reg-father-name": "علی",
      "#reg-national-id": "۰۰۱۳۵۴۲۴۱۹",
      "#reg-birth-date": "۱۳۹۵/۰۶/۱۲",
      "#reg-guardian-phone": "۰۹۱۲۱۲۳۴۵۶۷",
    });
    // A real PNG handed to the file input as a user would pick it.
    await browser.execute(() => {
      const c = document.createElement("canvas");
      c.width = 240; c.height = 320;
      const g = c.getContext("2d");
      g.fillStyle = "#2a7"; g.fillRect(0, 0, 240, 320);
      g.fillStyle = "#fc6"; g.beginPath(); g.arc(120, 120, 60, 0, 7); g.fill();
      const bin = atob(c.toDataURL("image/png").split(",")[1]);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const input = document.getElementById("reg-photo-file");
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "sara.png", { type: "image/png" }));
      input.files = dt.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    await browser.waitUntil(async () => (await $$img()) > 0, { timeout: 5000, timeoutMsg: "photo preview" });
    const receipt = await $("#reg-fee-receipt");
    if (await receipt.isExisting()) await receipt.setValue("۴۵۶۷");
    await look("register", "05-register");
    await (await $("#reg-submit")).click();
    await waitText("#reg-member-number", (t) => /[0-9۰-۹]{6,}/.test(t), "the new member number");
    memberNumber = ascii((await (await $("#reg-member-number")).getText()).replace(/[^0-9۰-۹]/g, ""));
    await shot("06-registered");
  });

  await step("lend two books by typing registration numbers and Enter", async () => {
    await nav("loan");
    await typeInto("#loan-member", memberNumber + ENTER);
    await (await $("#loan-member-panel")).waitForDisplayed({ timeout: 5000 });
    for (const regno of ["100001", "100002"]) {
      await typeInto("#loan-book", regno + ENTER);
      await (await $(`#loan-rows tr[data-regno="${regno}"][data-status="ready"]`)).waitForExist({ timeout: 5000 });
    }
    const focused = await browser.execute(() => document.activeElement?.id);
    if (focused !== "loan-book") throw new Error(`focus is on ${focused}, not the scan field`);
    await (await $("#loan-confirm")).click();
    await (await $('#loan-rows tr[data-regno="100002"][data-status="lent"]')).waitForExist({ timeout: 5000 });
  });

  await step("the Jalali due date is shown", async () => {
    const text = await (await $("#loan-recorded")).getText();
    const today = await invoke(browser, "app_status", null);
    const due = text.match(/[۰-۹]{4}\/[۰-۹]{2}\/[۰-۹]{2}/)?.[0];
    if (!due) throw new Error(`no Jalali due date in «${text}»`);
    if (ascii(due) <= ascii(today.ok.today_jalali)) throw new Error(`due ${due} is not after today ${today.ok.today_jalali}`);
    await look("loan", "07-loan-lent");
  });

  await step("a third book is refused with the limit message", async () => {
    await typeInto("#loan-book", "100003" + ENTER);
    // A manager sees it as overridable (needs a recorded reason), an instructor as refused.
    await (await $('#loan-rows tr[data-regno="100003"] [data-issue="limit_reached"]')).waitForExist({ timeout: 5000 });
    await (await $("#loan-confirm")).click();
    await browser.pause(300);
    const status = await (await $('#loan-rows tr[data-regno="100003"]')).getAttribute("data-status");
    if (status === "lent" || status === "ready") throw new Error(`third book ${status} without an override reason`);
    const open = await browser.$$("#loan-open-loans li");
    if (open.length !== 2) throw new Error(`${open.length} open loans, expected 2`);
    // A scanner's double trigger within 500 ms adds nothing.
    await typeInto("#loan-book", "100003" + ENTER);
    const rows = await browser.$$('#loan-rows tr[data-regno="100003"]');
    if (rows.length !== 1) throw new Error(`${rows.length} rows for one book`);
    await shot("08-loan-limit");
  });

  await step("return one book from the returns screen", async () => {
    await nav("returns");
    await typeInto("#return-book", "100001" + ENTER);
    await (await $('#return-rows tr[data-regno="100001"]')).waitForExist({ timeout: 5000 });
    await look("returns", "09-returns");
  });

  await step("the overdue list after moving the clock", async () => {
    const moved = await invoke(browser, "test_advance_clock", 12);
    if (moved.err) throw new Error(JSON.stringify(moved.err));
    await nav("home");
    await nav("overdue");
    await (await $('#overdue-rows tr[data-regno="100002"]')).waitForExist({ timeout: 5000 });
    const row = await (await $('#overdue-rows tr[data-regno="100002"]')).getText();
    if (!row.includes("۰۹۱۲۱۲۳۴۵۶۷")) throw new Error(`guardian phone missing in «${row}»`);
    await look("overdue", "10-overdue");
  });

  await step("members: find the member and open the profile", async () => {
    await nav("members");
    await typeInto("#member-search", "سارا");
    await browser.waitUntil(async () => (await (await $("main")).getText()).includes("احمدی"), { timeout: 5000, timeoutMsg: "search hit" });
    await browser.keys(ENTER);
    await browser.pause(300);
    await look("members", "11-member-profile");
  });

  await step("membership card print layout", async () => {
    const card = await $("#member-print-card");
    if (await card.isExisting()) await card.click();
    else await (await $("button*=کارت")).click();
    await (await $("#print-card")).waitForDisplayed({ timeout: 5000 });
    await (await $("#card-barcode")).waitForExist({ timeout: 5000 });
    await look("print-card", "12-print-card");
  });

  await step("label sheet print layout", async () => {
    await nav("catalog");
    const link = await $("#catalog-labels-by-number");
    await link.waitForExist({ timeout: 5000 });
    await link.click();
    const range = await $("#labels-numbers");
    if (await range.isExisting()) {
      await range.setValue("100001-100003");
      await (await $("#labels-build")).click();
    }
    await (await $("#print-labels")).waitForDisplayed({ timeout: 5000 });
    await browser.waitUntil(async () => (await browser.$$("#print-labels svg")).length >= 1, { timeout: 5000, timeoutMsg: "barcodes" });
    await look("print-labels", "13-print-labels");
  });

  await step("settings", async () => {
    await nav("settings");
    await browser.pause(300);
    await look("settings", "14-settings");
  });

  await step("sync: an unreachable server is reported, the desk keeps working", async () => {
    await nav("settings");
    await typeInto("#sync-server", "http://127.0.0.1:9");
    await typeInto("#sync-code", "۱۲۳۴۵۶۷۸۹۰");
    await (await $("#sync-enrol")).click();
    await (await $('#settings-sync [data-error-code="unreachable"]')).waitForDisplayed({ timeout: 15000 });
    const bar = await (await $("#sync-bar")).getText();
    if (!bar.includes("وصل نشده")) throw new Error(`status bar: «${bar}»`);
    await (await $("#settings-sync")).scrollIntoView();
    await shot("15-settings-sync");
    await browser.execute(() => window.scrollTo(0, 0));
    await (await $("#sync-bar button")).isExisting(); // no problems yet: no link
    await invoke(browser, "sync_problems", null).then((r) => {
      if (r.err || r.ok.length !== 0) throw new Error(JSON.stringify(r));
    });
  });

  await step("import screen", async () => {
    await nav("catalog");
    const link = await $("#catalog-import");
    await link.waitForExist({ timeout: 5000 });
    await link.click();
    await browser.pause(300);
    await look("import", "16-import");
  });
} catch {
  // reported by step()
} finally {
  await stop();
}

async function $$img() {
  return (await browser.$$("img")).length;
}

console.log(`axe: ${axeReport.length} screens checked, ${axeReport.reduce((n, r) => n + r.violations.length, 0)} violations (allowed: ${Object.keys(AXE_ALLOWED).join(", ") || "none"})`);
console.log(`e2e: ${passed} passed, ${failures.length} failed; screenshots in ${path.relative(ROOT, shots)}/`);
process.exit(failures.length === 0 ? 0 : 1);
