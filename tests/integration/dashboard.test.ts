/**
 * The dashboard in a real browser: a 3-peer grid started through the launcher with
 * `--dashboard 0` runs a nested job (`dashboard-fixture.ts`, rounds of a task tree until the
 * test releases it), and headless Chromium (Debian's `chromium`, driven by playwright-core)
 * reads what the page shows while the job runs, then that it shows the job's end and is still
 * served while the launcher lingers, and that the launcher exits after. Without Chromium the
 * browser case is skipped with a printed reason (CI installs it).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { chromium } from "playwright-core";
import { FIXTURES, killAll, lastJson, noneLeft, run, RUNTIME, scratch, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "dashboard-fixture.ts");
const CHROMIUM = "/usr/bin/chromium";
const TIMEOUT = 120_000;
const LINGER_S = 8;
const browsable = existsSync(CHROMIUM);
if (!browsable) process.stderr.write(`skipped: the dashboard in a browser: no ${CHROMIUM}\n`);

afterAll(killAll);

/** What the page shows, read in the page. */
function shown() {
  const text = (id: string) => document.getElementById(id)!.textContent ?? "";
  const rows = [...document.querySelectorAll("#peers tbody tr")];
  return {
    state: document.getElementById("status")!.dataset.state,
    outcome: text("outcome"),
    hosts: rows.map((r) => r.querySelector("td.host")!.textContent),
    runtimes: rows.map((r) => r.children[2].textContent!.split(" ")[0]),
    origins: rows.filter((r) => r.textContent!.includes("origin")).length,
    steals: text("steals"),
    failures: text("failures"),
  };
}

describe("dashboard", () => {
  test.skipIf(!browsable)("shows a running job live, then its end, while it lingers", async () => {
    const { dir, cleanup } = scratch("dashboard", "d");
    const release = join(dir, "release");
    const job = start([
      "-n",
      "3",
      "--dashboard",
      "0",
      "--dashboard-linger",
      String(LINGER_S),
      FIXTURE,
      release,
    ]);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const [, url] = await job.waitFor(/^scoop: dashboard at (http:\/\/127\.0\.0\.1:\d+\/)$/m);
      const page = await browser.newPage();
      await page.goto(url);
      const wait = (fn: () => boolean) => page.waitForFunction(fn, undefined, { timeout: 60_000 });
      // While the job runs (it runs until released): every peer with its host, work flowing,
      // steals counted, and a tree of tasks nested under tasks.
      await wait(() => document.querySelectorAll("#peers tbody tr").length === 3);
      await wait(() => Number(document.getElementById("rate")!.textContent) > 0);
      await wait(() => Number(document.getElementById("steals")!.textContent) > 0);
      await wait(() => Number(document.getElementById("failures")!.textContent) > 0);
      await wait(() => document.querySelectorAll("#tree li li li li").length > 0);
      const during = await page.evaluate(shown);
      expect({ ...during, steals: undefined, failures: undefined }).toEqual({
        state: "running",
        outcome: "",
        hosts: [hostname(), hostname(), hostname()],
        runtimes: [RUNTIME, RUNTIME, RUNTIME],
        origins: 1,
        steals: undefined,
        failures: undefined,
      });
      expect(await page.locator("#loadchart path").count()).toBe(3);

      writeFileSync(release, "");
      await wait(() => document.getElementById("status")!.dataset.state === "finished");
      expect((await page.evaluate(shown)).outcome).toMatch(/^main returned \d+$/);
      await job.waitFor(new RegExp(`dashboard stays at .* for ${LINGER_S} s`));
      expect((await fetch(url)).status).toBe(200);

      expect(await job.exited).toBe(0);
      await wait(() => document.body.classList.contains("gone"));
      const out = lastJson<{ rounds: number; failed: number }>(job.stdout);
      expect(out.failed).toBe(out.rounds);
      expect(await noneLeft(job.tag)).toEqual([]);
    } finally {
      await browser.close();
      cleanup();
    }
  }, TIMEOUT);

  test("a busy port is one line naming it, and no peer starts", async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as AddressInfo).port;
    try {
      const r = await run(["-n", "3", "--dashboard", String(port), FIXTURE, "/nonexistent"]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toEqual([
        `scoop: error: Cannot serve the dashboard on 127.0.0.1:${port}: the port is in use ` +
        "(give another with --dashboard PORT, or none for a free one)",
      ]);
      expect(await noneLeft(r.tag)).toEqual([]);
    } finally {
      other.close();
    }
  }, TIMEOUT);
});
