/**
 * Standard builtins that travel by path (`Math.cos`, `JSON.stringify`, `parseFloat`…): the
 * sender names the path, the receiver finds the same function in its own globals. Only the
 * paths of this table resolve, so a name from the network can never reach `eval`, `Function`
 * or anything a module added to `globalThis`.
 *
 * @module
 */

/** Global functions that need no `this`. */
const GLOBALS = [
  "parseInt",
  "parseFloat",
  "isNaN",
  "isFinite",
  "encodeURI",
  "encodeURIComponent",
  "decodeURI",
  "decodeURIComponent",
  "String",
  "Number",
  "Boolean",
  "BigInt",
] as const;

/** Namespaces whose static functions need no `this`. */
const NAMESPACES = ["Math", "JSON", "Number", "String", "Object", "Array", "Reflect", "Date"];

interface Table {
  byPath: Map<string, unknown>;
  byFn: Map<unknown, string>;
}

let table: Table | undefined;

/** Built on first use, from this runtime's own globals. */
function builtins(): Table {
  if (table !== undefined) return table;
  const t: Table = { byPath: new Map(), byFn: new Map() };
  const add = (path: string, fn: unknown): void => {
    if (typeof fn !== "function") return;
    t.byPath.set(path, fn);
    if (!t.byFn.has(fn)) t.byFn.set(fn, path);
  };
  const g = globalThis as unknown as Record<string, Record<string, unknown>>;
  for (const name of GLOBALS) add(name, g[name]);
  for (const ns of NAMESPACES) {
    for (const key of Object.getOwnPropertyNames(g[ns])) {
      if (key !== "prototype" && key !== "constructor") add(`${ns}.${key}`, g[ns][key]);
    }
  }
  return (table = t);
}

/** The path of a builtin, or undefined when `fn` is not one of the table. */
export function builtinPath(fn: unknown): string | undefined {
  return builtins().byFn.get(fn);
}

/** The builtin at `path`, or undefined. */
export function builtinAt(path: string): unknown {
  return builtins().byPath.get(path);
}
