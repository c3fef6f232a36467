/**
 * An in-process `Backend` for unit tests: runs each task in this thread, asynchronously, and
 * lets a test hold tasks in the queue, count calls, and wait for conditions (never for time).
 *
 * @module
 */
import { type Backend, setBackend } from "../../src/futures/backend.ts";
import { Future } from "../../src/futures/future.ts";

type Fn = (...args: never[]) => unknown;

interface Task {
  fn: Fn;
  args: unknown[];
  future: Future<unknown>;
}

/**
 * Runs tasks in FIFO order on a later macrotask (`setImmediate`) (so a fresh future is always seen PENDING).
 * `paused` keeps them queued until `release()`; a task that must stay RUNNING awaits a gate of
 * the test's own (`Promise.withResolvers`).
 *
 * @example
 * ```ts
 * using backend = installLocalBackend();
 * backend.paused = true;
 * const f = futures.submit(double, 2);
 * backend.release(1);
 * expect(await f).toBe(4);
 * ```
 */
export class LocalBackend implements Backend, Disposable {
  /** Calls submitted. */
  submitted = 0;
  /** Calls whose function was started. */
  started = 0;
  /** Futures submitted and not done yet (queued, running). */
  pending = 0;
  /** The highest `pending` ever seen. */
  maxPending = 0;
  /** Arguments of the calls started, in start order. */
  readonly calls: unknown[][] = [];
  /** How many times `shutdown()` was called. */
  shutdowns = 0;
  /** While true, tasks stay queued (PENDING) until `release()`. */
  paused = false;
  /** Called by `submit` before anything else; throw to refuse a call (like an unregistered task). */
  check: ((fn: Fn, args: unknown[]) => void) | undefined;
  readonly #queue: Task[] = [];
  #nextId = 1;
  #scheduled = false;
  readonly #waiters = new Set<() => void>();

  submit<T>(fn: (...args: never[]) => T | Promise<T>, args: unknown[]): Future<Awaited<T>> {
    this.check?.(fn, args);
    const task = { fn, args } as Task;
    const future = new Future<Awaited<T>>(this.#nextId++, () => this.#unqueue(task));
    task.future = future as Future<unknown>;
    this.submitted++;
    this.maxPending = Math.max(this.maxPending, ++this.pending);
    future.addDoneCallback(() => {
      this.pending--;
      this.#changed();
    });
    this.#queue.push(task);
    this.#schedule();
    this.#changed();
    return future;
  }

  shutdown(): Promise<void> {
    this.shutdowns++;
    for (const task of this.#queue.splice(0)) task.future.cancel();
    return Promise.resolve();
  }

  /** Tasks queued and not started. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Start up to `n` queued tasks now, even while paused. */
  release(n = Infinity): void {
    while (n-- > 0 && this.#queue.length > 0) this.#start(this.#queue.shift()!);
  }

  /** Stop holding tasks: run the queued ones and those submitted later. */
  resume(): void {
    this.paused = false;
    this.#schedule();
  }

  /** Resolves once `predicate()` holds; it is checked now and after every change. */
  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  /** Resolves once no submitted future is pending. */
  idle(): Promise<void> {
    return this.until(() => this.pending === 0);
  }

  [Symbol.dispose](): void {
    setBackend(undefined);
  }

  #schedule(): void {
    if (this.#scheduled || this.paused) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.paused) this.release();
    });
  }

  #unqueue(task: Task): void {
    const i = this.#queue.indexOf(task);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #start({ fn, args, future }: Task): void {
    if (!future._setRunning()) return;
    this.started++;
    this.calls.push(args);
    this.#changed();
    Promise.resolve()
      .then(() => (fn as (...args: unknown[]) => unknown)(...args))
      .then((value) => future._resolve(value), (error) => future._reject(error));
  }

  #changed(): void {
    for (const check of [...this.#waiters]) check();
  }
}

/**
 * Install a fresh `LocalBackend` as this thread's backend; disposing it removes it.
 *
 * @example
 * ```ts
 * using backend = installLocalBackend();
 * ```
 */
export function installLocalBackend(): LocalBackend {
  const backend = new LocalBackend();
  setBackend(backend);
  return backend;
}

/** One turn of the event loop (a macrotask), for letting queued work happen; not a delay. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
