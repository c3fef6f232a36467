/**
 * Every user mistake the launcher can meet gets one clear line naming what was wrong and how
 * to fix it, a non-zero status, and no process left behind.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FIXTURES, killAll, noneLeft, run } from "./_harness.ts";

const USAGE = join(FIXTURES, "usage-fixture.ts");
const NO_MAIN = join(FIXTURES, "helper-tasks.ts");
const TIMEOUT = 60_000;

afterAll(killAll);

/** The lines the launcher printed as errors. */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("scoop: "));
}

describe("usage errors: one line each, exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["unknown option", ["--frobnicate", USAGE], /unknown option.*--frobnicate/i],
    ["missing entry argument", ["-n", "2"], /Missing the entry file/],
    [
      "entry file not found",
      ["-n", "2", "nowhere/app.ts"],
      /entry file not found: nowhere\/app\.ts/,
    ],
    ["-n zero", ["-n", "0", USAGE], /-n\/--workers must be a positive integer, got "0"/],
    ["-n negative", ["-n", "-3", USAGE], /positive integer, got "-3"/],
    [
      "-n not a number",
      ["--workers", "many", USAGE],
      /--workers must be a positive integer, got "many"/,
    ],
    ["-n fractional", ["-n", "1.5", USAGE], /positive integer, got "1.5"/],
    ["bad runtime", ["--runtime", "node", USAGE], /--runtime must be bun or deno, got "node"/],
    ["entry without main", ["-n", "2", NO_MAIN], /helper-tasks\.ts.*main/],
    [
      "dashboard port out of range",
      ["--dashboard", "70000", USAGE],
      /--dashboard must be a port from 0 to 65535 \(0 or none: a free one\) or HOST:PORT, got "70000"/,
    ],
    [
      "dashboard linger without a dashboard",
      ["--dashboard-linger", "5", USAGE],
      /--dashboard-linger goes with --dashboard/,
    ],
    [
      "dashboard linger not a number",
      ["--dashboard", "--dashboard-linger", "soon", USAGE],
      /--dashboard-linger must be a number of seconds from 0 to 2147483, got "soon"/,
    ],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await run(args);
      expect(r.code).toBe(2);
      const lines = errorLines(r.stderr);
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/^scoop: error: /);
      expect(lines[0]).toMatch(message);
      expect(await noneLeft(r.tag)).toEqual([]);
    }, TIMEOUT);
  }
});

describe("mistakes in main fail at submit with a TypeError that says how to fix them", () => {
  const cases: [string, RegExp][] = [
    ["unregistered", /TypeError: .*notExported.*(export|task\()/],
    ["unsendable", /TypeError: Cannot send args\[0\]\.onDone: a function cannot cross the wire/],
    ["symbol", /TypeError: Cannot send args\[0\]: a symbol cannot cross the wire/],
  ];
  for (const [mistake, message] of cases) {
    test(mistake, async () => {
      const r = await run(["-n", "2", USAGE, mistake]);
      expect(r.code).toBe(1);
      // The lines themselves, so that a failure shows what else was said.
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(message)]);
      expect(await noneLeft(r.tag)).toEqual([]);
    }, TIMEOUT);
  }
});
