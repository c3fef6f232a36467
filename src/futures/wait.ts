/**
 * `wait`: block until some or all of a set of futures are done, PEP 3148's `wait`.
 *
 * @module
 */
import { arm, checkOptions, describe } from "./_util.ts";
import { type Future, isFuture } from "./future.ts";

/** `wait` returns as soon as any future is done (or when all are). */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait` returns as soon as any future fails (cancelled ones do not count), or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait` returns when every future is done (the default). */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When `wait` returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

const RETURN_WHEN: readonly string[] = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED];
const TIMED_OUT = Symbol("timed out");

/** Options of `wait`. */
export interface WaitOptions {
  /** Return what is done after this many milliseconds (never throws). @default undefined (no limit) */
  timeout?: number;
  /** When to return. @default ALL_COMPLETED */
  returnWhen?: ReturnWhen;
  /** Give up on abort: `wait` rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What `wait` gives: the futures done when it returned, and the others. */
export interface WaitResult<F extends Future<unknown> = Future<unknown>> {
  /** Futures done (finished or cancelled) when `wait` returned. */
  done: Set<F>;
  /** Futures not done when `wait` returned. */
  notDone: Set<F>;
}

/**
 * Wait until the `returnWhen` condition holds for `fs`, or until `timeout`; returns at once when
 * it already holds (an empty `fs` included). Nothing is polled: one done callback per pending
 * future, removed when `wait` returns.
 *
 * @param fs the futures; duplicates count once.
 * @param options `timeout` (ms), `returnWhen`, `signal`.
 * @returns the sets of done and not-done futures, snapshots taken when it returned.
 * @throws {TypeError} `fs` is not an iterable of futures, or an option has the wrong type.
 * @throws {RangeError} `returnWhen` is not one of the three values, or `timeout` is invalid.
 * @throws `signal.reason` when the signal aborts first.
 * @example Take results as the first ones arrive
 * ```ts
 * const fs = [1, 2, 3].map((x) => futures.submit(slowSquare, x));
 * const { done, notDone } = await futures.wait(fs, { returnWhen: FIRST_COMPLETED, timeout: 500 });
 * console.log(done.size, notDone.size);
 * ```
 */
export function wait<F extends Future<unknown>>(
  fs: Iterable<F>,
  options?: WaitOptions,
): Promise<WaitResult<F>> {
  return new Promise((resolve, reject) => {
    const { timeout, signal, returnWhen = ALL_COMPLETED } = checkOptions("wait", options, [
      "timeout",
      "returnWhen",
      "signal",
    ]);
    if (!RETURN_WHEN.includes(returnWhen)) {
      throw new RangeError(
        `Cannot wait: \`returnWhen\` must be one of ${
          RETURN_WHEN.map((v) => `"${v}"`).join(", ")
        }, received ${describe(returnWhen)}`,
      );
    }
    const done = new Set<F>();
    const notDone = new Set<F>();
    let failed = false;
    for (const f of checkFutures("wait", fs)) {
      if (!f.done()) notDone.add(f);
      else {
        done.add(f);
        failed ||= f._failed() && !f.cancelled();
      }
    }
    const holds = () =>
      notDone.size === 0 ||
      (returnWhen === FIRST_COMPLETED && done.size > 0) ||
      (returnWhen === FIRST_EXCEPTION && failed);
    if (signal?.aborted) throw signal.reason;
    if (holds()) return resolve({ done, notDone });

    let settled = false;
    const finish = (abort?: { reason: unknown }) => {
      if (settled) return;
      settled = true;
      disarm();
      for (const f of notDone) f.removeDoneCallback(onDone);
      if (abort === undefined) resolve({ done, notDone });
      else reject(abort.reason);
    };
    const onDone = (future: Future<unknown>) => {
      const f = future as F;
      if (settled) return;
      notDone.delete(f);
      done.add(f);
      failed ||= f._failed() && !f.cancelled();
      if (holds()) finish();
    };
    // A timeout is an ordinary return; only an abort rejects.
    const disarm = arm({ timeout, signal }, () => TIMED_OUT, (reason) => {
      if (reason === TIMED_OUT) finish();
      else finish({ reason });
    });
    for (const f of notDone) f.addDoneCallback(onDone);
  });
}

/**
 * Check that `fs` is an iterable of futures and return them without duplicates.
 * @throws {TypeError} it is not iterable, or holds something that is not a future.
 */
export function checkFutures<F extends Future<unknown>>(action: string, fs: Iterable<F>): Set<F> {
  if (typeof (fs as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== "function") {
    throw new TypeError(
      `Cannot ${action}: the futures must be an iterable of Future, received ${describe(fs)}`,
    );
  }
  const set = new Set<F>();
  let i = 0;
  for (const f of fs) {
    if (!isFuture(f)) {
      throw new TypeError(
        `Cannot ${action}: item ${i} is not a Future, received ${describe(f)}`,
      );
    }
    set.add(f);
    i++;
  }
  return set;
}
