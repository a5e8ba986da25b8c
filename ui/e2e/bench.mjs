// Desktop figures for docs/BENCHMARKS.md, measured in the real window
// (scripts/bench-desktop.sh builds everything and runs this under Xvfb):
//   - launch → login screen, and sign-in → usable loan window
//   - scan → result row latency in the window (p50/p99 over 200 scans), for
//     the loan window (check of one book) and the returns screen (a return)
//   - memory: PSS of all app processes after start and after 1,000 loans,
//     beside an empty Tauri window of the same build, in the same run
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ROOT, invoke, openApp } from "./driver.mjs";

// The release build: what ships (the .deb carries it).
const BIN = path.join(ROOT, "target", process.env.KANOON_BENCH_PROFILE ?? "release");
const APP = path.join(BIN, "kanoon-desk");
const EMPTY = path.join(BIN, "kanoon-desk-empty");
const DB = process.argv[2];
const ENTER = "\uE007";
const LOANS = Number(process.env.KANOON_BENCH_LOANS ?? 1000);
if (!DB) throw new Error("usage: node bench.mjs <demo-db-path>");
// Extra environment for the app only (not the empty window), for trying
// WebKit settings: KANOON_BENCH_APP_ENV='{"NAME":"value"}'.
const APP_ENV = { KANOON_DESK_DB: DB, ...JSON.parse(process.env.KANOON_BENCH_APP_ENV ?? "{}") };

function sql(query) {
  const out = execFileSync("python3", ["-c", `import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute(sys.argv[2]): print(r[0])`, DB, query]);
  return out.toString().split("\n").filter((l) => l !== "");
}

/** PSS (kB) of every process whose executable or parent chain is the app. */
function pssOf(rootName) {
  const procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return { pid: Number(pid), ppid, comm };
    } catch {
      return null;
    }
  }).filter(Boolean);
  const roots = procs.filter((p) => p.comm === rootName.slice(0, 15));
  const ids = new Set(roots.map((p) => p.pid));
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!ids.has(p.pid) && ids.has(p.ppid)) { ids.add(p.pid); grew = true; }
  }
  let total = 0;
  const parts = [];
  for (const pid of ids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
      if (m) {
        total += Number(m[1]);
        parts.push(`${procs.find((p) => p.pid === pid)?.comm} ${(Number(m[1]) / 1024).toFixed(0)}`);
      }
    } catch { /* exited */ }
  }
  return { kb: total, processes: ids.size, parts: parts.join(", ") };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (x) => x.toFixed(1);

/** Where the scans' time went (lib/latency.ts's ScanParts): each step's
 * p50 / p99 / max, and the five slowest scans step by step. */
async function printParts(browser, label) {
  const parts = await browser.execute(() => [...(globalThis.__kanoonScanParts ?? [])]);
  if (parts.length === 0) return;
  const steps = (p) => ({
    "Enter → sent": p.sent, "command": p.answered - p.sent, "DOM update": p.updated - p.answered,
    "to the frame": p.frame - p.updated, "frame → painted": p.painted - p.frame,
  });
  const rows = parts.map(steps);
  for (const name of Object.keys(rows[0])) {
    const xs = rows.map((r) => r[name]);
    console.log(`  ${label} step ${name}: p50 ${fmt(pct(xs, 50))} p99 ${fmt(pct(xs, 99))} max ${fmt(Math.max(...xs))} ms`);
  }
  const slowest = parts.map((p, i) => ({ i, p })).sort((a, b) => b.p.painted - a.p.painted).slice(0, 5);
  for (const { i, p } of slowest) {
    console.log(`  ${label} slow scan #${i}: ${fmt(p.painted)} ms = ${Object.entries(steps(p)).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`);
  }
}

// ---- the empty window first (the floor)
if (process.env.KANOON_BENCH_MEMORY !== "0") {
  const { browser, stop } = await openApp(EMPTY, {});
  await browser.pause(3000);
  const m = pssOf("kanoon-desk-empty");
  console.log(`empty Tauri window: PSS ${(m.kb / 1024).toFixed(0)} MB over ${m.processes} processes (${m.parts})`);
  globalThis.emptyPss = m.kb;
  await stop();
  // The app draws without accelerated compositing (src-tauri/src/lib.rs);
  // the same empty window drawn that way, for a like-for-like comparison.
  const soft = await openApp(EMPTY, { WEBKIT_DISABLE_COMPOSITING_MODE: "1" });
  await soft.browser.pause(3000);
  const s = pssOf("kanoon-desk-empty");
  console.log(`empty Tauri window without compositing: PSS ${(s.kb / 1024).toFixed(0)} MB (${s.parts})`);
  globalThis.emptySoftPss = s.kb;
  await soft.stop();
}

