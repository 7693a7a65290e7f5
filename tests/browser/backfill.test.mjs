// The console's Backfill page in a real headless Chromium, against the real binary
// running `serve --sandbox` with 40 learners already in the fake Tovuti: sign in, add a
// connection to that tenant, open its Backfill page from its page, start a backfill from Tovuti, watch its
// progress bar (role=progressbar, moved by the page's script) until the run is done, and
// see that a read-only session may look but finds no form. Every state gets a screenshot
// (target/console-screenshots/) and an axe-core scan (no serious or critical violation),
// on a desktop and on a phone-sized viewport.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { shots, startService as start, launch, look, signIn, waitFor } from "./support.mjs";

const FULL = "backfill-browser-full-token";
const READ = "backfill-browser-read-token";
const LEARNERS = 40;
// The bearer token the sandbox's fake Tovuti accepts (src/sandbox/wiring.rs); it guards
// nothing real.
const SANDBOX_TOVUTI_TOKEN = "sandbox|tovuti-token";

async function startService() {
  const service = await start({
    prefix: "backfill-browser", full: FULL, read: READ,
    env: {
      // Learners the tenant had before the service: what a backfill brings over. Five a
      // page at the poller's 2 requests/s makes the run last several seconds.
      SANDBOX_LEARNERS: String(LEARNERS),
      BRIDGE_POLLER__PAGE_SIZE: "5",
    },
  });
  const tovuti = /Tovuti\s+(http\S+)/.exec(service.output())?.[1];
  assert.ok(tovuti, `the sandbox banner names the fake Tovuti: ${service.output().slice(0, 2000)}`);
  return { ...service, tovuti };
}

test("a backfill started and watched in the console", { timeout: 150000 }, async (t) => {
  mkdirSync(shots, { recursive: true });
  const service = await startService();
  const browser = await launch();
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
