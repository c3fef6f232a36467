/**
 * The README's picture of the dashboard: runs the dashboard's test job (a nested tree, round
 * after round) on 3 peers with `--dashboard`, opens the page in headless Chromium (Debian's
 * `chromium`, driven by playwright-core) once it shows the peers, a rate and a nested tree and
 * its charts have ten seconds of history, and saves it to `docs/dashboard.png`; then ends the job.
 *
 *     bun scripts/dashboard-screenshot.ts [out.png]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = process.argv[2] ?? join(ROOT, "docs", "dashboard.png");
const dir = mkdtempSync(join(tmpdir(), "scoop-shot-"));
const release = join(dir, "release");

const job = spawn(
  process.execPath,
  [
    "cli.ts",
    "-n",
    "3",
    "--dashboard",
    "--dashboard-linger",
    "0",
    "tests/fixtures/dashboard-fixture.ts",
    release,
  ],
  { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
);
const url = await new Promise<string>((resolve, reject) => {
  let err = "";
  job.stderr!.on("data", (d) => {
    err += d;
    const m = /scoop: dashboard at (\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
  job.on("exit", () => reject(new Error(`the job ended first:\n${err}`)));
});
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(url);
  await page.waitForFunction(
    () =>
      document.querySelectorAll("#peers tbody tr").length === 3 &&
      document.querySelectorAll("#tree li li li").length > 0 &&
      Number(document.getElementById("rate")!.textContent) > 0 &&
      (document.getElementById("ratechart")!.querySelector("path")?.getAttribute("d") ?? "")
          .split("L").length > 20,
    undefined,
    { timeout: 60_000 },
  );
  await page.screenshot({ path: OUT, fullPage: false });
  process.stdout.write(`${OUT}\n`);
} finally {
  await browser.close();
  writeFileSync(release, "");
  await new Promise((resolve) => job.on("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
