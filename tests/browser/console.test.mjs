// The operator console in a real headless Chromium, against the real binary running
// `serve --sandbox` (fake GHL and Tovuti in its process) on a free port: sign in, add a
// connection, verify it, make its webhook secret, send an event that dies (the sandbox
// is told to answer every write with 422), find the event, read its reason, replay it,
// sign out; a read-only session cannot replay; a form
// posted without its CSRF token is refused; the mapping page previews a sample, the audit
// page lists the changes, a webhook secret is revoked and the connection removed; the
// events page filters by a time range typed in the viewer's zone; phone-width pages need
// no sideways scroll; and, on a sandbox whose writes succeed, the sample contact round
// trip. Every page gets a screenshot and an axe-core scan (no serious or critical
// violation).
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
const FULL = "console-browser-full-token";
const READ = "console-browser-read-token";

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

async function startService({ faults = true } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "console-browser-"));
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
  };
  // Every write to the fakes answers 422: a synced event dies at its first attempt.
  if (faults) env.SANDBOX_FAULTS = "1:422";
  else delete env.SANDBOX_FAULTS;
  const child = spawn(binary, ["serve", "--sandbox"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
  }, `the service to listen (output so far: ${output.slice(-2000)})`, 60000);
  const secret = /Tovuti webhook secret\s+(whsec_\S+)/.exec(output)?.[1];
  assert.ok(secret, `the sandbox banner names the default connection's secret: ${output.slice(0, 2000)}`);
  return { base, child, secret };
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

