import { describe, expect, test } from "bun:test";
import { CancelledError, TimeoutError } from "../../src/errors.ts";
import { setCallbackErrorReporter } from "../../src/futures/callback-errors.ts";
import { Future, isFuture } from "../../src/futures/future.ts";
import { futures } from "../../src/futures/api.ts";
import { installLocalBackend, turn } from "./_local-backend.ts";

const state = (f: Future<unknown>) => ({
  done: f.done(),
  running: f.running(),
  cancelled: f.cancelled(),
});

/** Futures brought to each state the same way the backend would. */
const make = {
  pending: () => new Future<number>(1),
  running: () => {
    const f = new Future<number>(2);
    f._setRunning();
    return f;
  },
  finished: () => {
    const f = new Future<number>(3);
    f._setRunning();
    f._resolve(42);
    return f;
  },
  failed: () => {
    const f = new Future<number>(4);
    f._setRunning();
    f._reject(new RangeError("bad"));
    return f;
  },
  cancelled: () => {
    const f = new Future<number>(5);
    f.cancel();
    return f;
  },
};

describe("Future state machine", () => {
  test.each(
    [
      ["pending", { done: false, running: false, cancelled: false }],
      ["running", { done: false, running: true, cancelled: false }],
      ["finished", { done: true, running: false, cancelled: false }],
      ["failed", { done: true, running: false, cancelled: false }],
      ["cancelled", { done: true, running: false, cancelled: true }],
    ] as const,
  )("%s", (name, expected) => {
    expect(state(make[name]())).toEqual(expected);
  });

  test("a pending future may finish without being marked running", async () => {
    const f = new Future<string>(1);
    expect(f._resolve("v")).toBe(true);
    expect(await f).toBe("v");
  });

  test.each(
    [
      ["finished", 42, undefined],
      ["failed", undefined, RangeError],
      ["cancelled", undefined, CancelledError],
    ] as const,
  )("awaiting a %s future, and result() / exception()", async (name, value, Err) => {
    const f = make[name]();
    if (Err === undefined) {
      expect(await f).toBe(value as number);
      expect(await f.result()).toBe(value as number);
      expect(await f.exception()).toBeUndefined();
    } else {
      await expect(f.then()).rejects.toBeInstanceOf(Err);
      await expect(f.result()).rejects.toBeInstanceOf(Err);
      expect(await f.exception()).toBeInstanceOf(Err);
    }
  });

  test("duplicate settles are ignored", async () => {
    const f = make.finished();
    expect([f._resolve(1), f._reject(new Error("late")), f.cancel(), f._setRunning()])
      .toEqual([false, false, false, false]);
    expect(await f).toBe(42);
    const g = make.cancelled();
    expect([g._resolve(1), g._reject(new Error("late")), g._setRunning()])
      .toEqual([false, false, false]);
    expect(await g.exception()).toBeInstanceOf(CancelledError);
  });

  test.each(
    [
      ["pending", true],
      ["running", false],
      ["finished", false],
      ["failed", false],
      ["cancelled", false],
    ] as const,
  )("cancel() on a %s future returns %p", (name, expected) => {
    expect(make[name]().cancel()).toBe(expected);
  });

  test("cancel() calls onCancel once, then the callbacks, and rejects awaiters", async () => {
    const order: string[] = [];
    const f = new Future<number>(9, (g) => order.push(`onCancel ${g.id} ${g.cancelled()}`));
    f.addDoneCallback(() => order.push("callback"));
    const awaited = f.then(() => "resolved", (e) => e);
    expect([f.cancel(), f.cancel()]).toEqual([true, false]);
    expect(order).toEqual(["onCancel 9 true", "callback"]);
    const error = await awaited;
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe("Future 9 was cancelled before its task started");
  });

  test("then / catch / finally behave like a promise's", async () => {
    expect(await make.finished().then((v) => v + 1)).toBe(43);
    expect(await make.failed().catch((e) => (e as Error).message)).toBe("bad");
    let ran = false;
    expect(await make.finished().finally(() => (ran = true))).toBe(42);
    expect(ran).toBe(true);
  });

  test("isFuture tells futures from thenables", () => {
    expect([isFuture(make.pending()), isFuture(Promise.resolve(1)), isFuture(null)])
      .toEqual([true, false, false]);
  });

  test("a Future<number> is usable as a Future<unknown>", () => {
    const fs: Future<unknown>[] = [make.finished()];
    expect(fs.length).toBe(1);
  });
});

