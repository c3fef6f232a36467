/**
 * Private helpers of the futures API: argument validation at the public boundary, the
 * trailing-options convention of `map`-like calls, `zip`, and arming a timeout plus an abort
 * listener that are always disarmed together.
 *
 * @module
 */

import { TimeoutError } from "../errors.ts";
import type { Future } from "./future.ts";

/** Options every long futures call accepts. */
export interface StopOptions {
  /** Give up after this many milliseconds. @default undefined (wait forever) */
  timeout?: number;
  /** Give up when this signal aborts; the call rejects with `signal.reason` unchanged. */
  signal?: AbortSignal;
}

/** Largest delay `setTimeout` honours; longer ones would fire at once, so they arm no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A short, safe description of a received value for error messages. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "function":
      return `function ${value.name || "(anonymous)"}`;
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "object": {
      if (value === null) return "null";
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name ? `an instance of ${name}` : "an object";
    }
    default:
      return String(value);
  }
}

/** @throws {TypeError} `fn` is not a function. */
export function checkFunction(action: string, what: string, fn: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot ${action}: ${what} must be a function, received ${describe(fn)}`);
  }
}

/**
 * Validate the options object of a call and return it (an empty one when absent).
 * @throws {TypeError} an option has the wrong type or is unknown.
 * @throws {RangeError} `timeout` is not a finite number >= 0.
 */
export function checkOptions<O extends StopOptions>(
  action: string,
  options: O | undefined,
  known: readonly string[],
): O {
  if (options === undefined) return {} as O;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action}: options must be an object, received ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Cannot ${action}: unknown option "${key}" (known: ${known.join(", ")})`,
      );
    }
  }
  const { timeout, signal } = options;
  if (timeout !== undefined) {
    if (typeof timeout !== "number") {
      throw new TypeError(
        `Cannot ${action}: \`timeout\` must be a number of milliseconds, received ${
          describe(timeout)
        }`,
      );
    }
    if (!Number.isFinite(timeout) || timeout < 0) {
      throw new RangeError(
        `Cannot ${action}: \`timeout\` must be a finite number >= 0, received ${timeout}`,
      );
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action}: \`signal\` must be an AbortSignal, received ${describe(signal)}`,
    );
  }
  return options;
}

/**
 * Validate `inFlight` (a positive integer) and apply its default.
 * @throws {RangeError} it is not an integer >= 1.
 */
export function checkInFlight(action: string, inFlight: unknown, fallback: number): number {
  if (inFlight === undefined) return fallback;
  if (typeof inFlight !== "number" || !Number.isInteger(inFlight) || inFlight < 1) {
    throw new RangeError(
      `Cannot ${action}: \`inFlight\` must be an integer >= 1, received ${describe(inFlight)}`,
    );
  }
  return inFlight;
}

/** A plain object (not iterable) ends the argument list of `map`-like calls as its options. */
function isOptionsObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  if (Symbol.iterator in value || Symbol.asyncIterator in value) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Split `...rest` into iterables and a trailing options object, and check the iterables.
 * `firstArg` is the 1-based position of the first iterable in the public call, for messages.
 * @throws {TypeError} no iterable is given, or an argument is not iterable.
 */
export function splitIterables<O>(
  action: string,
  rest: readonly unknown[],
  firstArg: number,
): { iterables: Iterable<unknown>[]; options: O | undefined } {
  const hasOptions = rest.length > 0 && isOptionsObject(rest[rest.length - 1]);
  const iterables = (hasOptions ? rest.slice(0, -1) : rest) as Iterable<unknown>[];
  if (iterables.length === 0) {
    throw new TypeError(`Cannot ${action}: give at least one iterable, received none`);
  }
  iterables.forEach((it, i) => {
    if (typeof (it as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== "function") {
      throw new TypeError(
        `Cannot ${action}: argument ${firstArg + i} must be iterable, received ${describe(it)}`,
      );
    }
  });
  return { iterables, options: hasOptions ? rest[rest.length - 1] as O : undefined };
}

/**
 * Zip iterables into argument lists, shortest wins. Stopping early (or one iterable running
 * out) closes the other iterators, as `for...of` would.
 */
export function* zip(iterables: readonly Iterable<unknown>[]): Generator<unknown[], void> {
  if (iterables.length === 1) {
    for (const x of iterables[0]) yield [x];
    return;
  }
  const iterators = iterables.map((it) => it[Symbol.iterator]());
  let spent = -1; // the iterator that ended or threw: it must not be closed
  try {
    for (;;) {
      const args = new Array<unknown>(iterators.length);
      for (let i = 0; i < iterators.length; i++) {
        spent = i;
        const step = iterators[i].next();
        if (step.done) return;
        args[i] = step.value;
      }
      spent = -1;
      yield args;
    }
  } finally {
    iterators.forEach((it, i) => i !== spent && it.return?.());
  }
}

/**
 * Arm `options.timeout` and `options.signal`: `stop` is called at most once, with a fresh
 * error from `timeoutError` or with `signal.reason`. Returns the function that disarms both;
 * callers must call it once they settle so no timer or listener outlives them. Callers check
 * `signal.aborted` first: an already-aborted signal never fires its listeners.
 */
export function arm(
  options: StopOptions,
  timeoutError: (timeout: number) => unknown,
  stop: (reason: unknown) => void,
): () => void {
  const { timeout, signal } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const disarm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  const onAbort = () => {
    disarm();
    stop(signal!.reason);
  };
  if (timeout !== undefined && timeout <= MAX_TIMER_MS) {
    timer = setTimeout(() => {
      disarm();
      stop(timeoutError(timeout));
    }, timeout);
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  return disarm;
}

/**
 * Resolve once `future` is done; reject with a `TimeoutError` or `signal.reason` first. Checks
 * the options; `timeout: 0` only looks.
 */
export function whenDone(
  future: Future<unknown>,
  action: string,
  options: StopOptions | undefined,
): Promise<void> | void {
  const what = `${action} future ${future.id}`;
  const { timeout, signal } = checkOptions(what, options, ["timeout", "signal"]);
  if (signal?.aborted) throw signal.reason;
  if (future.done()) return;
  const timedOut = (ms: number) => new TimeoutError(`Cannot ${what}: not done after ${ms}ms`, ms);
  if (timeout === 0) throw timedOut(0);
  return new Promise<void>((resolve, reject) => {
    const onDone = () => {
      disarm();
      resolve();
    };
    const disarm = arm({ timeout, signal }, timedOut, (reason) => {
      future.removeDoneCallback(onDone);
      reject(reason);
    });
    future.addDoneCallback(onDone);
  });
}