const today = new Date().toISOString().slice(0, 10);
// Loans per member in the 1,000-loan run (the bench raises the policy's
// limit so that the demo's members with a membership in force suffice).
const PER_MEMBER = 10;
const members = sql(`SELECT m.member_number FROM members m WHERE EXISTS (SELECT 1 FROM memberships p WHERE p.member_id = m.id AND p.ends_on >= '${today}') AND NOT EXISTS (SELECT 1 FROM open_loans o WHERE o.member_id = m.id) ORDER BY m.seq LIMIT ${Math.ceil(LOANS / PER_MEMBER) + 1}`);
const free = sql(`SELECT c.registration_number FROM copies c WHERE c.withdrawn IS NULL AND NOT EXISTS (SELECT 1 FROM open_loans o WHERE o.copy_id = c.id) ORDER BY c.rowid LIMIT ${LOANS + 200}`);
const onLoan = sql("SELECT c.registration_number FROM open_loans o JOIN copies c ON c.id = o.copy_id ORDER BY o.loan_id LIMIT 200");
console.log(`dataset: ${members.length} eligible members, ${free.length} free copies, ${onLoan.length} copies on loan used`);

const t0 = Date.now();
if (process.env.KANOON_BENCH_LATENCY !== "0") {
const { browser, stop } = await openApp(APP, APP_ENV);
const $ = (s) => browser.$(s);
  await (await $("#login-username")).waitForDisplayed({ timeout: 30000 });
  const launch = Date.now() - t0;
  await browser.pause(2000);
  const t1 = Date.now();
  await (await $("#login-username")).setValue("manager");
  await (await $("#login-password")).setValue("kanoon" + ENTER);
  await (await $("#loan-member")).waitForDisplayed({ timeout: 10000 });
  const signIn = Date.now() - t1;
  const policy = await invoke(browser, "policy", null);
  policy.ok.default_rule.max_open_loans = 20;
  for (const r of Object.values(policy.ok.by_center_kind ?? {})) r.max_open_loans = 20;
  const set = await invoke(browser, "set_policy", policy.ok);
  if (set.err) throw new Error(JSON.stringify(set.err));
  console.log(`launch → login screen: ${launch} ms (includes the WebDriver session start); sign-in → loan window: ${signIn} ms`);

  // ---- scan → row, loan window: one member, 200 different books, each
  // checked and then removed from the list (so every scan checks one book).
  await (await $("#loan-member")).setValue(members[0] + ENTER);
  await (await $("#loan-member-panel")).waitForDisplayed({ timeout: 5000 });
  await browser.execute(() => { globalThis.__kanoonScanLatencies.length = 0; });
  for (const regno of free.slice(LOANS, LOANS + 200)) {
    await (await $("#loan-book")).setValue(regno + ENTER);
    const row = await $(`#loan-rows tr[data-regno="${regno}"]`);
    await row.waitForExist({ timeout: 5000 });
    await (await row.$("button")).click();
  }
  const loanLat = await browser.execute(() => [...globalThis.__kanoonScanLatencies]);
  console.log(`loan window scan → row: n=${loanLat.length} p50 ${fmt(pct(loanLat, 50))} ms p99 ${fmt(pct(loanLat, 99))} ms max ${fmt(Math.max(...loanLat))} ms`);

  // ---- the same scans with the keys dispatched in the page (value + Enter,
  // as the memory phase types) instead of WebDriver's key actions, which
  // go through the app's main loop — the one that also carries the IPC.
  await browser.execute(() => { globalThis.__kanoonScanLatencies.length = 0; });
  const inPage = await browser.executeAsync((regnos, done) => {
    const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
    const until = async (pred) => { for (let k = 0; k < 500; k++) { if (pred()) return true; await sleep(2); } return false; };
    (async () => {
      for (const b of regnos) {
        await until(() => !document.getElementById("loan-book")?.disabled);
        await sleep(30);
        const el = document.getElementById("loan-book");
        el.value = b;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
        const row = await until(() => document.querySelector(`#loan-rows tr[data-regno="${b}"]`));
        if (!row) return done({ err: b });
        document.querySelector(`#loan-rows tr[data-regno="${b}"] button`)?.click();
      }
      done({ ok: [...globalThis.__kanoonScanLatencies] });
    })();
  }, free.slice(LOANS, LOANS + 200));
  if (inPage.err) throw new Error(`in-page scan: ${inPage.err}`);
  const ip = inPage.ok;
  console.log(`loan window scan → row, keys dispatched in the page: n=${ip.length} p50 ${fmt(pct(ip, 50))} ms p99 ${fmt(pct(ip, 99))} ms max ${fmt(Math.max(...ip))} ms`);

  // ---- where a scan's time goes, each part alone in the page, spaced as
  // the scans are: the IPC round trip of a command that does no work
  // (`age_groups`), the loan window's own command (`preview_check_out` of
  // one book, no rendering), and the wait from a DOM change to the next
  // frame painted (what `afterPaint` waits for).
  const parts = await browser.executeAsync((memberNumber, regno, done) => {
    const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
    const ipc = window.__TAURI_INTERNALS__;
    const timed = async (f) => { const t = performance.now(); await f(); return performance.now() - t; };
    (async () => {
      const member = (await ipc.invoke("member_by_number", { args: memberNumber })).id;
      const out = { noop: [], preview: [], frame: [] };
      const probe = document.createElement("div");
      document.body.append(probe);
      for (let i = 0; i < 200; i++) {
        await sleep(25);
        out.noop.push(await timed(() => ipc.invoke("age_groups", { args: null })));
        await sleep(25);
        out.preview.push(await timed(() => ipc.invoke("preview_check_out", { args: { member_id: member, registration_numbers: [regno] } })));
        await sleep(25);
        out.frame.push(await timed(() => { probe.textContent = String(i); return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))); }));
      }
      probe.remove();
      done(out);
    })();
  }, members[0], free[LOANS]);
  for (const [name, xs] of Object.entries(parts)) {
    console.log(`  part ${name}: n=${xs.length} p50 ${fmt(pct(xs, 50))} ms p99 ${fmt(pct(xs, 99))} ms max ${fmt(Math.max(...xs))} ms`);
  }

  // ---- scan → row, returns: 200 books on loan, one scan each.
  await (await $('button[data-screen="returns"]')).click();
  await (await $("#return-book")).waitForDisplayed({ timeout: 5000 });
  await browser.execute(() => { globalThis.__kanoonScanLatencies.length = 0; });
  for (const regno of onLoan) {
    await (await $("#return-book")).setValue(regno + ENTER);
    await (await $(`#return-rows tr[data-regno="${regno}"]`)).waitForExist({ timeout: 5000 });
  }
  const retLat = await browser.execute(() => [...globalThis.__kanoonScanLatencies]);
  console.log(`returns scan → row: n=${retLat.length} p50 ${fmt(pct(retLat, 50))} ms p99 ${fmt(pct(retLat, 99))} ms max ${fmt(Math.max(...retLat))} ms`);
  await printParts(browser, "returns");

  // ---- scan → name, attendance: a session planned today, 200 member
  // cards scanned one after another into it (each a new attendee).
  const me = (await invoke(browser, "app_status", null)).ok;
  const group = (await invoke(browser, "age_groups", null)).ok[0].code;
  const planned = await invoke(browser, "plan_session", {
    kind: "storytelling", title: "سنجش حضور", age_group: group, on: me.today, at: "00:00", minutes: 60,
    room: "", instructor_id: me.signed_in.id, capacity: 500,
  });
  if (planned.err) throw new Error(JSON.stringify(planned.err));
  await (await $('button[data-screen="activities"]')).click();
  const open = await $(`[data-session="${planned.ok.id}"] button[data-action=attendance]`);
  await open.waitForDisplayed({ timeout: 5000 });
  await open.click();
  await (await $("#attendance-card")).waitForDisplayed({ timeout: 5000 });
  await browser.execute(() => { globalThis.__kanoonScanLatencies.length = 0; globalThis.__kanoonScanParts.length = 0; });
  for (const card of sql("SELECT member_number FROM members WHERE merged_into IS NULL ORDER BY seq DESC LIMIT 200")) {
    await (await $("#attendance-card")).setValue(card + ENTER);
    await (await $(`#attendance-last[data-card="${card}"]`)).waitForExist({ timeout: 5000 });
  }
  const attLat = await browser.execute(() => [...globalThis.__kanoonScanLatencies]);
  console.log(`attendance scan → name: n=${attLat.length} p50 ${fmt(pct(attLat, 50))} ms p99 ${fmt(pct(attLat, 99))} ms max ${fmt(Math.max(...attLat))} ms`);
  await printParts(browser, "attendance");

  // ---- scan → row, the van's exchange (issue 14): a village on today's
  // slot, its visit open, one child's card, then 100 books each lent (due
  // at the next visit) and taken back: 200 scans, each shown as a row (a
  // loan's warning, when the book's age group asks for one, is the shown
  // answer and is confirmed as staff would).
  const weekday = (new Date(`${me.today}T00:00:00Z`).getUTCDay() + 1) % 7;
  if (weekday === 6) {
    console.log("van exchange scan → row: skipped (the van does not run on Fridays; run the bench on another day)");
  } else {
    const week = Math.floor((Date.parse(`${me.today}T00:00:00Z`) - Date.parse("2025-03-22T00:00:00Z")) / (7 * 86400000)) % 2;
    const saved = await invoke(browser, "save_village", { village_id: null, village: {
      name: "روستای سنجش", district: "", eligible: true, ineligible_reason: null, distance_km: null, school: null,
      contact_name: "", contact_phone: "", children: null } });
    if (saved.err) throw new Error(JSON.stringify(saved.err));
    const vid = saved.ok.id;
    const slot = await invoke(browser, "set_village_slot", { village_id: vid, slot: { weekday, week } });
    if (slot.err) throw new Error(JSON.stringify(slot.err));
    const opened = await invoke(browser, "open_visit", vid);
    if (opened.err) throw new Error(JSON.stringify(opened.err));
    await (await $('button[data-screen="home"]')).click();
    await (await $("#home-outreach")).click();
    await (await $(`#visit-resume-${vid}`)).waitForDisplayed({ timeout: 10000 });
    await (await $(`#visit-resume-${vid}`)).click();
    await (await $("#visit-member")).setValue(members[1] + ENTER);
    await (await $("#visit-member-name")).waitForDisplayed({ timeout: 5000 });
    await browser.execute(() => { globalThis.__kanoonScanLatencies.length = 0; globalThis.__kanoonScanParts.length = 0; });
    const rowsOf = async (regno) => (await browser.$$(`#visit-rows tr[data-regno="${regno}"]`)).length;
    for (const regno of free.slice(LOANS, LOANS + 100)) {
      await (await $("#visit-loan")).setValue(regno + ENTER);
      await browser.waitUntil(async () => (await rowsOf(regno)) === 1 || (await (await $("#visit-loan-confirm")).isExisting()), { timeout: 5000, timeoutMsg: `loan ${regno}` });
      if ((await rowsOf(regno)) === 0) {
        await (await $("#visit-loan-confirm")).click();
        await browser.waitUntil(async () => (await rowsOf(regno)) === 1, { timeout: 5000, timeoutMsg: `confirmed loan ${regno}` });
      }
      await (await $("#visit-return")).setValue(regno + ENTER);
      await browser.waitUntil(async () => (await rowsOf(regno)) === 2, { timeout: 5000, timeoutMsg: `return ${regno}` });
    }
    const vanLat = await browser.execute(() => [...globalThis.__kanoonScanLatencies]);
    console.log(`van exchange scan → row: n=${vanLat.length} p50 ${fmt(pct(vanLat, 50))} ms p99 ${fmt(pct(vanLat, 99))} ms max ${fmt(Math.max(...vanLat))} ms`);
    await printParts(browser, "van exchange");
  }

  // ---- the attendance command alone (IPC + store + its fsync, no
  // rendering), into a second session, spaced as the scans are.
  const second = await invoke(browser, "plan_session", {
    kind: "storytelling", title: "سنجش فرمان حضور", age_group: group, on: me.today, at: "00:00", minutes: 60,
    room: "", instructor_id: me.signed_in.id, capacity: 500,
  });
  if (second.err) throw new Error(JSON.stringify(second.err));
  const cards = sql("SELECT member_number FROM members WHERE merged_into IS NULL ORDER BY seq DESC LIMIT 200");
  const attend = await browser.executeAsync((session, cards, done) => {
    const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
    const ipc = window.__TAURI_INTERNALS__;
    (async () => {
      const out = [];
      for (const card of cards) {
        await sleep(25);
        const t = performance.now();
        await ipc.invoke("record_attendance", { args: { session_id: session, card } });
        out.push(performance.now() - t);
      }
      done(out);
    })();
  }, second.ok.id, cards);
  console.log(`  part record_attendance: n=${attend.length} p50 ${fmt(pct(attend, 50))} ms p99 ${fmt(pct(attend, 99))} ms max ${fmt(Math.max(...attend))} ms`);

  await stop();
}

