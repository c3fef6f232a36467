/**
 * `mapReduce`: a distributed tree reduction that keeps left-to-right order.
 *
 * The items are kept as a linked list of segments, each covering a contiguous run of items:
 * a leaf is one mapped item (or the `initial` value, first), an inner segment the reduction of
 * two neighbours. A segment is either ready (its value is known) or pending (its task runs).
 * As soon as two adjacent segments are both ready, they are replaced by one pending segment
 * whose task is `reduceFn(left, right)`. So no two ready segments are ever adjacent, the list
 * holds at most twice as many segments as tasks in flight, and when nothing is in flight and
 * the items are exhausted one segment is left: the reduction of everything, in order. Items are
 * pulled lazily while fewer than `inFlight` tasks run, so memory stays flat for any length.
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
import type { DoneCallback, Future } from "./future.ts";
import type { IterablesOf } from "./map.ts";
import { DEFAULT_IN_FLIGHT } from "./map-as-completed.ts";

/** Options of `mapReduce`, given as a plain object after the iterables. */
export interface MapReduceOptions<M> extends StopOptions {
  /** A value reduced in front of the first item; given (the key present), 0 items are fine. */
  initial?: M;
  /**
   * Most tasks (maps and reductions) in flight before more items are pulled.
   * @default DEFAULT_IN_FLIGHT (8192)
   */
  inFlight?: number;
}

type Task = (...args: never[]) => unknown;

interface Segment {
  prev: Segment | undefined;
  next: Segment | undefined;
  value: unknown; // once ready
  future: Future<unknown> | undefined; // while pending
  listener: DoneCallback<unknown> | undefined; // while pending
  dead: boolean; // merged into a parent
}

/**
 * Map every item with `mapFn` and reduce the mapped values with `reduceFn`, both as tasks spread
 * over the grid: `reduceFn(reduceFn(m0, m1), m2)`, in some tree shape but always in input order,
 * so `reduceFn` must be associative but need not be commutative. With `initial`, it is reduced
 * in front: one item gives `reduceFn(initial, m0)`, none gives `initial`.
 *
 * @param mapFn a registered task, called with the zipped items.
 * @param reduceFn a registered task, called with two mapped or reduced values.
 * @param iterable the items: `mapFn` is called on each. (For a task of several parameters,
 *   give one iterable per parameter: the next overload.)
 * @param options optionally `{ initial, timeout, signal, inFlight }`.
 * @returns the reduction.
 * @throws {TypeError} a function or iterable argument is invalid, or a task is not registered.
 * @throws {RangeError} there are no items and no `initial`; or an option is out of range.
 * @throws {TimeoutError} `timeout` expired first (all tasks not started are cancelled).
 * @throws the first error a task threw (the others are cancelled), or `signal.reason`.
 * @example Sum of squares, and an order-sensitive concatenation
 * ```ts
 * const sum = await futures.mapReduce(square, add, range(1000));
 * const text = await futures.mapReduce(render, concat, pages, { initial: header });
 * ```
 */
export function mapReduce<T, M>(
  mapFn: (item: T) => M | Promise<M>,
  reduceFn: (left: M, right: M) => M | Promise<M>,
  iterable: Iterable<T>,
  options?: MapReduceOptions<M>,
): Promise<M>;
/**
 * `mapReduce` of a task of several parameters: one iterable per parameter of `mapFn`, zipped
 * together (the shortest wins); otherwise as the one-iterable form above.
 *
 * @param mapFn a registered task.
 * @param iterables one iterable per parameter of `mapFn`, then optionally
 *   `{ initial, timeout, signal, inFlight }`.
 */
export function mapReduce<A extends unknown[], M>(
  mapFn: (...args: A) => M | Promise<M>,
  reduceFn: (left: M, right: M) => M | Promise<M>,
  ...iterables: IterablesOf<A> | [...IterablesOf<A>, MapReduceOptions<M>]
): Promise<M>;
export function mapReduce(mapFn: Task, reduceFn: Task, ...rest: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const action = "mapReduce";
    checkFunction(action, "mapFn", mapFn);
    checkFunction(action, "reduceFn", reduceFn);
    const split = splitIterables<MapReduceOptions<unknown>>(action, rest, 3);
    const options = checkOptions(action, split.options, [
      "initial",
      "timeout",
      "signal",
      "inFlight",
    ]);
    const inFlight = checkInFlight(action, options.inFlight, DEFAULT_IN_FLIGHT);
    if (options.signal?.aborted) throw options.signal.reason;
    const tree = new Tree(mapFn, reduceFn, zip(split.iterables), inFlight, resolve, reject);
    if (Object.hasOwn(options, "initial")) tree.append(leaf(options.initial));
    tree.disarm = arm(options, (ms) =>
      new TimeoutError(
        `Cannot complete mapReduce: ${tree.running} tasks not done after ${ms}ms`,
        ms,
      ), (reason) => tree.fail(reason));
    tree.pump();
  });
}

