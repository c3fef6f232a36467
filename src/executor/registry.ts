/**
 * The task registry: the functions every peer can find by name. Exports of the entry module
 * register under their export name; other modules register with `task(fn)` / `task(name, fn)`
 * at top level. Names that arrive from the network are looked up here, never evaluated.
 *
 * Besides registered tasks, two kinds of functions have a reference that every peer resolves:
 * standard builtins, named by path (`builtins.ts`), and partials of either — `partial(fn, …)`
 * or `fn.bind(null, …)` of a registered task, which records its target and bound arguments
 * here. A bound function cannot be looked into, so registration gives each task an own `bind`
 * that records what it binds (binding with a `this` other than null or undefined records
 * nothing: that partial stays local). A partial's target is named only when it is sent, so
 * `partial(fn, …)` works at the top level of the entry module, before its exports register.
 *
 * The registry lives on `globalThis` under a registered symbol so that two copies of this
 * module (one imported by path, one through a package) still share it.
 *
 * @module
 */

import { builtinAt, builtinPath } from "./builtins.ts";
import { SOURCE_PREFIX, sourceAt, sourceName, whyNotSource } from "./source.ts";

// deno-lint-ignore no-explicit-any
export type TaskFn = (...args: any[]) => unknown;

/** What a function value travels as: the name every peer resolves, and arguments bound to it. */
export interface FunctionRef {
  readonly name: string;
  readonly args: readonly unknown[];
}

/** A partial: the function it calls, and all the arguments bound to it. */
interface Partial {
  readonly target: TaskFn;
  readonly args: readonly unknown[];
}

interface Registry {
  byName: Map<string, TaskFn>;
  byFn: Map<TaskFn, string>;
  partials?: WeakMap<TaskFn, Partial>;
}

const KEY = Symbol.for("scoop.registry");
const registry: Registry = ((globalThis as { [KEY]?: Registry })[KEY] ??= {
  byName: new Map(),
  byFn: new Map(),
});
const partials = registry.partials ??= new WeakMap();

/** Names reserved for scoop's own tasks. */
export const INTERNAL_PREFIX = "scoop:";
/** Names of builtins: the prefix, then the path (`scoop:builtin:Math.cos`). */
export const BUILTIN_PREFIX = "scoop:builtin:";

const nativeBind = Function.prototype.bind;

/** Registered tasks' and partials' own `bind`: binding to no `this` makes a partial. */
function recordingBind(this: TaskFn, thisArg: unknown, ...args: unknown[]): TaskFn {
  return thisArg == null && (registry.byFn.has(this) || partials.has(this))
    ? bound(this, args)
    : nativeBind.call(this, thisArg, ...args);
}

function giveBind(fn: TaskFn): void {
  if (Object.hasOwn(fn, "bind") || !Object.isExtensible(fn)) return;
  Object.defineProperty(fn, "bind", { value: recordingBind, writable: true, configurable: true });
}

/** `fn` with `args` bound (after those it has, if it is a partial), recorded. */
function bound(fn: TaskFn, args: unknown[]): TaskFn {
  const b = nativeBind.call(fn, null, ...args) as TaskFn;
  const p = partials.get(fn);
  partials.set(
    b,
    p === undefined ? { target: fn, args } : {
      target: p.target,
      args: [...p.args, ...args],
    },
  );
  giveBind(b);
  return b;
}

/**
 * The name other peers know `fn` by, if it has one: registered, a builtin's path, or its
 * source's (see `source.ts`).
 */
function plainName(fn: TaskFn): string | undefined {
  const name = registry.byFn.get(fn);
  if (name !== undefined) return name;
  const path = builtinPath(fn);
  return path === undefined ? sourceName(fn) : BUILTIN_PREFIX + path;
}

function add(name: string, fn: TaskFn): void {
  const existing = registry.byName.get(name);
  if (existing === fn) return;
  if (existing !== undefined) {
    throw new TypeError(
      `Cannot register task "${name}": another function is already registered under that ` +
        `name (give one of them another name with task(name, fn))`,
    );
  }
  registry.byName.set(name, fn);
  if (!registry.byFn.has(fn)) registry.byFn.set(fn, name);
  giveBind(fn);
}

/**
 * Register a function as a task that every peer can run, so that it can be passed to
 * `futures.submit` / `futures.map`. Call it at the top level of a module the entry module
 * imports, so that every peer registers it too. Exports of the entry module need no call.
 *
 * @param nameOrFn the task's name, or the function (registered under `fn.name`)
 * @param fn the function, when a name is given
 * @returns the function itself, so `export const f = task(function f() {…})` works
 * @throws {TypeError} not a function, an anonymous function without a name, or a name taken
 *   by another function
 *
 * @example Register a helper from a library module
 * ```ts
 * import { task } from "./mod.ts";
 * export const square = task(function square(x: number) { return x * x; });
 * ```
 */
export function task<F extends TaskFn>(nameOrFn: string | F, fn?: F): F {
  const [name, f] = typeof nameOrFn === "string" ? [nameOrFn, fn] : [nameOrFn?.name, nameOrFn];
  if (typeof f !== "function") {
    throw new TypeError(`Cannot register task: expected a function, got ${typeof f}`);
  }
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      "Cannot register an anonymous function as a task: give it a name with task(name, fn)",
    );
  }
  if (name.startsWith(INTERNAL_PREFIX) && typeof nameOrFn === "string") {
    throw new TypeError(`Cannot register task "${name}": the prefix "scoop:" is reserved`);
  }
  add(name, f);
  return f as F;
}

