/**
 * The futures API, what users call: `futures.submit`, `map`, `mapAsCompleted`, `mapReduce`,
 * `mapScan`, `wait`, `asCompleted`, `shutdown`, and the `Future` they return. Semantics follow
 * SCOOP and PEP 3148; timeouts are in milliseconds. Everything here is plain TypeScript: tasks
 * run wherever the installed `Backend` sends them.
 *
 * @example Parallel squares
 * ```ts
 * import { futures } from "./api.ts";
 *
 * export function square(x: number): number {
 *   return x * x;
 * }
 *
 * export async function main() {
 *   const f = futures.submit(square, 7);
 *   console.log(await f); // 49
 *   console.log(await futures.map(square, [1, 2, 3])); // [1, 4, 9]
 * }
 * ```
 *
 * @module
 */
import { describe } from "./_util.ts";
import { asCompleted } from "./as-completed.ts";
import { getBackend } from "./backend.ts";
import type { Future } from "./future.ts";
import { map } from "./map.ts";
import { mapAsCompleted } from "./map-as-completed.ts";
import { mapReduce } from "./map-reduce.ts";
import { mapScan } from "./map-scan.ts";
import { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, wait } from "./wait.ts";

export type { StopOptions } from "./_util.ts";
export { type DoneCallback, Future, isFuture, type ResultOptions } from "./future.ts";
export { type CallbackErrorReporter, setCallbackErrorReporter } from "./callback-errors.ts";
export { type IterablesOf, map, type MapOptions, MapResult } from "./map.ts";
export {
  DEFAULT_IN_FLIGHT,
  mapAsCompleted,
  type MapAsCompletedOptions,
} from "./map-as-completed.ts";
export { mapReduce, type MapReduceOptions } from "./map-reduce.ts";
export { mapScan, type MapScanOptions } from "./map-scan.ts";
export { asCompleted, type AsCompletedOptions } from "./as-completed.ts";
export {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  wait,
  type WaitOptions,
  type WaitResult,
} from "./wait.ts";

/**
 * Run `fn(...args)` somewhere in the grid and return its future at once.
 *
 * @param fn a registered task: an export of the entry module, or registered with `task()`.
 * @param args its arguments; they must be able to cross the wire.
 * @returns the task's future.
 * @throws {TypeError} `fn` is not a function or not a registered task, or an argument cannot
 *   cross the wire.
 * @throws {GridError} no grid runs in this thread.
 * @example Submit and await
 * ```ts
 * const f = futures.submit(square, 7);
 * console.log(await f); // 49
 * ```
 */
export function submit<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  ...args: A
): Future<Awaited<R>> {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot submit: fn must be a function, received ${describe(fn)}`);
  }
  return getBackend().submit(fn as unknown as (...args: never[]) => R | Promise<R>, args);
}

/**
 * Stop accepting work, cancel what is queued, and leave the grid. Idempotent.
 *
 * @returns once this peer has left the grid.
 * @throws {GridError} no grid runs in this thread.
 * @example Leave the grid
 * ```ts
 * await futures.shutdown();
 * ```
 */
export function shutdown(): Promise<void> {
  return getBackend().shutdown();
}

/** The type of `futures`: every function of this module, and the `returnWhen` constants. */
export interface Futures {
  /** Run one task; see `submit`. */
  readonly submit: typeof submit;
  /** Results in input order; see `map`. */
  readonly map: typeof map;
  /** Results in completion order, pulled lazily; see `mapAsCompleted`. */
  readonly mapAsCompleted: typeof mapAsCompleted;
  /** Distributed ordered tree reduction; see `mapReduce`. */
  readonly mapReduce: typeof mapReduce;
  /** Prefix reductions; see `mapScan`. */
  readonly mapScan: typeof mapScan;
  /** Wait for some or all futures; see `wait`. */
  readonly wait: typeof wait;
  /** The futures as they finish; see `asCompleted`. */
  readonly asCompleted: typeof asCompleted;
  /** Leave the grid; see `shutdown`. */
  readonly shutdown: typeof shutdown;
  /** `wait` returns at the first future done. */
  readonly FIRST_COMPLETED: typeof FIRST_COMPLETED;
  /** `wait` returns at the first failure. */
  readonly FIRST_EXCEPTION: typeof FIRST_EXCEPTION;
  /** `wait` returns when all are done. */
  readonly ALL_COMPLETED: typeof ALL_COMPLETED;
}

/**
 * The futures API as one frozen object, the way SCOOP users write it: `futures.map(...)`.
 *
 * @example Wait for the first failure
 * ```ts
 * const { done } = await futures.wait(fs, { returnWhen: futures.FIRST_EXCEPTION });
 * ```
 */
export const futures: Futures = Object.freeze(
  {
    submit,
    map,
    mapAsCompleted,
    mapReduce,
    mapScan,
    wait,
    asCompleted,
    shutdown,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    ALL_COMPLETED,
  } as const,
);