function leaf(value: unknown): Segment {
  return {
    prev: undefined,
    next: undefined,
    value,
    future: undefined,
    listener: undefined,
    dead: false,
  };
}

function isReady(seg: Segment | undefined): seg is Segment {
  return seg !== undefined && !seg.dead && seg.future === undefined;
}

class Tree {
  head: Segment | undefined;
  tail: Segment | undefined;
  running = 0;
  disarm: () => void = () => {};
  #exhausted = false;
  #finished = false;
  #pumping = false;
  #events: Segment[] = []; // segments that just became ready
  readonly #backend = getBackend();

  constructor(
    readonly mapFn: Task,
    readonly reduceFn: Task,
    readonly source: Generator<unknown[], void>,
    readonly inFlight: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
  ) {}

  append(seg: Segment): void {
    seg.prev = this.tail;
    if (this.tail !== undefined) this.tail.next = seg;
    else this.head = seg;
    this.tail = seg;
  }

  /** Merge ready segments and pull items until nothing more can be done now. Never reentrant. */
  pump(): void {
    if (this.#pumping || this.#finished) return;
    this.#pumping = true;
    try {
      for (;;) {
        const seg = this.#events.pop();
        if (seg !== undefined) this.#tryMerge(seg);
        else if (!this.#exhausted && this.running < this.inFlight) this.#pull();
        else break;
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.#pumping = false;
    }
    if (!this.#finished && this.#exhausted && this.running === 0) this.#complete();
  }

  fail(reason: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.disarm();
    for (let seg = this.head; seg !== undefined; seg = seg.next) {
      if (seg.future === undefined) continue;
      seg.future.removeDoneCallback(seg.listener!);
      seg.future.cancel();
    }
    this.head = this.tail = undefined;
    this.source.return();
    this.reject(reason);
  }

  #pull(): void {
    const step = this.source.next();
    if (step.done) return void (this.#exhausted = true);
    const f = this.#backend.submit(this.mapFn, step.value);
    const seg = leaf(undefined);
    this.append(seg);
    this.#watch(seg, f);
  }

  #tryMerge(seg: Segment): void {
    if (!isReady(seg)) return; // merged already by its neighbour's event
    if (isReady(seg.prev)) this.#merge(seg.prev, seg);
    else if (isReady(seg.next)) this.#merge(seg, seg.next);
  }

  #merge(left: Segment, right: Segment): void {
    const parent = leaf(undefined);
    parent.prev = left.prev;
    parent.next = right.next;
    if (left.prev !== undefined) left.prev.next = parent;
    else this.head = parent;
    if (right.next !== undefined) right.next.prev = parent;
    else this.tail = parent;
    left.dead = right.dead = true;
    const f = this.#backend.submit(this.reduceFn, [left.value, right.value]);
    left.value = right.value = undefined;
    this.#watch(parent, f);
  }

  #watch(seg: Segment, f: Future<unknown>): void {
    this.running++;
    seg.future = f;
    seg.listener = (g) => {
      seg.future = seg.listener = undefined;
      this.running--;
      if (this.#finished) return;
      if (g._failed()) return this.fail(g._peek());
      seg.value = g._peek();
      this.#events.push(seg);
      this.pump();
    };
    f.addDoneCallback(seg.listener); // at once if already done: pump() then just queues it
  }

  #complete(): void {
    this.#finished = true;
    this.disarm();
    const { head } = this;
    this.head = this.tail = undefined;
    if (head === undefined) {
      this.reject(
        new RangeError("Cannot reduce an empty sequence: give an initial value ({ initial })"),
      );
    } else this.resolve(head.value);
  }
}
