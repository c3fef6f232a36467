import { describe, expect, test } from "bun:test";
import { CancelledError, GridError, TimeoutError } from "../../src/errors.ts";
import { futures } from "../../src/futures/api.ts";
import { installLocalBackend, turn } from "./_local-backend.ts";

/** A task per index that finishes (or throws, for `fails`) only when the test opens its gate. */
function gated(n: number, fails: number[] = []) {
  const gates = Array.from({ length: n }, () => Promise.withResolvers<void>());
  const task = async (i: number) => {
    await gates[i].promise;
    if (fails.includes(i)) throw new Error(`fail ${i}`);
    return i * 10;
  };
  const open = (...is: number[]) => is.forEach((i) => gates[i].resolve());
  return { task, open, items: Array.from({ length: n }, (_, i) => i) };
}

const add = (a: number, b: number) => a + b;

describe("map", () => {
  test("results come in input order whatever the completion order", async () => {
    using _backend = installLocalBackend();
    const { task, open, items } = gated(3);
    const m = futures.map(task, items);
    open(2, 1, 0);
    expect(await m).toEqual([0, 10, 20]);
  });

  test("iterating yields each result once it and all earlier ones are there", async () => {
    using backend = installLocalBackend();
    const { task, open, items } = gated(3);
    const it = futures.map(task, items)[Symbol.asyncIterator]();
    const first = it.next();
    let settled = false;
    first.then(() => (settled = true));
    open(1);
    await backend.until(() => backend.pending === 2);
    await turn();
    expect(settled).toBe(false);
    open(0);
    expect(await first).toEqual({ done: false, value: 0 });
    expect(await it.next()).toEqual({ done: false, value: 10 });
    open(2);
    expect([await it.next(), await it.next()]).toEqual([
      { done: false, value: 20 },
      { done: true, value: undefined },
    ]);
  });

  test.each([
    ["two arrays, the shortest wins", [[1, 2, 3], [10, 20]], [11, 22]],
    ["a Set and a generator", [
      new Set([1, 2]),
      (function* () {
        yield 5;
        yield 6;
        yield 7;
      })(),
    ], [6, 8]],
    ["an empty array", [[], [1]], []],
  ])("zips %s", async (_name, iterables, expected) => {
    using _backend = installLocalBackend();
    expect(await futures.map(add, ...(iterables as [number[], number[]]))).toEqual(expected);
  });

  test("the first failure in input order wins, after the results before it", async () => {
    using _backend = installLocalBackend();
    const { task, open, items } = gated(6, [2, 4]);
    const m = futures.map(task, items);
    open(4, 5, 2, 3);
    open(1, 0);
    const seen: number[] = [];
    const error = await (async () => {
      for await (const v of m) seen.push(v);
    })().catch((e) => e);
    expect({ seen, error: error.message }).toEqual({ seen: [0, 10], error: "fail 2" });
    expect(await m.then(() => "ok", (e) => e.message)).toBe("fail 2");
  });

  test("a failure cancels the calls not started yet", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const { task, open, items } = gated(10, [1]);
    const m = futures.map(task, items);
    backend.release(3);
    open(1);
    await backend.until(() => backend.pending === 2); // 0 and 2 still run; 3..9 cancelled
    expect({ queued: backend.queued, started: backend.started }).toEqual({ queued: 0, started: 3 });
    open(0, 2);
    expect(await m.then(() => "ok", (e) => e.message)).toBe("fail 1");
    expect(backend.calls).toEqual([[0], [1], [2]]);
  });

  test("a timeout rejects with a TimeoutError and cancels the rest", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const m = futures.map(add, [1, 2, 3], [1, 2, 3], { timeout: 1 });
    const error = await m.then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe("Cannot complete map: 3 of 3 calls not done after 1ms");
    expect({ pending: backend.pending, started: backend.started }).toEqual({
      pending: 0,
      started: 0,
    });
  });

  test("an abort rejects with signal.reason; cancel() with a CancelledError", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const controller = new AbortController();
    const m = futures.map(add, [1], [2], { signal: controller.signal });
    controller.abort("stop");
    expect(await m.then(() => undefined, (e) => e)).toBe("stop");
    const m2 = futures.map(add, [1], [2]);
    expect([m2.cancel(), m2.cancel()]).toEqual([true, false]);
    expect(await m2.then(() => undefined, (e) => e)).toBeInstanceOf(CancelledError);
    expect(backend.pending).toBe(0);
  });

  test("a call refused at submit throws at once and cancels the ones submitted", () => {
    using backend = installLocalBackend();
    backend.check = (_fn, args) => {
      if (args[0] === 3) throw new TypeError("Cannot submit: 3 cannot cross the wire");
    };
    expect(() => futures.map(add, [1, 2, 3, 4], [0, 0, 0, 0])).toThrow(
      new TypeError("Cannot submit: 3 cannot cross the wire"),
    );
    expect({ submitted: backend.submitted, pending: backend.pending }).toEqual({
      submitted: 2,
      pending: 0,
    });
  });
});

