// The operator console in a real headless Chromium, against the real binary running
// `serve --sandbox` (fake GHL and Tovuti in its process) on a free port: sign in, add a
// connection, verify it, make its webhook secret, send an event that dies (the sandbox
// is told to answer every write with 422), find the event, read its reason, replay it,
// sign out; a read-only session cannot replay; a form
// posted without its CSRF token is refused; the mapping page previews a sample, the audit
// page lists the changes, a webhook secret is revoked and the connection removed; the
// events page filters by a time range typed in the viewer's zone; phone-width pages need
// no sideways scroll; and, on a sandbox whose writes succeed, the sample contact round
// trip, the mapping page creating a GHL custom field the location lacks (a read-only
// session gets no button), and the connection page starting the OAuth install. Every page gets a screenshot and an axe-core scan (no serious or critical
// violation).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary, root, shots, startService as start, launch, look, signIn, waitFor } from "./support.mjs";

const FULL = "console-browser-full-token";
const READ = "console-browser-read-token";

async function startService({ faults = true, env = {} } = {}) {
  const service = await start({
    prefix: "console-browser", full: FULL, read: READ,
    // Every write to the fakes answers 422: a synced event dies at its first attempt.
    env: { SANDBOX_FAULTS: faults ? "1:422" : undefined, ...env },
  });
  const secret = /Tovuti webhook secret\s+(whsec_\S+)/.exec(service.output())?.[1];
  assert.ok(secret, `the sandbox banner names the default connection's secret: ${service.output().slice(0, 2000)}`);
  return { ...service, secret };
}

test("the console end to end in Chromium", { timeout: 120000 }, async (t) => {
  mkdirSync(shots, { recursive: true });
  const service = await startService();
  const browser = await launch();
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
  const browser = await launch();
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  try {
    await signIn(page, service.base, FULL);
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

// A GHL custom field the sandbox location lacks, named by the mapping the next test gives
// the default connection.
const EXTRA_KEY = "contact.badge_number";

// The mapping page's provision step and the connection page's OAuth install, against a
// sandbox whose writes succeed, whose mapping (the shipped example plus one field) names
// a GHL custom field the fake location lacks, and with OAuth configured. GHL's authorize
// page is answered by the test itself: the browser needs no network.
test("creating the missing GHL fields and starting the OAuth install in Chromium", { timeout: 120000 }, async (t) => {
  mkdirSync(shots, { recursive: true });
  const extra = `[[fields]]\nghl = { key = "${EXTRA_KEY}" }\ntovuti = { name = "Badge number" }\n` +
    `direction = "to_ghl"\n\n[[tag_values]]`;
  const mapping = readFileSync(join(root, "config", "mapping.example.toml"), "utf8")
    .replace("[[tag_values]]", extra);
  assert.ok(mapping.includes(EXTRA_KEY), "the example still has a [[tag_values]] to insert before");
  const file = join(mkdtempSync(join(tmpdir(), "console-mapping-")), "mapping.toml");
  writeFileSync(file, mapping);
  const service = await startService({
    faults: false,
    env: {
      BRIDGE_MAPPING__FILE: file,
      BRIDGE_GHL_CLIENT_ID: "browser-test-client",
      BRIDGE_GHL_CLIENT_SECRET: "browser-test-client-secret",
      BRIDGE_GHL__OAUTH_REDIRECT_URL: "http://127.0.0.1/oauth/ghl/callback",
    },
  });
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const base = service.base;
  const mappingPage = `${base}/console/connections/default/mapping`;
  const missingSection = (p) => p.locator('section[aria-labelledby="missing-h"]');
  const createButton = (p) => p.getByRole("button", { name: "Create the missing GHL fields" });
  try {
    await t.test("a read-only session sees the missing field but no button", async () => {
      const readOnly = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      const other = await readOnly.newPage();
      await signIn(other, base, READ);
      await other.goto(mappingPage);
      assert.ok((await missingSection(other).textContent()).includes(EXTRA_KEY));
      assert.equal(await createButton(other).count(), 0);
      await look(other, "14-mapping-missing-read-only");
      await readOnly.close();
    });

    await t.test("a full session creates the missing GHL fields", async () => {
      await signIn(page, base, FULL);
      await page.goto(mappingPage);
      const before = await missingSection(page).textContent();
      assert.ok(before.includes(EXTRA_KEY), before);
      assert.ok(before.includes("Badge Number"), `the name it would get: ${before}`);
      await look(page, "14-mapping-missing");
      await createButton(page).click();
      await page.waitForURL(/[?&]created=/);
      const after = await missingSection(page).textContent();
      assert.match(after, /Created \d+ GHL custom fields?\./);
      assert.match(after, /GHL: nothing missing\./);
      assert.ok(!after.includes(EXTRA_KEY), after);
      assert.equal(await createButton(page).count(), 0);
      await look(page, "15-mapping-provisioned");
    });

    await t.test("the connection page starts the OAuth install", async () => {
      let asked;
      await context.route("https://marketplace.gohighlevel.com/**", (route) => {
        asked = new URL(route.request().url());
        return route.fulfill({
          status: 200, contentType: "text/html",
          body: "<!doctype html><html lang=en><title>GHL</title><p>Choose a sub-account</p></html>",
        });
      });
      await page.goto(`${base}/console/connections/default`);
      assert.match(await page.textContent("#lane-h"), /GHL request lane/);
      await look(page, "16-connection-lane-install");
      await page.getByRole("button", { name: "Authorise in GHL (OAuth install)" }).click();
      await page.waitForURL(/^https:\/\/marketplace\.gohighlevel\.com\//);
      assert.equal(asked?.host, "marketplace.gohighlevel.com");
      assert.equal(asked.pathname, "/v2/oauth/chooselocation");
      assert.equal(asked.searchParams.get("client_id"), "browser-test-client");
      assert.ok(asked.searchParams.get("state"), "the link carries its state");
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(`${base}/console/connections/default`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(wide, false, "the connection page fits a phone");
      await look(page, "16b-connection-phone");
    });
  } finally {
    await browser.close();
    service.child.kill("SIGTERM");
  }
});
