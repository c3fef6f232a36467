/**
 * An app anywhere on disk — a directory of its own with no `package.json` or `deno.json` — that
 * imports this repository's `mod.ts` by path runs as is: `bun app.ts`, and `deno run -A app.ts`
 * (Deno resolves no package name there; see `requireMsgpackr` in src/codec/mod.ts).
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { command, ROOT, RUNTIME } from "./_harness.ts";

const dir = mkdtempSync(join(tmpdir(), "scoop-anywhere-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test(`${RUNTIME === "deno" ? "deno run -A" : "bun"} app.ts, the app outside any project`, () => {
  // Nothing above the app's directory may be a project either.
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    for (const config of ["package.json", "deno.json", "deno.jsonc"]) {
      expect(existsSync(join(d, config))).toBe(false);
    }
  }
  const app = join(dir, "app.ts");
  writeFileSync(
    app,
    `import { futures, grid, run } from ${JSON.stringify(pathToFileURL(join(ROOT, "mod.ts")).href)};
export function square(x: number): number {
  return x * x;
}
export async function main(): Promise<void> {
  const squares = await futures.map(square, [1, 2, 3]);
  console.log(squares.join(" "), grid.isOrigin);
}
if (import.meta.main) run(main);
`,
  );
  const [cmd, args] = command(app, []);
  const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("1 4 9 true\n");
  expect(r.status).toBe(0);
}, 90_000);
