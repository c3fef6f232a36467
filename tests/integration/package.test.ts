/**
 * The npm package as a user gets it: `npm pack` of this repository, installed in a new project
 * with `bun` and `deno` from the registry, then the app run each way the README shows — `bun
 * app.ts`, `deno run -A app.ts`, `npx scoop -n 4` and `bunx scoop -n 4` (both waiting for all
 * four peers) — and type-checked by Deno against the package's types. Runtime-independent:
 * runs in the Bun phase only. Skipped, saying why, when the npm registry cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ROOT, RUNTIME } from "./_harness.ts";

const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** Why the package cannot be tried here, or undefined. */
function problem(): string | undefined {
  if (RUNTIME !== "bun") return "runs in the Bun phase only (it starts both runtimes itself)";
  const r = spawnSync("npm", ["view", `bun@${PKG.devDependencies.bun}`, "version"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.error) return `npm cannot be run: ${r.error.message}`;
  if (r.status !== 0) return `the npm registry is unreachable: ${r.stderr.trim().split("\n")[0]}`;
  return undefined;
}

const skip = problem();
if (skip !== undefined) console.log(`(skip) the npm package test: ${skip}`);

const APP = `import { futures, grid, run } from "scoop";

export function square(x: number): number {
  return x * x;
}

export async function main(args: string[] = []): Promise<void> {
  if (args.includes("--all")) await grid.waitForPeers(4, { timeout: 60_000 });
  const squares = await futures.map(square, [1, 2, 3, 4]);
  const on = "Bun" in globalThis ? "bun" : "deno";
  console.log(\`squares: \${[...squares].join(" ")} on \${grid.size} peer(s), \${on}\`);
}

if (import.meta.main) run(main);
`;

describe.skipIf(skip !== undefined)("the npm package in a new project", () => {
  let dir = "";
  let project = "";
  let env: Record<string, string | undefined> = {};

  /** Run `cmd args…` in the project, with its `node_modules/.bin` first on PATH. */
  function sh(cmd: string, args: string[], timeout = 120_000) {
    const r = spawnSync(cmd, args, { cwd: project, env, encoding: "utf8", timeout });
    return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout ?? "" };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "scoop-package-"));
    project = join(dir, "app");
    mkdirSync(project);
    // The build the `prepack` script would run, then a pack that runs no scripts (its
    // `prepare` would rebuild the mesh bundle in the shared node_modules).
    const build = spawnSync(process.execPath, ["scripts/build.ts"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
    const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    writeFileSync(join(project, "package.json"), '{ "name": "app", "type": "module" }\n');
    writeFileSync(join(project, "app.ts"), APP);
    env = { ...process.env, PATH: `${join(project, "node_modules", ".bin")}:${process.env.PATH}` };
    const install = sh("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      join(dir, tarball),
      `bun@${PKG.devDependencies.bun}`,
      `deno@${PKG.devDependencies.deno}`,
    ], 300_000);
    if (install.status !== 0) throw new Error(`npm install failed: ${install.out}`);
  }, 400_000);

  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("bun app.ts runs the app in one process", () => {
    const r = sh("bun", ["app.ts"]);
    expect(r.out).toContain("squares: 1 4 9 16 on 1 peer(s), bun");
    expect(r.status).toBe(0);
  }, 130_000);

  test("deno run -A app.ts runs it from the built JavaScript", () => {
    const r = sh("deno", ["run", "-A", "app.ts"]);
    expect(r.out).toContain("squares: 1 4 9 16 on 1 peer(s), deno");
    expect(r.status).toBe(0);
  }, 130_000);

  test("npx scoop -n 4 starts four peers (on Bun, found in node_modules/.bin)", () => {
    const r = sh("npx", ["scoop", "-n", "4", "app.ts", "--all"]);
    expect(r.out).toContain("squares: 1 4 9 16 on 4 peer(s), bun");
    expect(r.status).toBe(0);
  }, 130_000);

  test("bunx scoop -n 4, and SCOOP_RUNTIME=deno npx scoop -n 4 on Deno", () => {
    const r = sh("bunx", ["scoop", "-n", "4", "app.ts", "--all"]);
    expect(r.out).toContain("squares: 1 4 9 16 on 4 peer(s), bun");
    expect(r.status).toBe(0);
    env.SCOOP_RUNTIME = "deno";
    try {
      const d = sh("npx", ["scoop", "-n", "4", "app.ts", "--all"]);
      expect(d.out).toContain("squares: 1 4 9 16 on 4 peer(s), deno");
      expect(d.status).toBe(0);
    } finally {
      delete env.SCOOP_RUNTIME;
    }
  }, 250_000);

  test("deno check finds the package's types (a wrong argument is a type error)", () => {
    expect(sh("deno", ["check", "app.ts"]).status).toBe(0);
    writeFileSync(join(project, "bad.ts"), APP.replace("[1, 2, 3, 4]", '["x"]'));
    const r = sh("deno", ["check", "bad.ts"]);
    expect(r.out).toContain("No overload matches this call");
    expect(r.status).not.toBe(0);
  }, 130_000);
});
