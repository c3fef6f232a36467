/**
 * The state a task can see about its peer: who it is, whether it is the origin, how many peers
 * are live, and the shared constants. Filled in by the executor worker; read by `grid` and
 * `shared` in mod.ts. Kept on `globalThis` so that two copies of this module share it.
 *
 * @module
 */
import { decodeValue, encodeValue } from "../codec/mod.ts";
import { GridError, TimeoutError } from "../errors.ts";

/** Peer-side hooks the constants need; installed by the executor worker. */
export interface ContextHooks {
  /** Broadcast constants; resolves once every current peer has them. */
  broadcastConsts(entries: [string, Uint8Array][]): Promise<void>;
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Context {
  peerId: string;
  isOrigin: boolean;
  size: number;
  /** Peers the launcher started for this job (on the origin; 1 elsewhere). */
  started: number;
  /** Calls of `waitForPeers` that wait for a size. */
  sizeWaiters: Set<{ n: number; resolve(): void; started?: boolean }>;
  consts: Map<string, unknown>;
  /** Constants that arrived but cannot be read on this peer, with why. */
  constErrors?: Map<string, Error>;
  waiters: Map<string, Set<Waiter>>;
  hooks?: ContextHooks;
  /** `main` as passed to run() inside a peer, for entries that do not export it. */
  main?: (args: string[]) => unknown;
}

const KEY = Symbol.for("scoop.context");
/** @internal The context of this thread. */
export const context: Context = ((globalThis as { [KEY]?: Context })[KEY] ??= {
  peerId: "",
  isOrigin: false,
  size: 0,
  started: 1,
  sizeWaiters: new Set(),
  consts: new Map(),
  waiters: new Map(),
});

/**
 * @internal The launcher counts fewer peers than it started (a host's could not start): the
 * calls of `waitForPeers()` that wait for every started peer wait for fewer.
 */
export function setStarted(n: number): void {
  context.started = n;
  for (const w of context.sizeWaiters) {
    if (!w.started) continue;
    w.n = n;
    if (context.size >= n) w.resolve();
  }
}

/** @internal The mesh reports how many peers are live. */
export function setSize(n: number): void {
  context.size = n;
  for (const w of context.sizeWaiters) if (n >= w.n) w.resolve();
}

/**
 * Wait until the grid has at least `n` live peers, this one included. The launcher runs
 * `main` as soon as the origin is up and the other peers join while it runs, taking work as
 * they come; a job that measures, or that must spread over every peer from its first task,
 * awaits this first.
 * @param n peers to wait for; by default, on the origin, every peer the launcher started
 *   (`-n`), elsewhere 1
 * @returns the grid's size then
 * @throws {TimeoutError} fewer than `n` peers were live after `timeout` ms
 */
export function waitForPeers(
  n?: number,
  options: { timeout?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const want = n ?? context.started;
  if (!Number.isSafeInteger(want) || want < 1) {
    return Promise.reject(
      new RangeError(
        `Cannot wait for peers: n must be a positive integer, got ${
          typeof n === "number" ? n : typeof n
        }`,
      ),
    );
  }
  const bad = badTimeout("Cannot wait for peers", options.timeout);
  if (bad !== undefined) return Promise.reject(bad);
  if (context.peerId === "") {
    return Promise.reject(
      new GridError("Cannot wait for peers: no grid is running in this thread"),
    );
  }
  if (context.size >= want) return Promise.resolve(context.size);
  return waitUntil<number>(
    options,
    (settle) => {
      const waiter = { n: want, started: n === undefined, resolve: () => settle(context.size) };
      context.sizeWaiters.add(waiter);
      return () => context.sizeWaiters.delete(waiter);
    },
    () =>
      new TimeoutError(
        `Only ${context.size} of ${want} peers were live after ${options.timeout}ms`,
        options.timeout!,
      ),
  );
}

/** The error for a `timeout` option that is not a finite number >= 0, if it is not. */
function badTimeout(action: string, timeout: number | undefined): RangeError | undefined {
  if (timeout === undefined || (Number.isFinite(timeout) && timeout >= 0)) return undefined;
  return new RangeError(`${action}: timeout must be a finite number >= 0, got ${timeout}`);
}

/**
 * A promise for what `register`'s waiter is settled with: `register` adds the waiter and
 * returns how to take it away again. Rejects with the signal's reason on abort, and with
 * `timedOut()` after `options.timeout` ms; the waiter is taken away however it ends.
 */
function waitUntil<T>(
  options: { timeout?: number; signal?: AbortSignal },
  register: (settle: (value: T) => void, fail: (error: Error) => void) => () => void,
  timedOut: () => Error,
): Promise<T> {
  const { timeout, signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = () => {
      unregister();
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const unregister = register((value) => {
      end();
      resolve(value);
    }, (error) => {
      end();
      reject(error);
    });
    const onAbort = () => {
      end();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        end();
        reject(timedOut());
      }, timeout);
    }
  });
}

