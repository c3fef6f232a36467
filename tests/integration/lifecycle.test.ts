/**
 * Lifecycle of a grid of real processes: exit status, remote errors printed, no process left
 * behind after success, failure or a signal, and a busy peer that stays a good citizen.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  FIXTURES,
  killAll,
  lastJson,
  noneLeft,
  processesTagged,
  run,
  RUNTIME,
  scratch,
  start,
} from "./_harness.ts";
import { readFileSync } from "node:fs";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;

afterAll(killAll);

describe("lifecycle", () => {
  test("main settles: status 0, every peer gone", async () => {
    const r = await run(["-n", "3", FIXTURE, "tree", "10"]);
    expect(r.code).toBe(0);
    expect(lastJson(r.stdout)).toEqual({ fib: 55, tree3: 243 });
    expect(await noneLeft(r.tag)).toEqual([]);
  }, TIMEOUT);

  test("--log FILE gets every peer's lines, each naming its peer; none reach stderr", async () => {
    const { dir, cleanup } = scratch("log", "c");
    const file = join(dir, "grid.log");
    try {
      const r = await run(["-v", "--log", file, "-n", "3", FIXTURE, "lanJob", "3", "12"]);
      expect(r.code).toBe(0);
      expect(lastJson(r.stdout)).toMatchObject({ n: 12 });
      const lines = readFileSync(file, "utf8").trim().split("\n");
      // The three peers (the origin and the two it started) wrote there, each line with its peer.
      const peers = new Set(lines.map((l) => /^scoop:peer \[(\w{6})\] /.exec(l)?.[1]));
      peers.delete(undefined);
      expect(peers.size).toBe(3);
      expect(r.stderr).not.toMatch(/^scoop:\w+ /m);
      expect(await noneLeft(r.tag)).toEqual([]);
    } finally {
      cleanup();
    }
  }, TIMEOUT);

  test("a job that ends while 8 peers still dial each other ends quietly", async () => {
    // Stopping a node aborts its dials in flight; on Bun each such socket used to report an
    // uncaught AbortError as its peer exited.
    const r = await run(["-n", "8", FIXTURE, "quick"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/Error/);
    expect(await noneLeft(r.tag)).toEqual([]);
  }, TIMEOUT);

  test(
    "main throws: non-zero status, the error and its remote stack printed, no orphan",
    async () => {
      const r = await run(["-n", "3", FIXTURE, "throws"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/scoop: main failed \(on peer \w+\): BadInput: cannot take 9/);
      expect(r.stderr).toMatch(/\n\s+at .*fail/); // the stack of the task that threw, remotely
      expect(await noneLeft(r.tag)).toEqual([]);
    },
    TIMEOUT,
  );

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${signal} to the launcher stops every peer`, async () => {
      const p = start(["-n", "3", FIXTURE, "hang"]);
      await p.waitFor(/ready 3/);
      expect(processesTagged(p.tag).length).toBe(3);
      p.child.kill(signal);
      expect(await p.exited).toBe(signal === "SIGINT" ? 130 : 143);
      expect(await noneLeft(p.tag)).toEqual([]);
    }, TIMEOUT);
  }

  test(
    "Bun peers run with the runtime settings; the user's own win, setting by setting",
    async () => {
      const keys = [
        "MIMALLOC_PURGE_DELAY",
        "BUN_JSC_thresholdForFTLOptimizeAfterWarmUp",
        "BUN_JSC_thresholdForOptimizeAfterWarmUp",
      ];
      const cases: [Record<string, string>, string[]][] = [
        [{}, ["1000", "1000000", "3000"]],
        [{ MIMALLOC_PURGE_DELAY: "7" }, ["7", "1000000", "3000"]],
        [{ BUN_JSC_thresholdForFTLOptimizeAfterWarmUp: "5000" }, ["1000", "5000", "3000"]],
      ];
      for (const [env, want] of cases) {
        // Only what each case sets: not whatever the shell running the tests exports.
        const p = start(["-n", "3", FIXTURE, "peerEnv"], { env, unset: keys });
        expect(await p.exited).toBe(0);
        const out = lastJson(p.stdout);
        // On Bun cli.ts re-executes itself in place to get them: the same process, the same pid.
        // They are Bun's: a Deno origin runs as started, and so do its Deno peers.
        expect(out.pid).toBe(p.child.pid);
        const expected = RUNTIME === "bun" ? want : keys.map((k) => env[k] ?? null);
        expect(out.origin).toEqual(expected);
        const others = Object.entries(out.peers).filter(([id]) => id !== out.id);
        expect(others.map(([, v]) => v)).toEqual([expected, expected]);
      }
    },
    TIMEOUT,
  );

  test("a peer killed outright leaves no orphan behind", async () => {
    const p = start(["-n", "3", FIXTURE, "hang"]);
    await p.waitFor(/ready 3/);
    p.child.kill("SIGKILL");
    await p.exited;
    // The children notice their launcher's end on stdin and leave by themselves.
    expect(await noneLeft(p.tag)).toEqual([]);
  }, TIMEOUT);

  test(
    "a peer in a 10 s synchronous task does not stop the others finishing the rest",
    async () => {
      const r = await run(["-n", "3", FIXTURE, "blocking", "10000"]);
      if (r.code !== 0) throw new Error(r.stderr);
      expect(lastJson(r.stdout)).toEqual({ allShortBeforeLong: true, shorts: 60 });
    },
    TIMEOUT,
  );
});