/** @internal Register scoop's own tasks (names start with `scoop:`). */
export function internalTask(name: string, fn: TaskFn): void {
  add(INTERNAL_PREFIX + name, fn);
}

/**
 * Register every exported function of the entry module under its export name.
 * `main` is registered too (harmless: it is only ever started on the origin).
 */
export function registerModule(exports: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value === "function" && name !== "default") add(name, value as TaskFn);
  }
}

/**
 * The reference `fn` travels as — a registered task, a builtin or a partial of either — or
 * undefined when no other peer could find it.
 */
export function refOf(fn: TaskFn): FunctionRef | undefined {
  const p = partials.get(fn);
  const name = plainName(p?.target ?? fn);
  return name === undefined ? undefined : { name, args: p?.args ?? [] };
}

const FIX = "export it from the entry module, or register it with task() at the top level of a " +
  "module the entry imports";

/** Why `fn` cannot be sent or submitted, with the fix. */
export function unsendable(fn: TaskFn): string {
  const p = partials.get(fn);
  if (p !== undefined) {
    return `it is a partial of ${shown(p.target)}, which cannot travel: ${unsendable(p.target)}`;
  }
  if (fn.name.startsWith("bound ")) {
    return `it is not a registered task (${FIX}; a partial travels when made with ` +
      `partial(fn, …), or fn.bind(null, …) of a registered task)`;
  }
  return whyNotSource(fn);
}

function shown(fn: { name: string }): string {
  return fn.name ? `"${fn.name}"` : "an anonymous function";
}

/**
 * The registered name of `fn`.
 * @throws {TypeError} `fn` is not registered, naming it and the fix
 */
export function nameOf(fn: unknown): string {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot submit: expected a task function, got ${describe(fn)}`);
  }
  const name = plainName(fn as TaskFn);
  if (name !== undefined) return name;
  throw new TypeError(`Cannot submit ${shown(fn)}: ${unsendable(fn as TaskFn)}`);
}

/**
 * The task name and full arguments of calling `fn` with `args`: a partial's bound arguments
 * come first, as in the call itself.
 * @throws {TypeError} `fn` is neither a task, a builtin nor a partial of one
 */
export function callOf(fn: unknown, args: unknown[]): [string, unknown[]] {
  const p = typeof fn === "function" ? partials.get(fn as TaskFn) : undefined;
  if (p === undefined) return [nameOf(fn), args];
  const name = plainName(p.target);
  if (name === undefined) {
    throw new TypeError(`Cannot submit a partial of ${shown(p.target)}: ${unsendable(p.target)}`);
  }
  return [name, p.args.length ? [...p.args, ...args] : args];
}

/**
 * The function registered as `name` (or the builtin or source it names), or undefined.
 * @throws {Error} `name` is a source and this peer refuses sources (`--no-source`)
 */
export function lookup(name: string): TaskFn | undefined {
  const fn = registry.byName.get(name);
  if (fn !== undefined) return fn;
  if (name.startsWith(BUILTIN_PREFIX)) {
    return builtinAt(name.slice(BUILTIN_PREFIX.length)) as TaskFn | undefined;
  }
  return name.startsWith(SOURCE_PREFIX) ? sourceAt(name) : undefined;
}

/** The function a {@link FunctionRef} stands for on this peer, or undefined. */
export function fromRef(ref: FunctionRef): TaskFn | undefined {
  const fn = lookup(ref.name);
  return fn === undefined || ref.args.length === 0 ? fn : bound(fn, [...ref.args]);
}

/**
 * A partial of a task: `fn` with its first arguments fixed. It can be submitted, mapped,
 * passed to tasks and shared as a constant; the bound arguments travel like arguments.
 * `fn.bind(null, ...args)` of a registered task does the same.
 *
 * @param fn a registered task, a standard builtin (`Math.pow`) or a partial of one; it need
 *   not be registered yet (an export of the entry module registers once the module has loaded)
 * @param args the arguments to fix, first to last
 * @returns a function that calls `fn(...args, ...rest)`
 * @throws {TypeError} `fn` is not a function (one that no peer knows is refused when sent)
 *
 * @example A DEAP-style toolbox entry
 * ```ts
 * import { futures, partial } from "./mod.ts";
 * export function weighted(w: number, x: number) { return w * x; }
 * export async function main() {
 *   const double = partial(weighted, 2);
 *   console.log(await futures.map(double, [1, 2, 3])); // [2, 4, 6]
 * }
 * ```
 */
export function partial<A extends unknown[], B extends unknown[], R>(
  fn: (...args: [...A, ...B]) => R,
  ...args: A
): (...rest: B) => R;
export function partial(fn: TaskFn, ...args: unknown[]): TaskFn {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot make a partial: expected a task function, got ${describe(fn)}`);
  }
  return bound(fn, args);
}

/** Every registered name (for diagnostics). */
export function registeredNames(): string[] {
  return [...registry.byName.keys()];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  return typeof value;
}