/**
 * @internal A constant arrived that this peer cannot read (a function value it cannot resolve,
 * say): whoever waits for it, or asks later, gets `error` rather than waiting on.
 */
export function constFailed(name: string, error: Error): void {
  if (context.consts.has(name)) return;
  (context.constErrors ??= new Map()).set(name, error);
  const waiters = context.waiters.get(name);
  context.waiters.delete(name);
  for (const w of waiters ?? []) w.reject(error);
}

/** @internal A constant arrived from the grid (or was set here). Later copies are ignored. */
export function storeConst(name: string, value: unknown): void {
  if (context.consts.has(name)) return;
  context.consts.set(name, value);
  const waiters = context.waiters.get(name);
  if (waiters === undefined) return;
  context.waiters.delete(name);
  for (const w of waiters) w.resolve(value);
}

/**
 * Define read-only constants on every peer, late joiners included.
 * @throws {TypeError} a name is already defined, or a value cannot cross the wire
 */
export async function setConst(values: Record<string, unknown>): Promise<void> {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new TypeError(
      `Cannot set constants: expected an object such as { name: value }, got ${typeof values}`,
    );
  }
  const hooks = context.hooks;
  if (hooks === undefined) {
    throw new GridError("Cannot set constants: no grid is running in this thread");
  }
  const entries: [string, Uint8Array][] = [];
  for (const [name, value] of Object.entries(values)) {
    if (name.startsWith("scoop:")) {
      throw new TypeError(`Cannot set constant "${name}": the prefix "scoop:" is reserved`);
    }
    if (context.consts.has(name)) {
      throw new TypeError(`Cannot redefine constant "${name}": constants are read-only`);
    }
    entries.push([name, encodeValue(value, `constant ${name}`)]);
  }
  // Every peer, this one included, sees the same decoded copy.
  for (const [name, bytes] of entries) storeConst(name, decodeValue(bytes));
  await hooks.broadcastConsts(entries);
}

/**
 * Wait for the constant `name`; resolves with its value (which may be `undefined` or `null`).
 * @throws {TimeoutError} it did not arrive within `timeout` ms
 */
export function getConst<T = unknown>(
  name: string,
  options: { timeout?: number; signal?: AbortSignal } = {},
): Promise<T> {
  if (typeof name !== "string") {
    return Promise.reject(
      new TypeError(`Cannot get constant: name must be a string, got ${typeof name}`),
    );
  }
  if (context.consts.has(name)) return Promise.resolve(context.consts.get(name) as T);
  const failed = context.constErrors?.get(name);
  if (failed !== undefined) return Promise.reject(failed);
  const bad = badTimeout("Cannot get constant", options.timeout);
  if (bad !== undefined) return Promise.reject(bad);
  return waitUntil<T>(
    options,
    (settle, fail) => {
      const set = context.waiters.get(name) ?? new Set();
      context.waiters.set(name, set);
      const waiter: Waiter = { resolve: (value) => settle(value as T), reject: fail };
      set.add(waiter);
      return () => {
        set.delete(waiter);
        if (set.size === 0 && context.waiters.get(name) === set) context.waiters.delete(name);
      };
    },
    () =>
      new TimeoutError(
        `Constant "${name}" was not set within ${options.timeout}ms`,
        options.timeout!,
      ),
  );
}
