/**
 * `Future`: the handle of one submitted task, PEP 3148's future as a TypeScript thenable.
 *
 * States: PENDING → RUNNING → FINISHED (a value or an error), and PENDING → CANCELLED. A future
 * is one small object: its promise and its callback list are created only when someone asks,
 * because a job may create a million of them. A failed future that nobody awaits holds no
 * rejected promise, so it never raises an unhandled rejection.
 *
 * @module
 */
import { CancelledError } from "../errors.ts";
import { describe, type StopOptions, whenDone } from "./_util.ts";
import { reportCallbackError as report } from "./callback-errors.ts";

const PENDING = 0, RUNNING = 1, FINISHED = 2, FAILED = 3, CANCELLED = 4;
type State = typeof PENDING | typeof RUNNING | typeof FINISHED | typeof FAILED | typeof CANCELLED;

/** A function `addDoneCallback` calls with the future once it is done. */
export type DoneCallback<T> = (future: Future<T>) => void;

// Stored callbacks are typed without T, so that a Future<number> is also a Future<unknown>.
type Callback = (future: never) => void;
type Callbacks = Callback | Callback[] | undefined;

/** Options of `result()` and `exception()`. */
export type ResultOptions = StopOptions;

const BRAND = Symbol.for("scoop.future");
/**
 * Whether `value` is a `Future` (from any copy of this module).
 *
 * @example Tell futures apart from other thenables
 * ```ts
 * if (isFuture(x)) await x.result({ timeout: 100 });
 * ```
 */
export function isFuture(value: unknown): value is Future<unknown> {
  return (value as { [BRAND]?: unknown } | null)?.[BRAND] === true;
}

/**
 * Called whenever someone starts waiting on a pending future (`then`, `addDoneCallback`, and so
 * every `wait`, `asCompleted` and `map` built on them). The executor uses it to learn that the
 * running task is blocked on the grid, so its peer may start another task meanwhile. For a done
 * callback it may return a replacement that runs the callback in the waiting task's context, so
 * that what the callback waits on next is counted for that task too (promises do the same for
 * `await` on their own).
 */
export type WaitHook = <C>(future: Future<unknown>, callback?: C) => C | undefined;
/** A replacement callback made by the wait hook points at the original (for removal). */
export const ORIGINAL: unique symbol = Symbol.for("scoop.future.originalCallback");
let waitHook: WaitHook | undefined;

/** @internal Install the executor's wait hook (see `WaitHook`). */
export function _setWaitHook(hook: WaitHook | undefined): void {
  waitHook = hook;
}

/**
 * The handle of a task that runs somewhere in the grid. Await it (`await f`) for the task's
 * value; if the task threw, awaiting throws the task's error.
 *
 * @example Submit, then await
 * ```ts
 * const f = futures.submit(square, 7);
 * console.log(await f, f.done()); // 49 true
 * ```
 */
export class Future<T> implements PromiseLike<T> {
  /** This future's id, unique in the grid; it names the peer that owns the task. */
  readonly id: number;
  #state: State = PENDING;
  #outcome: unknown; // the value, or the error once FAILED or CANCELLED
  #onCancel: Callback | undefined;
  #callbacks: Callbacks;
  #promise: Promise<T> | undefined;

  /**
   * Create a pending future; a backend does it in `submit`.
   *
   * @param id the future's id.
   * @param onCancel called once by a successful `cancel()`, so the backend can pull the task
   *   from wherever it is queued.
   */
  constructor(id: number, onCancel?: (future: Future<T>) => void) {
    this.id = id;
    this.#onCancel = onCancel;
  }

  /** Marks futures across module copies (see `isFuture`). */
  get [BRAND](): true {
    return true;
  }