describe("mapAsCompleted", () => {
  test("yields the results in completion order", async () => {
    using _backend = installLocalBackend();
    const { task, open, items } = gated(3);
    const it = futures.mapAsCompleted(task, items);
    const got: number[] = [];
    const next = async () => got.push((await it.next()).value as number);
    const first = next(); // the first next() starts pulling
    open(2);
    await first;
    open(0);
    await next();
    open(1);
    await next();
    expect({ got, end: await it.next() }).toEqual({
      got: [20, 0, 10],
      end: { done: true, value: undefined },
    });
  });

  test("pulls lazily and never has more than inFlight calls unconsumed", async () => {
    using backend = installLocalBackend();
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 200; i++, pulled++) yield i;
    }
    let yielded = 0;
    let sum = 0;
    for await (const v of futures.mapAsCompleted(add, items(), items(), { inFlight: 4 })) {
      expect(backend.submitted - yielded).toBeLessThanOrEqual(4);
      if (yielded++ === 0) expect(pulled).toBeLessThanOrEqual(2 * 5);
      sum += v;
      if (yielded % 7 === 0) await turn(); // a slow consumer: results pile up, pulling stops
    }
    expect({ maxPending: backend.maxPending, yielded, sum }).toEqual({
      maxPending: 4,
      yielded: 200,
      sum: 199 * 200,
    });
  });

  test("a failure throws from the loop and cancels the calls not started", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const { task, open, items } = gated(10, [0]);
    const it = futures.mapAsCompleted(task, items, { inFlight: 5 });
    const next = it.next();
    backend.release(2);
    open(0);
    expect(await next.catch((e) => e.message)).toBe("fail 0");
    expect({ submitted: backend.submitted, queued: backend.queued, started: backend.started })
      .toEqual({ submitted: 5, queued: 0, started: 2 });
    open(1);
    await backend.idle();
  });

  test("breaking out of the loop cancels what is pending and closes the source", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    let closed = false;
    function* items() {
      try {
        for (let i = 0;; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const got: number[] = [];
    const loop = (async () => {
      for await (const v of futures.mapAsCompleted(add, items(), [5, 5, 5, 5], { inFlight: 3 })) {
        got.push(v);
        break;
      }
    })();
    await backend.until(() => backend.submitted === 3);
    backend.release(1);
    await loop;
    expect({ got, closed, pending: backend.pending, started: backend.started }).toEqual({
      got: [5],
      closed: true,
      pending: 0,
      started: 1,
    });
  });

  test("a timeout throws a TimeoutError", async () => {
    using backend = installLocalBackend();
    backend.paused = true;
    const it = futures.mapAsCompleted(add, [1, 2], [3, 4], { timeout: 1 });
    const error = await it.next().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe("Cannot complete mapAsCompleted: 2 calls not done after 1ms");
    expect(backend.pending).toBe(0);
  });
});

describe("validation", () => {
  const square = (x: number) => x * x;
  test.each([
    [
      "map without a function",
      () => futures.map(42 as never, [1]),
      TypeError,
      "Cannot map: fn must be a function, received 42",
    ],
    [
      "map over a number",
      () => futures.map(square, 5 as never),
      TypeError,
      "Cannot map: argument 2 must be iterable, received 5",
    ],
    [
      "map over null as the 2nd iterable",
      () => futures.map(add, [1], null as never),
      TypeError,
      "Cannot map: argument 3 must be iterable, received null",
    ],
    [
      "map over nothing",
      () => (futures.map as (fn: unknown) => unknown)(square),
      TypeError,
      "Cannot map: give at least one iterable, received none",
    ],
    [
      "map with a negative timeout",
      () => futures.map(square, [1], { timeout: -1 }),
      RangeError,
      "Cannot map: `timeout` must be a finite number >= 0, received -1",
    ],
    [
      "map with an infinite timeout",
      () => futures.map(square, [1], { timeout: Infinity }),
      RangeError,
      "Cannot map: `timeout` must be a finite number >= 0, received Infinity",
    ],
    [
      "map with an unknown option",
      () => futures.map(square, [1], { timout: 1 } as never),
      TypeError,
      'Cannot map: unknown option "timout" (known: timeout, signal)',
    ],
    [
      "mapAsCompleted with inFlight 1.5",
      () => futures.mapAsCompleted(square, [1], { inFlight: 1.5 }),
      RangeError,
      "Cannot mapAsCompleted: `inFlight` must be an integer >= 1, received 1.5",
    ],
    [
      "submit of a string",
      () => futures.submit("square" as never),
      TypeError,
      'Cannot submit: fn must be a function, received "square"',
    ],
  ])("%s", (_label, call, Err, message) => {
    using _backend = installLocalBackend();
    expect(call).toThrow(new Err(message));
  });

  test("without a grid, submit and map throw a GridError", () => {
    expect(() => futures.map(square, [1])).toThrow(GridError);
    expect(() => futures.submit(square, 1)).toThrow(
      /^Cannot submit a task: no grid is running in this thread/,
    );
  });
});
