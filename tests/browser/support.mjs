// What the browser tests share: the paths, a free port, polling for a condition, the
// real binary started as `serve --sandbox` on that port (with its own database and
// encryption key), Chromium, a screenshot plus an axe-core scan per page, and signing in.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
export const binary = process.env.BRIDGE_BINARY ?? join(root, "target", "debug", "tovuti-ghl-bridge");
export const shots = join(root, "target", "console-screenshots");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export async function waitFor(check, what, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// The binary in sandbox mode with `full` and `read` as its admin tokens. `env` adds to
// (or, with `undefined`, removes from) the environment; the service's output (its
// banner names the fakes and the default connection's secret) is kept for the caller.
export async function startService({ prefix, full, read, env: extra = {} }) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const key = execFileSync(binary, ["keys", "generate"], { encoding: "utf8" })
    .split("\n").find((l) => l.startsWith("BRIDGE_ENCRYPTION_KEY=")).split("=").slice(1).join("=");
  const env = {
    ...process.env,
    BRIDGE_LISTEN: `127.0.0.1:${port}`,
    BRIDGE_DATABASE_URL: `sqlite://${dir}/bridge.db`,
    BRIDGE_ADMIN_TOKEN: full,
    BRIDGE_ADMIN_READ_TOKENS: read,
    BRIDGE_ENCRYPTION_KEY: key,
    RUST_LOG: "warn",
    ...extra,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = spawn(binary, ["serve", "--sandbox"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
  }, `the service to listen (output so far: ${output.slice(-2000)})`, 60000);
  return { base, child, dir, output: () => output };
}

// Headless Chromium from the system (Debian's package), without its own network chatter.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

// A full-page screenshot named `name`, and no serious or critical axe-core violation.
export async function look(page, name) {
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

export async function signIn(page, base, token) {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/console`);
}
