import { describe, expect, test } from "bun:test";
import { TimeoutError } from "../../src/errors.ts";
import { futures } from "../../src/futures/api.ts";
import { installLocalBackend } from "./_local-backend.ts";

const letter = (i: number) => String.fromCharCode(97 + i); // 0 -> "a"
const concat = (a: string, b: string) => a + b; // associative, not commutative
const add = (a: number, b: number) => a + b;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const prefixes = (s: string) => range(s.length).map((i) => s.slice(0, i + 1));

/** [label, item count, options, expected reduction] for both reductions. */
const cases = [0, 1, 2, 7].flatMap((n) => {
  const letters = range(n).map(letter).join("");
  return [
    [`${n} items`, n, {}, letters],
    [`${n} items with initial`, n, { initial: ">" }, `>${letters}`],
  ] as const;
});

describe("mapReduce", () => {
  test.each(cases)("%s", async (_label, n, options, expected) => {
    using _backend = installLocalBackend();
    const result = futures.mapReduce(letter, concat, range(n), options);
    if (n === 0 && !("initial" in options)) {
      await expect(result).rejects.toThrow(
        new RangeError("Cannot reduce an empty sequence: give an initial value ({ initial })"),
      );
    } else expect(await result).toBe(expected);
  });

  test.each([
    ["in order", [0, 1, 2, 3, 4, 5, 6]],
    ["in reverse", [6, 5, 4, 3, 2, 1, 0]],
    ["shuffled", [3, 0, 6, 2, 5, 1, 4]],
  ])("keeps left-to-right order when the maps finish %s", async (_label, order) => {
    using backend = installLocalBackend();
    const gates = range(7).map(() => Promise.withResolvers<void>());
    const finished: number[] = [];
    const slowLetter = async (i: number) => {
      await gates[i].promise;
      finished.push(i);
      return letter(i);
    };
    let reductions = 0;
    const countedConcat = (a: string, b: string) => (reductions++, a + b);
    const result = futures.mapReduce(slowLetter, countedConcat, range(7), { initial: ">" });
    for (const i of order) {
      gates[i].resolve();
      // Let the reductions this unlocks run before the next map finishes.
      await backend.until(() => finished.length === order.indexOf(i) + 1);
      await backend.until(() => backend.queued === 0 && backend.started === backend.submitted);
    }
    expect({ result: await result, reductions, finished }).toEqual({
      result: ">abcdefg",
      reductions: 7,
      finished: order,
    });
  });

  test.each([1, 2, 5])("pulls lazily: at most inFlight = %p tasks at once", async (inFlight) => {
    using backend = installLocalBackend();
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 100; i++, pulled++) yield i;
    }
    expect(await futures.mapReduce((x: number) => x, add, items(), { inFlight })).toBe(4950);
    expect({ pulled, maxPending: backend.maxPending <= inFlight }).toEqual({
      pulled: 100,
      maxPending: true,
    });
  });

  test("the first failure rejects it and cancels the tasks not started", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const failOn3 = (x: number) => {
      if (x === 3) throw new Error("no 3");
      return x;
    };
    const result = futures.mapReduce(failOn3, add, range(10), { inFlight: 6 });
    backend.release(4); // 0, 1, 2, 3 run; 3 fails
    expect(await result.catch((e) => e.message)).toBe("no 3");
    expect({ queued: backend.queued, pending: backend.pending }).toEqual({ queued: 0, pending: 0 });
  });

  test("a timeout rejects with a TimeoutError and cancels everything", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const error = await futures.mapReduce(letter, concat, range(3), { timeout: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe("Cannot complete mapReduce: 3 tasks not done after 1ms");
    expect(backend.pending).toBe(0);
  });

  test.each([
    ["mapFn", [1, concat, []], TypeError, "Cannot mapReduce: mapFn must be a function, received 1"],
    [
      "reduceFn",
      [letter, "x", []],
      TypeError,
      'Cannot mapReduce: reduceFn must be a function, received "x"',
    ],
    [
      "an iterable",
      [letter, concat, [1], 5],
      TypeError,
      "Cannot mapReduce: argument 4 must be iterable, received 5",
    ],
    [
      "inFlight",
      [letter, concat, [1], { inFlight: 0 }],
      RangeError,
      "Cannot mapReduce: `inFlight` must be an integer >= 1, received 0",
    ],
  ])("refuses a bad %s", async (_label, args, Err, message) => {
    using _backend = installLocalBackend();
    const call = futures.mapReduce as (...args: unknown[]) => Promise<unknown>;
    await expect(call(...args)).rejects.toThrow(new Err(message));
  });
});

describe("mapScan", () => {
  test.each(cases)("%s", async (_label, n, options, expected) => {
    using _backend = installLocalBackend();
    const withInitial = "initial" in options;
    const expectedScan = n === 0 ? [] : prefixes(expected).slice(withInitial ? 1 : 0);
    expect(await futures.mapScan(letter, concat, range(n), options)).toEqual(expectedScan);
  });

  test("reduceFn may be async and runs in input order", async () => {
    using _backend = installLocalBackend();
    const seen: string[] = [];
    const slowConcat = async (a: string, b: string) => (seen.push(b), await Promise.resolve(a + b));
    expect(await futures.mapScan(letter, slowConcat, range(3), { initial: "" }))
      .toEqual(["a", "ab", "abc"]);
    expect(seen).toEqual(["a", "b", "c"]);
  });

  test("a reduceFn error rejects it and cancels the maps not started", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const badConcat = (a: string, b: string) => {
      if (b === "b") throw new Error("no b");
      return a + b;
    };
    const result = futures.mapScan(letter, badConcat, range(10));
    backend.release(2);
    expect(await result.catch((e) => e.message)).toBe("no b");
    expect({ started: backend.started, pending: backend.pending }).toEqual({
      started: 2,
      pending: 0,
    });
  });

  test("a timeout rejects with a TimeoutError", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    await expect(futures.mapScan(letter, concat, range(2), { timeout: 1 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
    await backend.idle();
  });
});
