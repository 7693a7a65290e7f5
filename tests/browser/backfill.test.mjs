// The console's Backfill page in a real headless Chromium, against the real binary
// running `serve --sandbox` with 40 learners already in the fake Tovuti: sign in, add a
// connection to that tenant, open its Backfill page from its page, start a backfill from Tovuti, watch its
// progress bar (role=progressbar, moved by the page's script) until the run is done, and
// see that a read-only session may look but finds no form. Every state gets a screenshot
// (target/console-screenshots/) and an axe-core scan (no serious or critical violation),
// on a desktop and on a phone-sized viewport.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const binary = process.env.BRIDGE_BINARY ?? join(root, "target", "debug", "tovuti-ghl-bridge");
const shots = join(root, "target", "console-screenshots");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const FULL = "backfill-browser-full-token";
const READ = "backfill-browser-read-token";
const LEARNERS = 40;
// The bearer token the sandbox's fake Tovuti accepts (src/sandbox/wiring.rs); it guards
// nothing real.
const SANDBOX_TOVUTI_TOKEN = "sandbox|tovuti-token";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitFor(check, what, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startService() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "backfill-browser-"));
  const key = execFileSync(binary, ["keys", "generate"], { encoding: "utf8" })
    .split("\n").find((l) => l.startsWith("BRIDGE_ENCRYPTION_KEY=")).split("=").slice(1).join("=");
  const env = {
    ...process.env,
    BRIDGE_LISTEN: `127.0.0.1:${port}`,
    BRIDGE_DATABASE_URL: `sqlite://${dir}/bridge.db`,
    BRIDGE_ADMIN_TOKEN: FULL,
    BRIDGE_ADMIN_READ_TOKENS: READ,
    BRIDGE_ENCRYPTION_KEY: key,
    RUST_LOG: "warn",
    // Learners the tenant had before the service: what a backfill brings over. Five a
    // page at the poller's 2 requests/s makes the run last several seconds.
    SANDBOX_LEARNERS: String(LEARNERS),
    BRIDGE_POLLER__PAGE_SIZE: "5",
  };
  const child = spawn(binary, ["serve", "--sandbox"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
  }, `the service to listen (output so far: ${output.slice(-2000)})`, 60000);
  const tovuti = /Tovuti\s+(http\S+)/.exec(output)?.[1];
  assert.ok(tovuti, `the sandbox banner names the fake Tovuti: ${output.slice(0, 2000)}`);
  return { base, child, tovuti, output: () => output };
}

async function look(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  // Evaluated over the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  assert.deepEqual(violations, [], `axe on ${name}`);
}

async function signIn(page, base, token) {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/console`);
}

test("a backfill started and watched in the console", { timeout: 150000 }, async (t) => {
  mkdirSync(shots, { recursive: true });
  const service = await startService();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const base = service.base;
  const backfills = `${base}/console/connections/acme/backfills`;
  try {
    await t.test("open the Backfill page from the connection's page", async () => {
      await signIn(page, base, FULL);
      // A connection to the sandbox's tenant, whose learners predate it.
      await page.getByRole("link", { name: "Add a connection" }).first().click();
      await page.getByLabel("Id", { exact: true }).fill("acme");
      await page.getByLabel("GHL location id", { exact: true }).fill("acme-location");
      await page.getByLabel("Tovuti API URL", { exact: true }).fill(service.tovuti);
      await page.getByLabel("Tovuti API key", { exact: true }).fill(SANDBOX_TOVUTI_TOKEN);
      await page.getByRole("button", { name: "Add the connection" }).click();
      await page.waitForURL(`${base}/console/connections/acme`);
      await page.getByRole("link", { name: "Backfill", exact: true }).click();
      await page.waitForURL(backfills);
      assert.match(await page.textContent("main"), /No backfill has run/);
      await look(page, "20-backfill-start");
    });

    await t.test("start from Tovuti and watch the bar reach done", async () => {
      await page.getByLabel("From").selectOption("tovuti");
      await page.getByRole("button", { name: "Start the backfill" }).click();
      await page.waitForURL(backfills);
      const bar = page.getByRole("progressbar");
      await bar.waitFor();
      assert.equal(await bar.getAttribute("aria-valuemin"), "0");
      assert.equal(await bar.getAttribute("aria-valuemax"), "100");
      assert.ok(await page.getByRole("button", { name: "Cancel" }).isVisible());
      await look(page, "21-backfill-running");
      // The script moves the bar as pages are read; the page is read again at the end.
      const seen = new Set();
      await waitFor(async () => {
        const now = await page.locator('[role="progressbar"]').getAttribute("aria-valuetext").catch(() => null);
        if (now) seen.add(now);
        return (await page.locator('[data-state="done"]').count()) > 0;
      }, `the run to be done (bar texts seen: ${[...seen].join(" | ")}; service: ${service.output().slice(-1500)})`, 90000);
      assert.ok(seen.size >= 2, `the bar moved while the run ran: ${[...seen].join(" | ")}`);
      assert.equal(await page.getByRole("progressbar").count(), 0, "no bar once done");
      const run = page.locator('[data-state="done"]').first();
      assert.equal((await run.locator('[data-field="scanned"]').textContent()).trim(), String(LEARNERS * 2),
        "every learner and every enrollment scanned");
      assert.equal((await run.locator('[data-field="queued"]').textContent()).trim(), String(LEARNERS * 2));
      await look(page, "22-backfill-done");
    });

    await t.test("readable on a phone", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(backfills);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px too wide)`);
      await look(page, "23-backfill-phone");
    });

    await t.test("a read-only session sees the runs but no form", async () => {
      const readOnly = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      const other = await readOnly.newPage();
      await signIn(other, base, READ);
      await other.goto(backfills);
      assert.equal(await other.getByRole("button", { name: "Start the backfill" }).count(), 0);
      assert.equal(await other.locator('[data-state="done"]').count(), 1);
      await look(other, "24-backfill-read-only");
      await readOnly.close();
    });
  } finally {
    await browser.close();
    service.child.kill("SIGTERM");
  }
});
