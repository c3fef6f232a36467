/**
 * `map`: submit a call per zipped item at once, get the results in input order.
 *
 * @module
 */
import { CancelledError, TimeoutError } from "../errors.ts";
import {
  arm,
  checkFunction,
  checkOptions,
  splitIterables,
  type StopOptions,
  zip,
} from "./_util.ts";
import { getBackend } from "./backend.ts";
import type { DoneCallback, Future } from "./future.ts";

/** Options of `map`, given as a plain object after the iterables. */
export type MapOptions = StopOptions;

/** The iterables `map`-like calls take for a function of parameters `A`. */
export type IterablesOf<A extends unknown[]> = { [K in keyof A]: Iterable<A[K]> };

/**
 * The calls of one `map`, running. Await it for every result in input order; iterate it with
 * `for await` for each result as soon as it and all earlier ones are available. Both views give
 * the same outcome: the first failure in input order (or a `TimeoutError`, or the abort reason)
 * rejects the promise and is thrown by the iterator after the results before it.
 *
 * @example Both views
 * ```ts
 * const squares = futures.map(square, [1, 2, 3]);
 * for await (const s of squares) console.log(s); // 1, 4, 9
 * console.log(await squares); // [1, 4, 9]
 * ```
 */
export class MapResult<T> implements PromiseLike<T[]>, AsyncIterable<T> {
  readonly #futures: Future<T>[];
  #listener: DoneCallback<T> | undefined; // one for every future, until finished
  #frontier = 0; // futures[0 .. frontier) finished with a value
  #cutoff: number; // lowest index known to have failed (futures.length if none)
  #stop: { reason: unknown } | undefined; // set once finished with an error
  #finished = false;
  #disarm: () => void = () => {};
  #wakers: (() => void)[] = [];
  #promise: Promise<T[]> | undefined;
  #settlePromise: (() => void) | undefined;