  /**
   * Attach handlers like `Promise.prototype.then`: `await f` gives the task's value or throws
   * its error (a `CancelledError` if it was cancelled).
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#noteWait();
    return this.#asPromise().then(onFulfilled, onRejected);
  }

  /** Attach a rejection handler, like `Promise.prototype.catch`. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    this.#noteWait();
    return this.#asPromise().catch(onRejected);
  }

  /** Run `onFinally` once the future is done, like `Promise.prototype.finally`. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    this.#noteWait();
    return this.#asPromise().finally(onFinally);
  }

  /**
   * Wait for the task's value.
   *
   * @param options `timeout` in milliseconds (0: only look), `signal` to give up on abort.
   * @returns the value.
   * @throws {TimeoutError} not done within `timeout` (the future keeps running).
   * @throws {CancelledError} the future was cancelled.
   * @throws the task's own error if it failed, or `signal.reason` on abort.
   * @example Wait at most 100 ms
   * ```ts
   * const v = await futures.submit(square, 7).result({ timeout: 100 });
   * ```
   */
  async result(options?: ResultOptions): Promise<T> {
    await whenDone(this, "get the result of", options);
    if (this.#state !== FINISHED) throw this.#outcome;
    return this.#outcome as T;
  }

  /**
   * Wait for the future and give its error: `undefined` if the task succeeded, the task's error
   * if it failed, a `CancelledError` if it was cancelled.
   *
   * @param options `timeout` in milliseconds (0: only look), `signal` to give up on abort.
   * @returns the error, or `undefined`.
   * @throws {TimeoutError} not done within `timeout`; `signal.reason` on abort.
   * @example Inspect a failure without try/catch
   * ```ts
   * const err = await f.exception({ timeout: 1000 });
   * if (err !== undefined) console.error("task failed:", err);
   * ```
   */
  async exception(options?: ResultOptions): Promise<unknown | undefined> {
    await whenDone(this, "get the exception of", options);
    return this.#state === FINISHED ? undefined : this.#outcome;
  }

  /** Whether the future is done: finished (with a value or an error) or cancelled. */
  done(): boolean {
    return this.#state >= FINISHED;
  }

  /** Whether the task is running now (started, not finished). */
  running(): boolean {
    return this.#state === RUNNING;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * Cancel the task if it has not started, wherever in the grid it is queued. A cancelled future
   * is done, and awaiting it throws a `CancelledError`.
   *
   * @returns `true` if this call cancelled it; `false` once it runs, is done, or was cancelled.
   * @example Cancel a task that has not started
   * ```ts
   * const f = futures.submit(slow);
   * if (f.cancel()) console.log("never ran");
   * ```
   */
  cancel(): boolean {
    if (this.#state !== PENDING) return false;
    const onCancel = this.#onCancel;
    const callbacks = this.#settle(
      CANCELLED,
      new CancelledError(`Future ${this.id} was cancelled before its task started`),
    );
    if (onCancel !== undefined) this.#call(onCancel);
    this.#dispatch(callbacks);
    return true;
  }

  /**
   * Call `callback(future)` once the future is done, at once if it already is. Callbacks run in
   * the order they were added; one that throws does not stop the others, and its error goes to
   * the reporter set with `setCallbackErrorReporter`.
   *
   * @param callback the function to call.
   * @throws {TypeError} `callback` is not a function.
   * @example React to completion
   * ```ts
   * f.addDoneCallback((f) => console.log(`future ${f.id} done`));
   * ```
   */
  addDoneCallback(callback: DoneCallback<T>): void {
    if (typeof callback !== "function") {
      throw new TypeError(
        `Cannot add a done callback: it must be a function, received ${describe(callback)}`,
      );
    }
    if (this.#state >= FINISHED) return this.#call(callback);
    if (waitHook !== undefined) callback = waitHook(this as Future<unknown>, callback) ?? callback;
    this._listen(callback);
  }

  /**
   * Add a done callback of a pending future without telling the wait hook.
   * @internal
   */
  _listen(callback: DoneCallback<T>): void {
    const cbs = this.#callbacks;
    if (cbs === undefined) this.#callbacks = callback;
    else if (typeof cbs === "function") this.#callbacks = [cbs, callback];
    else cbs.push(callback);
  }

  /**
   * Remove a callback added with `addDoneCallback` (its first occurrence) so that it is not
   * called: waiters that give up use it so a future does not keep them alive.
   *
   * @param callback the function to remove.
   * @returns whether it was found.
   * @example Stop listening
   * ```ts
   * f.addDoneCallback(onDone);
   * f.removeDoneCallback(onDone); // true
   * ```
   */
  removeDoneCallback(callback: DoneCallback<T>): boolean {
    const cbs = this.#callbacks;
    const same = (c: unknown) =>
      c === callback || (c as { [ORIGINAL]?: unknown } | undefined)?.[ORIGINAL] === callback;
    if (typeof cbs === "function" && same(cbs)) this.#callbacks = undefined;
    else if (typeof cbs === "function" || cbs === undefined) return false;
    else {
      const i = cbs.findIndex(same);
      if (i < 0) return false;
      cbs.splice(i, 1);
    }
    return true;
  }

  /**
   * Mark the task as started; the backend calls it before running the task.
   * @returns `true` if the task may run (the future is now RUNNING), `false` if it is done
   *   (cancelled or settled) and must not run.
   * @internal
   */
  _setRunning(): boolean {
    if (this.#state === PENDING) this.#state = RUNNING;
    return this.#state === RUNNING;
  }

  /**
   * Settle with the task's value. A future already done ignores it (duplicate results).
   * @returns whether this call settled the future.
   * @internal
   */
  _resolve(value: T): boolean {
    if (this.#state >= FINISHED) return false;
    this.#dispatch(this.#settle(FINISHED, value));
    return true;
  }

  /**
   * Settle with the task's error. A future already done ignores it (duplicate results).
   * @returns whether this call settled the future.
   * @internal
   */
  _reject(error: unknown): boolean {
    if (this.#state >= FINISHED) return false;
    this.#dispatch(this.#settle(FAILED, error));
    return true;
  }

  /** @internal Whether the future is done with an error (failed or cancelled). */
  _failed(): boolean {
    return this.#state >= FAILED;
  }

  /** @internal The value (if finished) or the error (if failed or cancelled), read now. */
  _peek(): unknown {
    return this.#outcome;
  }

  #settle(state: State, outcome: unknown): Callbacks {
    const callbacks = this.#callbacks;
    this.#state = state;
    this.#outcome = outcome;
    this.#onCancel = undefined;
    this.#callbacks = undefined;
    return callbacks;
  }

  #dispatch(callbacks: Callbacks): void {
    if (typeof callbacks === "function") this.#call(callbacks);
    else if (callbacks !== undefined) { for (const cb of callbacks) this.#call(cb); }
  }

  #call(callback: Callback): void {
    try {
      (callback as DoneCallback<T>)(this);
    } catch (error) {
      report(error, this);
    }
  }

  /** Tell the wait hook that someone waits on this future through a promise. */
  #noteWait(): void {
    if (waitHook !== undefined && this.#state < FINISHED) waitHook(this as Future<unknown>);
  }

  /** Created on first use; it always gets a handler at once, so it never rejects unhandled. */
  #asPromise(): Promise<T> {
    if (this.#promise !== undefined) return this.#promise;
    if (this.#state === FINISHED) return Promise.resolve(this.#outcome as T);
    if (this.#state >= FAILED) return Promise.reject(this.#outcome);
    return this.#promise = new Promise<T>((resolve, reject) => {
      this._listen((f) => f.#state === FINISHED ? resolve(f.#outcome as T) : reject(f.#outcome));
    });
  }
}
