/**
 * `mapAsCompleted`: results in completion order, pulling the items lazily with a bounded
 * number of calls in flight, so that a generator of ten million items runs in flat memory.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import {
  arm,
  checkFunction,
  checkInFlight,
  checkOptions,
  splitIterables,
  type StopOptions,
  zip,
} from "./_util.ts";
import { getBackend } from "./backend.ts";
import type { Future } from "./future.ts";
import type { IterablesOf } from "./map.ts";

/**
 * How many calls `mapAsCompleted` and `mapReduce` keep in flight by default: enough to keep a
 * large grid busy (a few thousand cores, each stealing up to half a queue), few enough that the
 * results waiting to be consumed stay small.
 */
export const DEFAULT_IN_FLIGHT = 2 * 4096;

/** Options of `mapAsCompleted`, given as a plain object after the iterables. */
export interface MapAsCompletedOptions extends StopOptions {
  /**
   * Most calls submitted whose result the loop has not taken yet (running, queued, or done and
   * waiting to be yielded). Items are pulled from the iterables only below this bound.
   * @default DEFAULT_IN_FLIGHT (8192)
   */
  inFlight?: number;
}

/**
 * Call `fn` on the items of the iterables zipped together (the shortest wins) and yield the
 * results as the calls finish. Items are pulled lazily, at most `inFlight` calls at a time, from
 * the first `next()` on (the timeout counts from there too). A failed call makes the iterator
 * throw its error; that, a timeout, an abort or breaking out of the loop cancels the calls not
 * started and stops pulling items.
 *
 * @param fn a registered task.
 * @param iterable the items: `fn` is called on each. (For a task of several parameters,
 *   give one iterable per parameter: the next overload.)
 * @param options optionally `{ timeout, signal, inFlight }`.
 * @returns an async iterable of the results, in completion order.
 * @throws {TypeError} `fn` is not a function, an argument is not iterable, or an option has the
 *   wrong type; from the iterator: `fn` is not a registered task or an argument cannot cross the
 *   wire.
 * @throws {RangeError} `timeout` is not a finite number >= 0, or `inFlight` not an integer >= 1.
 * @throws {TimeoutError} from the iterator, when `timeout` expires first.
 * @example Stream a huge generator
 * ```ts
 * function* seeds() { for (let i = 0; i < 10_000_000; i++) yield i; }
 * let best = -Infinity;
 * for await (const score of futures.mapAsCompleted(simulate, seeds())) best = Math.max(best, score);
 * ```
 */
export function mapAsCompleted<T, R>(
  fn: (item: T) => R,
  iterable: Iterable<T>,
  options?: MapAsCompletedOptions,
): AsyncGenerator<Awaited<R>, void, undefined>;
/**
 * `mapAsCompleted` of a task of several parameters: one iterable per parameter of `fn`, zipped
 * together (the shortest wins); otherwise as the one-iterable form above.
 *
 * @param fn a registered task.
 * @param iterables one iterable per parameter of `fn`, then optionally
 *   `{ timeout, signal, inFlight }`.
 */
export function mapAsCompleted<A extends unknown[], R>(
  fn: (...args: A) => R,
  ...iterables: IterablesOf<A> | [...IterablesOf<A>, MapAsCompletedOptions]
): AsyncGenerator<Awaited<R>, void, undefined>;
export function mapAsCompleted(
  fn: (...args: never[]) => unknown,
  ...rest: unknown[]
): AsyncGenerator<unknown, void, undefined> {
  const action = "mapAsCompleted";
  checkFunction(action, "fn", fn);
  const split = splitIterables<MapAsCompletedOptions>(action, rest, 2);
  const options = checkOptions(action, split.options, ["timeout", "signal", "inFlight"]);
  const inFlight = checkInFlight(action, options.inFlight, DEFAULT_IN_FLIGHT);
  return run(fn, split.iterables, options, inFlight);
}

async function* run(
  fn: (...args: never[]) => unknown,
  iterables: Iterable<unknown>[],
  options: StopOptions,
  inFlight: number,
): AsyncGenerator<unknown, void, undefined> {
  if (options.signal?.aborted) throw options.signal.reason;
  const backend = getBackend();
  const source = zip(iterables);
  const pending = new Set<Future<unknown>>(); // submitted, not done; each has onDone attached
  let ready: Future<unknown>[] = []; // done, not yielded yet
  let head = 0;
  let exhausted = false;
  let stop: { reason: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onDone = (f: Future<unknown>) => {
    pending.delete(f);
    ready.push(f);
    notify();
  };
  const cancelPending = () => {
    for (const f of pending) {
      f.removeDoneCallback(onDone);
      f.cancel();
    }
    pending.clear();
  };
  const disarm = arm(options, (ms) =>
    new TimeoutError(
      `Cannot complete mapAsCompleted: ${pending.size} calls not done after ${ms}ms`,
      ms,
    ), (reason) => {
    stop = { reason };
    cancelPending();
    notify();
  });
  try {
    for (;;) {
      while (!exhausted && stop === undefined && pending.size + ready.length - head < inFlight) {
        const step = source.next();
        if (step.done) exhausted = true;
        else {
          const f = backend.submit(fn, step.value);
          pending.add(f);
          f.addDoneCallback(onDone); // at once if already done
        }
      }
      if (stop !== undefined) throw stop.reason;
      if (head < ready.length) {
        const f = ready[head];
        ready[head++] = undefined as never; // let the result go once yielded
        if (head === ready.length) (ready = [], head = 0);
        else if (head >= 1024 && head * 2 >= ready.length) (ready = ready.slice(head), head = 0);
        if (f._failed()) throw f._peek();
        yield f._peek();
      } else if (pending.size === 0) {
        return; // exhausted, everything yielded
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    disarm();
    cancelPending();
    source.return();
  }
}
