// Starts tauri-driver (which drives WebKitWebDriver) and opens a WebDriver
// session on the real app window. Shared by the E2E test and the desktop
// benchmark.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { remote } from "webdriverio";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const SHOTS = path.join(ROOT, "target/e2e-screenshots");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => { c.end(); resolve(true); });
      c.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

/** Starts tauri-driver with `env` for the app and returns {browser, stop}. */
export async function openApp(application, env) {
  const port = await freePort();
  const nativePort = await freePort();
  const driverBin = process.env.TAURI_DRIVER ?? "tauri-driver";
  const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => driver.on("exit", resolve));
  driver.on("error", (e) => {
    console.error(`could not start ${driverBin}: ${e.message} (cargo install tauri-driver --locked)`);
  });
  await waitForPort(port, 15000);
  const browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "error",
    // Classic WebDriver: WebKitWebDriver has no BiDi.
    capabilities: { browserName: "wry", "tauri:options": { application }, "wdio:enforceWebDriverClassic": true },
  });
  const stop = async () => {
    await browser.deleteSession().catch(() => undefined);
    driver.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  };
  return { browser, stop };
}

export function screenshotDir() {
  mkdirSync(SHOTS, { recursive: true });
  return SHOTS;
}

/** Runs axe-core (WCAG 2 A and AA) in the window; returns the violations. */
export async function axeViolations(browser) {
  const source = readFileSync(path.join(ROOT, "ui/node_modules/axe-core/axe.min.js"), "utf8");
  await browser.execute(source);
  return browser.executeAsync((done) => {
    // eslint-disable-next-line no-undef
    axe
      .run(document, { runOnly: ["wcag2a", "wcag2aa"] })
      .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }))))
      .catch((e) => done([{ id: "axe-error", help: String(e), nodes: [] }]));
  });
}

/** Calls a command of the app directly (test set-up only, e.g. the clock). */
export function invoke(browser, name, args) {
  return browser.executeAsync(
    (n, a, done) => {
      window.__TAURI_INTERNALS__.invoke(n, { args: a }).then((r) => done({ ok: r }), (e) => done({ err: e }));
    },
    name,
    args,
  );
}
