/**
 * Every API function on a real 3-peer grid: separate processes linked over libp2p on loopback.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FIXTURES, killAll, lastJson, noneLeft, run, RUNTIME } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
const TIMEOUT = 120_000;

afterAll(killAll);

/** Run one fixture scenario on `n` peers; return its JSON findings. */
async function scenario(name: string, args: string[] = [], n = 3) {
  const r = await run(["-n", String(n), FIXTURE, name, ...args]);
  if (r.code !== 0) throw new Error(`scenario ${name} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  expect(await noneLeft(r.tag)).toEqual([]);
  return lastJson(r.stdout);
}

describe("API on a 3-peer grid", () => {
  test("submit, map, mapAsCompleted, mapReduce, mapScan, wait, asCompleted, Future", async () => {
    const out = await scenario("api");
    expect(out.submit).toBe(42);
    expect(out.helper).toBe(49);
    expect(out.map).toEqual([2, 3, 4, 5, 6]);
    expect(out.zip).toEqual(["ax", "by"]);
    expect(out.iterated).toEqual([11, 21, 31]);
    expect(out.asCompletedSorted).toEqual([2, 3, 4, 5]);
    expect(out.reduce0).toBe("");
    expect(out.reduce0Error).toMatch(/empty sequence/);
    expect(out.reduce1).toBe("a");
    expect(out.reduce7).toBe("abcdefg");
    expect(out.scan).toEqual(["a", "ab", "abc"]);
    expect(out.scan0).toEqual([]);
    expect(out.waitAll).toEqual([3, 0]);
    expect(out.waitFirst).toEqual([1, 1]);
    expect(out.waitException).toEqual([1, 1]);
    expect(out.waitTimeout).toEqual([0, 1]);
    expect(out.asCompleted).toEqual([2, 3, 4]);
    expect(out.asCompletedTimeout).toBe("TimeoutError");
    expect(out.resultTimeout).toBe("TimeoutError");
    expect(out.future).toEqual({
      done: true,
      running: false,
      cancelled: false,
      cancelAfterDone: false,
      callbackAtOnce: true,
    });
    expect(out.exception).toBe("BadInput");
    expect(out.closure).toMatch(/^TypeError: .*closes over "captured"/);
    expect(out.unsendable).toMatch(/^TypeError: Cannot send args\[0\]: a function .*"captured"/);
    expect(out.registered).toBe(40);
    expect(out.size).toBe(3);
    expect(out.isOrigin).toBe(true);
    expect(out.shutdown).toEqual({ queuedCancelled: true, submitAfter: "GridError" });
  }, TIMEOUT);

  test("cancel: queued tasks cancel, started ones do not", async () => {
    const out = await scenario("cancel");
    expect(out).toEqual({
      someCancelled: true,
      consistent: true,
      allDone: true,
      heldRunning: true,
      cancelRunning: false,
      stillRunning: true,
    });
  }, TIMEOUT);

  test("nested trees: fib(15) and a 3-ary map tree of depth 5", async () => {
    const out = await scenario("tree", ["15"]);
    expect(out).toEqual({ fib: 610, tree3: 243 });
  }, TIMEOUT);

  test("a 2^15-task binary tree on 2 peers does not deadlock", async () => {
    // fib(22) spawns 57,313 tasks, each awaiting its children.
    const out = await scenario("tree", ["22"], 2);
    expect(out.fib).toBe(17711);
  }, TIMEOUT);

  test("errors across two levels of nesting keep name, message and the remote stack", async () => {
    const out = await scenario("errors") as Record<string, Record<string, string>>;
    for (const key of ["direct", "nested", "inMap"]) {
      expect(out[key].name).toBe("BadInput");
      expect(out[key].peer).toMatch(/^12D3KooW/);
    }
    expect(out.direct.message).toBe("cannot take 3");
    expect(out.nested.message).toBe("cannot take 6");
    expect(out.inMap.message).toBe("cannot take 3");
    expect(out.nested.stack).toMatch(/at .*fail/);
  }, TIMEOUT);

  test("a thrown error keeps its own fields and its cause's, across nesting", async () => {
    const out = await scenario("errors");
    const want = {
      name: "QuotaExceeded",
      code: "E_QUOTA",
      limit: 5,
      retry: false, // a function cannot cross the wire: the error goes without that field
      cause: ["disk full", 28],
    };
    expect(out.fields).toEqual(want);
    expect(out.fieldsNested).toEqual(want);
  }, TIMEOUT);

  test("shared constants are read by tasks on every peer", async () => {
    const out = await scenario("consts");
    expect(out.values).toEqual([JSON.stringify({ list: [1, 2, 3], when: new Date(0) })]);
    expect(out.peers).toBe(3);
    expect(out.nulls).toEqual([null]);
    expect(out.redefine).toMatch(/Cannot redefine constant "big"/);
    expect(out.missing).toBe("TimeoutError");
  }, TIMEOUT);

  test("functions travel as values: tasks, partials and builtins, nested and shared", async () => {
    const out = await scenario("functions");
    expect(out).toEqual({
      bound: 930,
      partial: 930,
      topLevel: 1395,
      cos: expect.closeTo(0.4216, 4), // cos 0 + … + cos 9
      applyTwice: 81,
      applyPartial: 12,
      shared: ["25,625"],
      sharedPeers: 3,
      args: [18, 3],
      argsPeers: 2,
      result: [12, 15, 9],
      boundToThis: expect.stringMatching(
        /^TypeError: Cannot submit "bound weighted": .*bind\(null/,
      ),
      lambda: expect.stringMatching(/^TypeError: Cannot send args\[0\]: a function cannot/),
    });
  }, TIMEOUT);

  test(
    "lambdas travel as their source: mapped, as arguments, results, constants, nested",
    async () => {
      const out = await scenario("lambdas");
      expect(out).toEqual({
        squares: 9455,
        // Three processes ran the lambda: compiled from its source on each.
        squaresRanBy: [expect.any(String), expect.any(String), expect.any(String)],
        fnExpr: expect.closeTo(0.4216, 4),
        async: 42,
        asArg: 81,
        partial: 930,
        shared: ["8,512"],
        sharedPeers: 3,
        nested: [90],
        nestedElsewhere: true,
        result: 101,
        resultSubmitted: 102,
        refusedClosure: expect.stringMatching(
          /^TypeError: Cannot submit an anonymous function: it closes over "local", "twoLocals", .*pass each as an argument/,
        ),
        refusedArg: expect.stringMatching(
          /^TypeError: Cannot send args\[0\]: a function cannot cross the wire: it closes over "local"/,
        ),
        refusedConst: expect.stringMatching(/^TypeError: Cannot send constant f: .*"local"/),
        reservedConst: expect.stringMatching(
          /^TypeError: .*"scoop:x": the prefix "scoop:" is reserved/,
        ),
      });
      expect((out.squaresRanBy as string[]).every((who) => who.startsWith(RUNTIME))).toBe(true);
    },
    TIMEOUT,
  );

  test("constants set before the other peers joined reach them when they join", async () => {
    const out = await scenario("lateConsts");
    expect(out.values).toEqual([JSON.stringify({ n: 42 })]);
    expect(out.peers).toBe(3);
    expect(out.joinedBefore).toBeGreaterThanOrEqual(1);
  }, TIMEOUT);

  test("an 8 MB Float64Array crosses the wire both ways intact", async () => {
    const out = await scenario("payload", ["8"]);
    expect(out).toEqual({ ok: true, copies: 6, bytes: 8 * 1024 * 1024 });
  }, TIMEOUT);

  test("mapReduce of async tasks, again and again, never stalls", async () => {
    const out = await scenario("reduceMany", ["8"]);
    expect(out).toEqual({ sums: [328350], rounds: 8 });
  }, TIMEOUT);

  test("a task waiting on something the executor cannot see does not stall its peer", async () => {
    const out = await scenario("crossWait", [], 1);
    expect(out).toEqual({ waiting: "through", opener: 2 });
  }, TIMEOUT);

  test(
    "main starts at once; grid.waitForPeers waits for -n peers, or n, or times out",
    async () => {
      const out = await scenario("peersApi");
      expect(out).toEqual({
        one: expect.any(Number),
        all: 3,
        tooMany: "TimeoutError: Only 3 of 4 peers were live after 30ms",
        zero: "RangeError: Cannot wait for peers: n must be a positive integer, got 0",
        notANumber: "RangeError: Cannot wait for peers: n must be a positive integer, got string",
        aborted: "Error: no",
        inTask: 3,
      });
      expect(out.one).toBeGreaterThanOrEqual(1);
    },
    TIMEOUT,
  );

  test("work reaches every peer", async () => {
    const out = await scenario("spread", ["150"]);
    expect(out).toEqual({ peers: 3, size: 3 });
  }, TIMEOUT);
});
