/**
 * `asCompleted`: the futures themselves, as they finish.
 *
 * It is a plain async iterator object, not an `async function*`: a generator's `yield future`
 * would await the thenable future and hand out its value (or throw its error) instead of it.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { arm, checkOptions, type StopOptions } from "./_util.ts";
import type { Future } from "./future.ts";
import { checkFutures } from "./wait.ts";

/** Options of `asCompleted`. */
export type AsCompletedOptions = StopOptions;

type Taker<F> = {
  resolve: (result: IteratorResult<F, undefined>) => void;
  reject: (reason: unknown) => void;
};

/**
 * Iterate over `fs` as they finish: those already done first (in the order given), then each as
 * it finishes. It yields the futures, not their values: a failed future is yielded like any
 * other, and `await f` or `f.exception()` tells what happened. Breaking out of the loop removes
 * every callback it added. The clock starts at the first `next()`.
 *
 * @param fs the futures; duplicates count once.
 * @param options `timeout` (ms) after which the iterator throws, `signal` to stop on abort.
 * @returns an async iterable iterator of the futures.
 * @throws {TypeError} `fs` is not an iterable of futures, or an option has the wrong type.
 * @throws {RangeError} `timeout` is not a finite number >= 0.
 * @throws {TimeoutError} from the iterator, once the finished futures have been yielded and
 *   some are still not done after `timeout`; `signal.reason` on abort.
 * @example Handle results in completion order
 * ```ts
 * const fs = urls.map((u) => futures.submit(fetchSize, u));
 * for await (const f of futures.asCompleted(fs, { timeout: 5000 })) {
 *   console.log(await f);
 * }
 * ```
 *
 * TypeScript types a `for await` variable as if every async iterator awaited its values, so in
 * the loop above it calls `f` a `number` although it is the future; `await f` is right either
 * way. To keep the future's type, step the iterator yourself:
 * @example The future, typed
 * ```ts
 * const it = futures.asCompleted(fs);
 * for (let r = await it.next(); !r.done; r = await it.next()) {
 *   const f: Future<number> = r.value;
 *   if (await f.exception() === undefined) console.log(f.id, await f);
 * }
 * ```
 */
export function asCompleted<F extends Future<unknown>>(
  fs: Iterable<F>,
  options?: AsCompletedOptions,
): AsyncIterableIterator<F, undefined, undefined> {
  const opts = checkOptions("iterate asCompleted", options, ["timeout", "signal"]);
  return new AsCompletedIterator(checkFutures("iterate asCompleted", fs), opts);
}

class AsCompletedIterator<F extends Future<unknown>>
  implements AsyncIterableIterator<F, undefined, undefined> {
  #all: Set<F> | undefined; // until the first next()
  readonly #options: StopOptions;
  readonly #waiting = new Set<F>(); // not done yet; each has #onDone attached
  #ready: F[] = [];
  #head = 0;
  #takers: Taker<F>[] = [];
  #stopped: { reason: unknown } | undefined; // a timeout or an abort, thrown once
  #closed = false;
  #disarm: (() => void) | undefined;
  readonly #onDone = (f: Future<unknown>) => {
    this.#waiting.delete(f as F);
    this.#ready.push(f as F);
    if (this.#waiting.size === 0) this.#close(); // nothing left to time out
    this.#serve();
  };

  constructor(fs: Set<F>, options: StopOptions) {
    this.#all = fs;
    this.#options = options;
  }

  next(): Promise<IteratorResult<F, undefined>> {
    if (this.#all !== undefined) this.#start(this.#all);
    return new Promise((resolve, reject) => {
      this.#takers.push({ resolve, reject });
      this.#serve();
    });
  }

  return(): Promise<IteratorResult<F, undefined>> {
    this.#all = undefined;
    this.#close();
    this.#ready = [];
    this.#head = 0;
    this.#stopped = undefined;
    this.#serve();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #start(all: Set<F>): void {
    this.#all = undefined;
    const { signal } = this.#options;
    if (signal?.aborted) {
      this.#stopped = { reason: signal.reason };
      return this.#close();
    }
    for (const f of all) {
      if (f.done()) this.#ready.push(f);
      else this.#waiting.add(f);
    }
    if (this.#waiting.size === 0) return;
    const total = all.size;
    this.#disarm = arm(this.#options, (ms) =>
      new TimeoutError(
        `Cannot iterate asCompleted: ${this.#waiting.size} of ${total} futures not done ` +
          `after ${ms}ms`,
        ms,
      ), (reason) => {
      this.#stopped = { reason };
      this.#close();
      this.#serve();
    });
    for (const f of this.#waiting) f.addDoneCallback(this.#onDone);
  }

  /** Stop listening: remove every callback and the timer; finished futures stay yieldable. */
  #close(): void {
    this.#closed = true;
    this.#disarm?.();
    this.#disarm = undefined;
    for (const f of this.#waiting) f.removeDoneCallback(this.#onDone);
    this.#waiting.clear();
  }

  /** Answer pending `next()` calls: ready futures first, then the stop reason, then the end. */
  #serve(): void {
    while (this.#takers.length > 0) {
      if (this.#head < this.#ready.length) {
        const f = this.#ready[this.#head++];
        if (this.#head === this.#ready.length) (this.#ready = [], this.#head = 0);
        this.#takers.shift()!.resolve({ done: false, value: f });
      } else if (this.#stopped !== undefined) {
        const { reason } = this.#stopped;
        this.#stopped = undefined;
        this.#takers.shift()!.reject(reason);
      } else if (this.#closed || this.#waiting.size === 0) {
        this.#takers.shift()!.resolve({ done: true, value: undefined });
      } else return;
    }
  }
}
