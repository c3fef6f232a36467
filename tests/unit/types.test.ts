import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * What users' editors and `deno check` see: the public API's types (tests/fixtures/types.ts
 * states what calls must infer or refuse), the examples and the test fixtures, checked by Deno.
 */
test("deno check accepts the API's typed uses and refuses the wrong ones", () => {
  const examples = readdirSync(join(ROOT, "examples"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `examples/${f}`);
  const files = [
    "mod.ts",
    "cli.ts",
    "tests/fixtures/types.ts",
    "tests/fixtures/api-fixture.ts",
    ...examples,
  ];
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "deno"), ["check", "--quiet", ...files], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.status !== 0) console.error(r.stdout, r.stderr);
  expect(r.status).toBe(0);
}, 120_000);
