import { describe, expect, test } from "bun:test";
import { TimeoutError } from "../../src/errors.ts";
import {
  ALL_COMPLETED,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  futures,
  wait,
} from "../../src/futures/api.ts";
import { Future } from "../../src/futures/future.ts";
import { installLocalBackend, turn } from "./_local-backend.ts";

const pending = (n: number) => Array.from({ length: n }, (_, i) => new Future<number>(i + 1));
const ids = (fs: Iterable<Future<unknown>>) => [...fs].map((f) => f.id).sort();
const settledFlag = (p: Promise<unknown>) => {
  const flag = { settled: false };
  p.then(() => (flag.settled = true), () => (flag.settled = true));
  return flag;
};

describe("wait", () => {
  test("the constants are their own names", () => {
    expect([FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, futures.ALL_COMPLETED])
      .toEqual(["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "ALL_COMPLETED"]);
  });

  test("ALL_COMPLETED (the default) waits for every task", async () => {
    using _backend = installLocalBackend();
    const double = (x: number) => 2 * x;
    const fs = [1, 2, 3].map((x) => futures.submit(double, x));
    const { done, notDone } = await wait(fs);
    expect({ done: ids(done), notDone: ids(notDone) }).toEqual({ done: [1, 2, 3], notDone: [] });
  });

  test("FIRST_COMPLETED returns at the first future done", async () => {
    const [a, b, c] = pending(3);
    const waiting = wait([a, b, c], { returnWhen: FIRST_COMPLETED });
    b._resolve(2);
    const { done, notDone } = await waiting;
    expect({ done: ids(done), notDone: ids(notDone) }).toEqual({ done: [2], notDone: [1, 3] });
  });

  test("FIRST_EXCEPTION ignores successes and returns at the first failure", async () => {
    const [a, b, c] = pending(3);
    const waiting = wait([a, b, c], { returnWhen: FIRST_EXCEPTION });
    const flag = settledFlag(waiting);
    a._resolve(1);
    await turn();
    expect(flag.settled).toBe(false);
    b._reject(new Error("b failed"));
    const { done, notDone } = await waiting;
    expect({ done: ids(done), notDone: ids(notDone) }).toEqual({ done: [1, 2], notDone: [3] });
  });

  test("FIRST_EXCEPTION does not count a cancellation, and returns once all are done", async () => {
    const [a, b] = pending(2);
    const waiting = wait([a, b], { returnWhen: FIRST_EXCEPTION });
    const flag = settledFlag(waiting);
    a.cancel();
    await turn();
    expect(flag.settled).toBe(false);
    b._resolve(2);
    expect(ids((await waiting).done)).toEqual([1, 2]);
  });

  test.each(
    [
      [FIRST_COMPLETED, "finished"],
      [FIRST_EXCEPTION, "failed"],
      [ALL_COMPLETED, "none pending"],
    ] as const,
  )("%s returns at once when its condition holds (%s)", async (returnWhen, kind) => {
    const [a, b] = pending(2);
    if (kind === "finished") a._resolve(1);
    if (kind === "failed") a._reject(new Error("x"));
    const fs = kind === "none pending" ? [] : [a, b]; // b stays pending for ever
    const { done } = await wait(fs, { returnWhen });
    expect(done.size).toBe(kind === "none pending" ? 0 : 1);
  });

  test.each([0, 1])("a timeout of %pms returns what is done, never throws", async (timeout) => {
    const [a, b] = pending(2);
    a._resolve(1);
    const { done, notDone } = await wait([a, b, a], { timeout });
    expect({ done: ids(done), notDone: ids(notDone) }).toEqual({ done: [1], notDone: [2] });
    b._resolve(2); // the sets are snapshots: nothing listens any more
    expect({ done: ids(done), notDone: ids(notDone) }).toEqual({ done: [1], notDone: [2] });
  });

  test("an abort rejects with signal.reason", async () => {
    const controller = new AbortController();
    const waiting = wait(pending(1), { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    expect(await waiting.catch((e) => e)).toBe(reason);
  });

  test.each([
    [
      'returnWhen: "FIRST"',
      { returnWhen: "FIRST" },
      RangeError,
      "Cannot wait: `returnWhen` must be one of " +
      '"FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", received "FIRST"',
    ],
    [
      "timeout: -5",
      { timeout: -5 },
      RangeError,
      "Cannot wait: `timeout` must be a finite number >= 0, " +
      "received -5",
    ],
  ])("wait(fs, { %s }) is refused", async (_label, options, Err, message) => {
    await expect(wait(pending(1), options as never)).rejects.toThrow(new Err(message));
  });

  test.each([
    ["a number", 42, "Cannot wait: the futures must be an iterable of Future, received 42"],
    [
      "promises",
      [Promise.resolve(1)],
      "Cannot wait: item 0 is not a Future, received an instance of Promise",
    ],
  ])("wait(%s) is refused", async (_label, fs, message) => {
    await expect(wait(fs as never)).rejects.toThrow(new TypeError(message));
  });
});

describe("asCompleted", () => {
  test("yields the done futures first, in order, then each as it finishes", async () => {
    const [a, b, c, d] = pending(4);
    a._resolve(1);
    c._reject(new Error("c failed"));
    const it = asCompleted([a, b, c, d]);
    const got = [(await it.next()).value, (await it.next()).value];
    const third = it.next();
    d._resolve(4);
    got.push((await third).value);
    b._resolve(2);
    got.push((await it.next()).value);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(got).toEqual([a, c, d, b]); // the futures themselves, the failed one included
  });

  test("works with for await over tasks", async () => {
    using _backend = installLocalBackend();
    const inc = (x: number) => x + 1;
    const fs = [1, 2, 3].map((x) => futures.submit(inc, x));
    const seen: Future<number>[] = [];
    for await (const f of futures.asCompleted(fs)) seen.push(f);
    expect(seen.every((f) => f instanceof Future)).toBe(true);
    expect((await Promise.all(seen)).sort()).toEqual([2, 3, 4]);
  });

  test("throws a TimeoutError once the done ones are yielded", async () => {
    const [a, b] = pending(2);
    a._resolve(1);
    const it = asCompleted([a, b], { timeout: 1 });
    expect((await it.next()).value).toBe(a);
    const error = await it.next().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe("Cannot iterate asCompleted: 1 of 2 futures not done after 1ms");
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  test("an abort throws signal.reason; breaking out stops listening", async () => {
    const controller = new AbortController();
    const it = asCompleted(pending(2), { signal: controller.signal });
    const next = it.next();
    controller.abort("stop");
    expect(await next.catch((e) => e)).toBe("stop");
    const [a, b] = pending(2);
    a._resolve(1);
    const seen: Future<number>[] = [];
    for await (const f of asCompleted([a, b])) {
      seen.push(f);
      break;
    }
    b._resolve(2);
    expect(seen).toEqual([a]);
  });

  test("an empty list ends at once", async () => {
    expect(await asCompleted([]).next()).toEqual({ done: true, value: undefined });
  });
});