  /** @internal Built by `map()`, which validates and submits. */
  constructor(futures: Future<T>[], options: MapOptions) {
    this.#futures = futures;
    this.#cutoff = futures.length;
    // One shared callback, not one closure per call: a map of a million items stays small.
    this.#listener = (f: Future<T>) => this.#onDone(f);
    if (options.signal?.aborted) {
      this.#finish({ reason: options.signal.reason });
      return;
    }
    this.#disarm = arm(options, (ms) => {
      const left = futures.reduce((n, f) => n + (f.done() ? 0 : 1), 0);
      return new TimeoutError(
        `Cannot complete map: ${left} of ${futures.length} calls not done after ${ms}ms`,
        ms,
      );
    }, (reason) => this.#finish({ reason }));
    // Callbacks of futures already done run at once: the frontier advances as they are added.
    for (const f of futures) {
      if (this.#listener === undefined) break;
      f.addDoneCallback(this.#listener);
    }
    if (futures.length === 0) this.#finish(undefined);
  }

  /**
   * Attach handlers to the array of results, like `Promise.prototype.then`.
   *
   * @example Destructure the results
   * ```ts
   * const [a, b] = await futures.map(square, [1, 2]);
   * ```
   */
  then<R1 = T[], R2 = never>(
    onFulfilled?: ((value: T[]) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#promise ??= new Promise<T[]>((resolve, reject) => {
      this.#settlePromise = () =>
        this.#stop ? reject(this.#stop.reason) : resolve(this.#futures.map((f) => f._peek() as T));
      if (this.#finished) this.#settlePromise();
    });
    return this.#promise.then(onFulfilled, onRejected);
  }

  /**
   * Yield each result in input order, as soon as it and every earlier one are available.
   * Breaking out of the loop leaves the calls running (the map can still be awaited); call
   * `cancel()` to stop them.
   *
   * @example Stream results in order
   * ```ts
   * for await (const line of futures.map(render, pages)) out.write(line);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (let i = 0;; i++) {
      while (i >= this.#frontier && !this.#finished) {
        await new Promise<void>((wake) => this.#wakers.push(wake));
      }
      if (i < this.#frontier) yield this.#futures[i]._peek() as T;
      else if (this.#stop !== undefined) throw this.#stop.reason;
      else return;
    }
  }

  /**
   * Stop the map: cancel the calls not yet started and reject with `reason`.
   *
   * @param reason the rejection reason. @default a `CancelledError`
   * @returns `false` if the map had already finished.
   * @example Give up after a second
   * ```ts
   * const m = futures.map(search, candidates);
   * setTimeout(() => m.cancel(), 1000);
   * ```
   */
  cancel(reason: unknown = new CancelledError("Map was cancelled")): boolean {
    if (this.#finished) return false;
    this.#finish({ reason });
    return true;
  }

  #onDone(f: Future<T>): void {
    if (this.#finished) return;
    // Only a failure needs the call's index (rare, and the map finishes soon after).
    const i = f._failed() ? this.#futures.indexOf(f, this.#frontier) : -1;
    if (i >= 0 && i < this.#cutoff) {
      // Results after a failure are never used: cancel the calls not started yet.
      for (let j = i + 1; j < this.#cutoff; j++) this.#drop(j);
      this.#cutoff = i;
    }
    const fs = this.#futures;
    const before = this.#frontier;
    while (this.#frontier < fs.length && fs[this.#frontier].done()) {
      const g = fs[this.#frontier];
      if (g._failed()) return this.#finish({ reason: g._peek() });
      this.#frontier++;
    }
    if (this.#frontier === fs.length) this.#finish(undefined);
    else if (this.#frontier !== before) this.#wake();
  }

  #finish(stop: { reason: unknown } | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stop = stop;
    this.#disarm();
    if (stop !== undefined) {
      for (let j = this.#frontier; j < this.#futures.length; j++) this.#drop(j);
    }
    this.#listener = undefined;
    this.#settlePromise?.();
    this.#wake();
  }

  /** Detach from call `j` and cancel it if it has not started. */
  #drop(j: number): void {
    const f = this.#futures[j];
    if (this.#listener !== undefined && !f.done()) f.removeDoneCallback(this.#listener);
    f.cancel();
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}

/**
 * Call `fn` on the items of the iterables zipped together (the shortest wins), submitting every
 * call at once. Await the result for all values in input order, or iterate it. The first failure
 * in input order rejects it and cancels the calls not yet started; so do a timeout (a
 * `TimeoutError`) and an abort (`signal.reason`).
 *
 * @param fn a registered task.
 * @param iterable the items: `fn` is called on each. (For a task of several parameters,
 *   give one iterable per parameter: the next overload.)
 * @param options optionally `{ timeout, signal }`.
 * @returns a `MapResult`: a thenable of the array of results and an async iterable of them.
 * @throws {TypeError} `fn` is not a function or not a registered task, an argument is not
 *   iterable, or an argument cannot cross the wire (then the calls submitted are cancelled).
 * @throws {RangeError} `timeout` is not a finite number >= 0.
 * @example Squares in input order
 * ```ts
 * const squares = await futures.map(square, [1, 2, 3], { timeout: 10_000 }); // [1, 4, 9]
 * ```
 */
export function map<T, R>(
  fn: (item: T) => R,
  iterable: Iterable<T>,
  options?: MapOptions,
): MapResult<Awaited<R>>;
/**
 * `map` of a task of several parameters: one iterable per parameter of `fn`, zipped
 * together (the shortest wins); otherwise as the one-iterable form above.
 *
 * @param fn a registered task.
 * @param iterables one iterable per parameter of `fn`, then optionally
 *   `{ timeout, signal }`.
 * @example Pairwise sums
 * ```ts
 * const sums = await futures.map(add, [1, 2, 3], [10, 20]); // [11, 22]
 * ```
 */
export function map<A extends unknown[], R>(
  fn: (...args: A) => R,
  ...iterables: IterablesOf<A> | [...IterablesOf<A>, MapOptions]
): MapResult<Awaited<R>>;
export function map(fn: (...args: never[]) => unknown, ...rest: unknown[]): MapResult<unknown> {
  checkFunction("map", "fn", fn);
  const split = splitIterables<MapOptions>("map", rest, 2);
  const options = checkOptions("map", split.options, ["timeout", "signal"]);
  const backend = getBackend();
  const futures: Future<unknown>[] = [];
  try {
    for (const args of zip(split.iterables)) futures.push(backend.submit(fn, args));
  } catch (error) {
    for (const f of futures) f.cancel();
    throw error;
  }
  return new MapResult(futures, options);
}