describe("done callbacks", () => {
  test("run once, in order, when the future settles; at once when already done", () => {
    const f = make.running();
    const seen: string[] = [];
    f.addDoneCallback(() => seen.push("a"));
    f.addDoneCallback(() => seen.push("b"));
    const removed = () => seen.push("removed");
    f.addDoneCallback(removed);
    expect(f.removeDoneCallback(removed)).toBe(true);
    expect(seen).toEqual([]);
    f._resolve(1);
    f._resolve(2);
    expect(seen).toEqual(["a", "b"]);
    f.addDoneCallback((g) => seen.push(`late ${g.id}`));
    expect(seen).toEqual(["a", "b", "late 2"]);
  });

  test("a callback's error goes to the reporter and the others still run", () => {
    const reported: [unknown, number][] = [];
    setCallbackErrorReporter((error, f) => reported.push([error, f.id]));
    try {
      const f = make.pending();
      const boom = new Error("boom");
      const seen: string[] = [];
      f.addDoneCallback(() => {
        throw boom;
      });
      f.addDoneCallback(() => seen.push("second"));
      f._resolve(1);
      expect({ reported, seen }).toEqual({ reported: [[boom, 1]], seen: ["second"] });
    } finally {
      setCallbackErrorReporter(undefined);
    }
  });

  test("errors thrown before a reporter is set reach the first reporter", () => {
    setCallbackErrorReporter(undefined);
    const boom = new Error("early");
    make.finished().addDoneCallback(() => {
      throw boom;
    });
    const reported: unknown[] = [];
    setCallbackErrorReporter((error) => reported.push(error));
    setCallbackErrorReporter(undefined);
    expect(reported).toEqual([boom]);
  });

  test("a callback that is not a function is refused", () => {
    expect(() => make.pending().addDoneCallback(42 as never)).toThrow(
      new TypeError("Cannot add a done callback: it must be a function, received 42"),
    );
  });
});

describe("result() and exception() waits", () => {
  test.each(["result", "exception"] as const)("%s({ timeout: 0 }) only looks", async (m) => {
    const error = await make.pending()[m]({ timeout: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect({ message: error.message, timeout: error.timeout }).toEqual({
      message: `Cannot ${m === "result" ? "get the result of" : "get the exception of"} ` +
        "future 1: not done after 0ms",
      timeout: 0,
    });
    expect(await make.finished()[m]({ timeout: 0 })).toBe(m === "result" ? 42 : undefined);
  });

  test("a timeout fires while the future stays pending; a later value still arrives", async () => {
    const f = make.running();
    await expect(f.result({ timeout: 1 })).rejects.toBeInstanceOf(TimeoutError);
    await f.result({ timeout: 1 }).catch(() => {});
    f._resolve(7);
    expect(await f.result({ timeout: 1 })).toBe(7);
  });

  test("an abort rejects with signal.reason unchanged", async () => {
    const reason = new Error("stop");
    const controller = new AbortController();
    const waiting = make.running().result({ signal: controller.signal });
    controller.abort(reason);
    expect(await waiting.catch((e) => e)).toBe(reason);
    expect(await make.finished().result({ signal: controller.signal }).catch((e) => e)).toBe(
      reason,
    );
  });

  test.each([
    [
      "timeout: -1",
      { timeout: -1 },
      RangeError,
      "`timeout` must be a finite number >= 0, received -1",
    ],
    [
      "timeout: NaN",
      { timeout: NaN },
      RangeError,
      "`timeout` must be a finite number >= 0, received NaN",
    ],
    [
      'timeout: "5"',
      { timeout: "5" },
      TypeError,
      '`timeout` must be a number of milliseconds, received "5"',
    ],
    ["signal: 1", { signal: 1 }, TypeError, "`signal` must be an AbortSignal, received 1"],
    ["timout: 5", { timout: 5 }, TypeError, 'unknown option "timout" (known: timeout, signal)'],
  ])("result({ %s }) is refused", async (_label, options, Err, message) => {
    await expect(make.pending().result(options as never)).rejects.toThrow(
      new Err(`Cannot get the result of future 1: ${message}`),
    );
  });
});

// bun:test fails the running test on any unhandled rejection (a process "unhandledRejection"
// listener does not stop it), so this test passes only if none is raised.
test("a failure nobody awaits raises no unhandled rejection", async () => {
  using backend = installLocalBackend();
  make.failed();
  make.cancelled();
  const fails = (x: number) => {
    throw new Error(`fails ${x}`);
  };
  const f = futures.submit(fails, 1);
  f.addDoneCallback(() => {});
  futures.map(fails, [1, 2, 3]);
  futures.wait([futures.submit(fails, 2)]);
  futures.mapReduce(fails, fails, [1, 2]).catch(() => {});
  await backend.idle();
  await turn();
  await turn();
  expect(f.done()).toBe(true);
});
