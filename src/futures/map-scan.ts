/**
 * `mapScan`: every prefix reduction of the mapped items.
 *
 * The maps run as tasks over the grid (`map`); the reductions run here, by calling `reduceFn`
 * directly, in input order, as each mapped value arrives. Why not as tasks: a scan is a chain
 * where every output needs the one before it. As tasks, that is either n - 1 round trips one
 * after another, or a parallel prefix scan with about 2n tasks, each shipping two values across
 * the wire and back — while the reduction is usually far cheaper than that trip (a sum, a
 * concatenation, a max). The n outputs have to come here anyway. So the expensive part, the
 * maps, is spread, and the cheap part costs one local call per item with no serialization. A
 * `reduceFn` that is itself expensive can submit tasks and await them: it runs as an ordinary
 * async function in this process.
 *
 * @module
 */
import { checkFunction, checkOptions, splitIterables, type StopOptions } from "./_util.ts";
import { type IterablesOf, map, type MapResult } from "./map.ts";

/** Options of `mapScan`, given as a plain object after the iterables. */
export interface MapScanOptions<M> extends StopOptions {
  /** A value reduced in front of the first item: the outputs become `[init⊕m0, init⊕m0⊕m1, …]`. */
  initial?: M;
}

type Task = (...args: never[]) => unknown;

/**
 * Map every item with `mapFn` (as tasks over the grid) and give every prefix reduction with
 * `reduceFn`: `[m0, m0⊕m1, m0⊕m1⊕m2, …]`, or with `initial`, `[init⊕m0, init⊕m0⊕m1, …]`; no items
 * give `[]`. `reduceFn` is called in this process, in input order (see the module doc), so it
 * need not be a registered task; it may be async.
 *
 * @param mapFn a registered task, called with the zipped items.
 * @param reduceFn `(accumulated, next) => accumulated`, associative or not: it is applied left
 *   to right.
 * @param iterable the items: `mapFn` is called on each. (For a task of several parameters,
 *   give one iterable per parameter: the next overload.)
 * @param options optionally `{ initial, timeout, signal }`.
 * @returns the prefix reductions, one per item.
 * @throws {TypeError} a function or iterable argument is invalid, or `mapFn` is not registered.
 * @throws {RangeError} `timeout` is not a finite number >= 0.
 * @throws {TimeoutError} the maps were not all done within `timeout` (the rest are cancelled).
 * @throws the first map error in input order, or `reduceFn`'s error (the maps not started are
 *   cancelled), or `signal.reason`.
 * @example Running totals
 * ```ts
 * const totals = await futures.mapScan(cost, add, orders); // [c0, c0+c1, c0+c1+c2, …]
 * ```
 */
export function mapScan<T, M>(
  mapFn: (item: T) => M | Promise<M>,
  reduceFn: (accumulated: M, next: M) => M | Promise<M>,
  iterable: Iterable<T>,
  options?: MapScanOptions<M>,
): Promise<M[]>;
/**
 * `mapScan` of a task of several parameters: one iterable per parameter of `mapFn`, zipped
 * together (the shortest wins); otherwise as the one-iterable form above.
 *
 * @param mapFn a registered task.
 * @param iterables one iterable per parameter of `mapFn`, then optionally
 *   `{ initial, timeout, signal }`.
 */
export function mapScan<A extends unknown[], M>(
  mapFn: (...args: A) => M | Promise<M>,
  reduceFn: (accumulated: M, next: M) => M | Promise<M>,
  ...iterables: IterablesOf<A> | [...IterablesOf<A>, MapScanOptions<M>]
): Promise<M[]>;
export async function mapScan(mapFn: Task, reduceFn: Task, ...rest: unknown[]): Promise<unknown[]> {
  const action = "mapScan";
  checkFunction(action, "mapFn", mapFn);
  checkFunction(action, "reduceFn", reduceFn);
  const split = splitIterables<MapScanOptions<unknown>>(action, rest, 3);
  const options = checkOptions(action, split.options, ["initial", "timeout", "signal"]);
  const { initial, timeout, signal } = options;
  const mapOptions: StopOptions = {};
  if (timeout !== undefined) mapOptions.timeout = timeout;
  if (signal !== undefined) mapOptions.signal = signal;
  const mapped = (map as (fn: Task, ...rest: unknown[]) => MapResult<unknown>)(
    mapFn,
    ...split.iterables,
    mapOptions,
  );
  const reduce = reduceFn as (acc: unknown, next: unknown) => unknown;
  const out: unknown[] = [];
  let first = !Object.hasOwn(options, "initial");
  let acc = initial;
  try {
    for await (const m of mapped) {
      acc = first ? m : await reduce(acc, m);
      first = false;
      out.push(acc);
    }
  } catch (error) {
    mapped.cancel(error); // reduceFn failed: stop the maps; a no-op if the map itself failed
    throw error;
  }
  return out;
}