// ---- memory: a fresh session (no WebDriver-driven phase before it).
if (process.env.KANOON_BENCH_MEMORY !== "0") {
  const { browser, stop } = await openApp(APP, APP_ENV);
  const $ = (s) => browser.$(s);
  await (await $("#login-username")).waitForDisplayed({ timeout: 30000 });
  await (await $("#login-username")).setValue("manager");
  await (await $("#login-password")).setValue("kanoon" + ENTER);
  await (await $("#loan-member")).waitForDisplayed({ timeout: 10000 });
  await browser.pause(3000);
  const startPss = pssOf("kanoon-desk");
  // ---- 1,000 loans through the window. Typed in-page (value + Enter key
  // events on the same fields, the same handlers and IPC) rather than by
  // WebDriver element commands: WebKitWebDriver keeps every element it
  // ever returned alive in the page, which would inflate the web process's
  // memory with detached nodes that the app itself no longer holds.
  const tl = Date.now();
  let lent = 0;
  let halfPss = null;
  for (let i = 0; lent < LOANS && i + 1 < members.length; i++) {
    const books = free.slice(lent, Math.min(lent + PER_MEMBER, LOANS));
    const r = await browser.executeAsync((member, regnos, done) => {
      const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
      const until = async (pred) => { for (let k = 0; k < 500; k++) { if (pred()) return true; await sleep(5); } return false; };
      const scan = (id, code) => {
        const el = document.getElementById(id);
        el.value = code;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      };
      (async () => {
        scan("loan-member", member);
        if (!(await until(() => document.getElementById("loan-member-panel")?.dataset.memberNumber === member))) return done({ err: "member" });
        for (const b of regnos) {
          await until(() => !document.getElementById("loan-book")?.disabled);
          scan("loan-book", b);
          if (!(await until(() => document.querySelector(`#loan-rows tr[data-regno="${b}"]`)))) return done({ err: `row ${b}` });
        }
        const warn = document.getElementById("loan-confirm-warnings");
        if (warn && !warn.checked) warn.click();
        await sleep(0);
        document.getElementById("loan-confirm").click();
        await until(() => document.querySelectorAll('#loan-rows tr[data-status="lent"]').length > 0 || document.querySelector('[role="alert"]'));
        const n = document.querySelectorAll('#loan-rows tr[data-status="lent"]').length;
        window.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
        done({ ok: n });
      })();
    }, members[i + 1], books);
    if (r.err) throw new Error(`loan loop: ${r.err} (member ${members[i + 1]})`);
    const before = lent;
    lent += r.ok;
    if (before < LOANS / 2 && lent >= LOANS / 2) halfPss = pssOf("kanoon-desk");
  }
  const perLoan = (Date.now() - tl) / Math.max(lent, 1);
  await browser.pause(5000);
  const afterPss = pssOf("kanoon-desk");
  // Is the growth kept, or garbage the JavaScript engine has not collected yet?
  await browser.pause(30000);
  const idlePss = pssOf("kanoon-desk");
  const empty = globalThis.emptyPss;
  console.log(`${lent} loans through the window (${perLoan.toFixed(0)} ms per loan, ${PER_MEMBER} per member)`);
  console.log(`  after start: ${startPss.parts}; after ${LOANS / 2} loans: ${halfPss?.parts}; after loans: ${afterPss.parts}; 30 s later: ${idlePss.parts}`);
  const soft = globalThis.emptySoftPss;
  console.log(`beside the empty window without compositing (${(soft / 1024).toFixed(0)} MB): after start ${(startPss.kb / soft).toFixed(2)}×, after ${lent} loans ${(afterPss.kb / soft).toFixed(2)}×`);
  console.log(`memory PSS: after start ${(startPss.kb / 1024).toFixed(0)} MB (${(startPss.kb / empty).toFixed(2)}× empty), after ${lent} loans ${(afterPss.kb / 1024).toFixed(0)} MB (${(afterPss.kb / empty).toFixed(2)}× empty), 30 s later ${(idlePss.kb / 1024).toFixed(0)} MB (${(idlePss.kb / empty).toFixed(2)}× empty), empty window ${(empty / 1024).toFixed(0)} MB`);
  await stop();
}