test("the console end to end in Chromium", { timeout: 120000 }, async (t) => {
  mkdirSync(shots, { recursive: true });
  const service = await startService();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  // A fresh profile per context (playwright makes a temporary user-data-dir).
  // A zone away from UTC, so the time filters show they convert.
  const context = await browser.newContext({
    viewport: { width: 1100, height: 800 }, timezoneId: "America/New_York",
  });
  const page = await context.newPage();
  const base = service.base;
  let eventUrl;
  try {
    await t.test("sign in", async () => {
      await page.goto(`${base}/console`);
      assert.match(page.url(), /\/console\/sign-in$/);
      await look(page, "01-sign-in");
      await page.getByLabel("Admin token").fill("wrong-token-value");
      await page.getByRole("button", { name: "Sign in" }).click();
      assert.match(await page.textContent("main"), /not an admin token/);
      await page.getByLabel("Admin token").fill(FULL);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/console`);
      await look(page, "02-overview");
    });

    await t.test("add a connection, verify it, make its webhook secret", async () => {
      await page.getByRole("link", { name: "Add a connection" }).first().click();
      await look(page, "03-new-connection");
      await page.getByLabel("Id", { exact: true }).fill("acme");
      await page.getByLabel("Name", { exact: true }).fill("Acme Academy");
      await page.getByLabel("GHL location id", { exact: true }).fill("no-such-location");
      await page.getByLabel("GHL Private Integration Token", { exact: true }).fill("pit-not-valid-anywhere");
      await page.getByRole("button", { name: "Add the connection" }).click();
      await page.waitForURL(`${base}/console/connections/acme`);
      assert.equal(await page.inputValue("#tovuti-hook"), `${base}/webhooks/tovuti/acme`);
      await page.getByRole("button", { name: "Verify" }).click();
      await page.waitForSelector("#check-h");
      assert.match(await page.textContent("#check-h"), /Verification/);
      await look(page, "04-connection-verified");
      await page.getByRole("button", { name: "Make a new webhook secret" }).click();
      const secret = await page.inputValue("#new-secret");
      assert.match(secret, /^whsec_/);
      await look(page, "05-new-secret");

      // A Tovuti event for the sandbox's own connection: GHL answers its write 422.
      execFileSync(binary, ["send-test-event", "tovuti", "user.created", "--url", base,
        "--secret", service.secret], { encoding: "utf8" });
    });

    await t.test("find the dead event, read its reason, replay it", async () => {
      eventUrl = await waitFor(async () => {
        await page.goto(`${base}/console/events?status=dead`);
        const link = page.locator("tbody a").first();
        return (await link.count()) ? link.getAttribute("href") : null;
      }, "the event to die");
      await look(page, "06-events");
      await page.goto(`${base}${eventUrl}`);
      const reason = await page.textContent("dd.error");
      assert.match(reason, /GHL answered 422/);
      await look(page, "07-event");
      await page.getByRole("button", { name: "Replay this event" }).click();
      assert.match(await page.textContent(".notice"), /Replayed/);
    });

    await t.test("the events page filters by a time range typed in local time", async () => {
      await page.goto(`${base}/console/events`);
      assert.match(await page.textContent("label[for=f-since]"), /America\/New_York/);
      // 08:00 in New York on 15 January is 13:00 UTC.
      await page.getByLabel(/Received since/).fill("2026-01-15T08:00");
      await page.getByRole("button", { name: "Filter", exact: true }).click();
      await page.waitForURL(/since=/);
      assert.equal(new URL(page.url()).searchParams.get("since"), "2026-01-15T13:00:00.000Z");
      assert.equal(await page.inputValue("#f-since"), "2026-01-15T08:00", "shown back in local time");
      assert.ok(await page.locator(`tbody a[href="${eventUrl}"]`).count(), "the event is in range");
      await look(page, "06b-events-since");
    });

    await t.test("a form posted without its CSRF token is refused", async () => {
      const status = await page.evaluate(async (url) => {
        const response = await fetch(`${url}/replay`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "",
        });
        return response.status;
      }, eventUrl);
      assert.equal(status, 403);
    });

    await t.test("the mapping page previews a sample; the audit page lists the changes", async () => {
      await page.goto(`${base}/console/connections/acme`);
      await page.getByRole("link", { name: "Its mapping" }).click();
      await page.waitForURL(`${base}/console/connections/acme/mapping`);
      assert.match(await page.textContent("main"), /valid/);
      const sample = readFileSync(join(root, "tests", "fixtures", "tovuti", "user.created.json"), "utf8");
      await page.getByLabel("A sample event").fill(sample);
      await page.getByRole("button", { name: "Preview the planned actions" }).click();
      await page.waitForSelector("pre");
      assert.match(await page.textContent("main"), /Planned for user\.created/);
      await look(page, "10-mapping-preview");
      await page.getByRole("link", { name: "Audit" }).click();
      await page.waitForURL(`${base}/console/audit`);
      assert.match(await page.textContent("tbody"), /tovuti_secret\.create/);
      await look(page, "11-audit");
    });

    await t.test("revoke a webhook secret, then remove the connection", async () => {
      await page.goto(`${base}/console/connections/acme`);
      await page.locator("td form button", { hasText: "Revoke" }).first().click();
      assert.match(await page.textContent(".notice"), /revoked/);
      await page.getByRole("link", { name: "Remove this connection…" }).click();
      await look(page, "12-remove-confirm");
      await page.getByLabel("Type acme to confirm").fill("acme");
      await page.getByRole("button", { name: "Remove the connection" }).click();
      await page.waitForURL(`${base}/console`);
      assert.equal(await page.locator('a[href="/console/connections/acme"]').count(), 0);
    });

    await t.test("sign out", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${base}/console/sign-in`);
      await page.goto(`${base}/console/events`);
      assert.match(page.url(), /\/console\/sign-in$/);
    });

    await t.test("a read-only session cannot replay", async () => {
      await page.getByLabel("Admin token").fill(READ);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/console`);
      await page.goto(`${base}${eventUrl}`);
      assert.equal(await page.getByRole("button", { name: "Replay this event" }).count(), 0);
      await look(page, "08-event-read-only");
      const csrf = await page.getAttribute("input[name=csrf]", "value");
      const status = await page.evaluate(async ([url, token]) => {
        const response = await fetch(`${url}/replay`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `csrf=${encodeURIComponent(token)}`,
        });
        return response.status;
      }, [eventUrl, csrf]);
      assert.equal(status, 403);
    });

    await t.test("phone-width pages need no sideways scrolling", async () => {
      await page.setViewportSize({ width: 390, height: 800 });
      for (const [path, name] of [["/console", "09-overview-phone"], ["/console/events", "09b-events-phone"],
        ["/console/audit", "09c-audit-phone"]]) {
        await page.goto(`${base}${path}`);
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
        }));
        assert.ok(scrollWidth <= innerWidth, `${path}: ${scrollWidth} px wide in a ${innerWidth} px viewport`);
        await look(page, name);
      }
    });
  } finally {
    await browser.close();
    service.child.kill("SIGTERM");
  }
});

// The sample contact round trip writes to both platforms, so it runs against a sandbox
// whose writes succeed.
test("the sample contact round trip in Chromium", { timeout: 120000 }, async () => {
  mkdirSync(shots, { recursive: true });
  const service = await startService({ faults: false });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  try {
    await page.goto(`${service.base}/console/sign-in`);
    await page.getByLabel("Admin token").fill(FULL);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${service.base}/console`);
    await page.goto(`${service.base}/console/connections/default`);
    await page.getByRole("button", { name: "Run a sample contact round trip" }).click();
    await page.waitForSelector("#sample-h");
    assert.match(await page.textContent("#sample-h"), /every field round-trips/);
    const results = await page.locator("#sample-h ~ table td[data-label=Result]").allTextContents();
    assert.ok(results.length > 3, `a row per field: ${results}`);
    assert.deepEqual([...new Set(results)], ["ok"]);
    await look(page, "13-sample-round-trip");
    await page.setViewportSize({ width: 390, height: 800 });
    await look(page, "13b-sample-round-trip-phone");
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, "the sample table stacks on a phone");
  } finally {
    await browser.close();
    service.child.kill("SIGTERM");
  }
});
