/**
 * The task registry: the functions every peer can find by name. Exports of the entry module
 * register under their export name; other modules register with `task(fn)` / `task(name, fn)`
 * at top level. Names that arrive from the network are looked up here, never evaluated.
 *
 * The registry lives on `globalThis` under a registered symbol so that two copies of this
 * module (one imported by path, one through a package) still share it.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
export type TaskFn = (...args: any[]) => unknown;

interface Registry {
  byName: Map<string, TaskFn>;
  byFn: Map<TaskFn, string>;
}

const KEY = Symbol.for("scoop.registry");
const registry: Registry = ((globalThis as { [KEY]?: Registry })[KEY] ??= {
  byName: new Map(),
  byFn: new Map(),
});

/** Names reserved for scoop's own tasks. */
export const INTERNAL_PREFIX = "scoop:";

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
 * The registered name of `fn`.
 * @throws {TypeError} `fn` is not registered, naming it and the fix
 */
export function nameOf(fn: unknown): string {
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot submit: expected a task function, got ${describe(fn)}`);
  }
  const name = registry.byFn.get(fn as TaskFn);
  if (name !== undefined) return name;
  const shown = fn.name ? `"${fn.name}"` : "an anonymous function";
  throw new TypeError(
    `Cannot submit ${shown}: it is not a registered task (export it from the entry module, ` +
      `or register it with task() at the top level of a module the entry imports; closures ` +
      `cannot be sent)`,
  );
}

/** The function registered as `name`, or undefined. */
export function lookup(name: string): TaskFn | undefined {
  return registry.byName.get(name);
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
