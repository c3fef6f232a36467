/**
 * Functions that travel as their source: an arrow function or function expression that
 * captures nothing but globals (`(x) => x * x`, `function (a) { return Math.cos(a); }`).
 *
 * The sender reads the function's text (`Function.prototype.toString`: what the runtime
 * compiled, so TypeScript arrives without its types), parses it with acorn and finds its free
 * variables with eslint-scope. A free variable that names a global of this runtime (`Math`,
 * `console`, `JSON`…) is allowed; any other is a capture, and the function is refused naming
 * each one, with the fix (pass it as an argument). A method, a class, a native or bound
 * function, and an arrow that uses its enclosing `this` are refused too.
 *
 * A sendable function is named `scoop:source:<hash>` (the first 132 bits of its text's SHA-256). The
 * first time a thread names a source it shares the text once with the grid, as a shared
 * constant under that name: the constants' broadcast reaches every peer, late joiners
 * included, ahead of any task naming it on the same links. A peer compiles a source once, on
 * its first task, and keeps the function. Only peers of the same grid send sources (the key
 * gates every link, as it does the job's own code); a peer started with `--no-source`
 * neither sends nor compiles any.
 *
 * acorn and eslint-scope load on first use: threads that never see a lambda never pay for
 * them (about 15 ms to load, and 15 ms for the first analysis).
 *
 * @module
 */
import process from "node:process";
import type { TaskFn } from "./registry.ts";

/** Names of functions sent as source: the prefix, then the hash of the text. */
export const SOURCE_PREFIX = "scoop:source:";

/** What the analysis of one function found: its name, or why it cannot travel. */
type Verdict = { name: string; source: string } | { refused: string };

interface Sources {
  /** Whether this peer sends and compiles sources (`--no-source` clears it). */
  allowed: boolean;
  /** Shares a source with the grid (set by the executor); none in a thread without a grid. */
  share?: (name: string, source: string) => void;
  /** Texts this thread knows, by name: its own, and those the grid shared. */
  texts: Map<string, string>;
  /** Compiled sources, by name. */
  compiled: Map<string, TaskFn>;
  verdicts: WeakMap<TaskFn, Verdict>;
  /** The same, by text. */
  byText: Map<string, Verdict>;
}

const KEY = Symbol.for("scoop.sources");
const sources: Sources = ((globalThis as { [KEY]?: Sources })[KEY] ??= {
  allowed: true,
  texts: new Map(),
  compiled: new Map(),
  verdicts: new WeakMap(),
  byText: new Map(),
});

/** The environment variable that says `--no-source` to every peer a launcher starts. */
export const NO_SOURCE_ENV = "SCOOP_NO_SOURCE";

/** Whether this process was told `--no-source` (through {@link NO_SOURCE_ENV}). */
export function noSourceByEnv(): boolean {
  return process.env[NO_SOURCE_ENV] === "1";
}

const NO_SOURCE = "this peer was started with --no-source";
const FIX = "export it from the entry module or register it with task(), or start every peer " +
  "without --no-source";

/**
 * Set whether this thread sends and compiles sources, and how it shares one with the grid.
 * @internal called by the executor when it starts
 */
export function configureSources(
  options: { allowed?: boolean; share?: (name: string, source: string) => void },
): void {
  if (options.allowed !== undefined) sources.allowed = options.allowed;
  if (options.share !== undefined) sources.share = options.share;
}

/** A source the grid shared (a constant named {@link SOURCE_PREFIX}…). */
export function receiveSource(name: string, source: unknown): void {
  if (typeof source === "string" && !sources.texts.has(name)) sources.texts.set(name, source);
}

/**
 * The name `fn` travels by as source, shared with the grid on first use, or undefined when it
 * cannot travel (then {@link whyNotSource} says why).
 */
export function sourceName(fn: TaskFn): string | undefined {
  if (!sources.allowed) return undefined;
  const v = verdict(fn);
  if ("refused" in v) return undefined;
  if (!sources.texts.has(v.name)) {
    sources.texts.set(v.name, v.source);
    sources.share?.(v.name, v.source);
  }
  return v.name;
}

/** Why `fn` cannot travel as source, with the fix. */
export function whyNotSource(fn: TaskFn): string {
  if (!sources.allowed) return `${NO_SOURCE}: no function travels as its source (${FIX})`;
  const v = verdict(fn);
  return "refused" in v ? v.refused : "";
}

/**
 * The function a source name stands for, compiled on first use.
 * @throws {Error} this peer refuses sources (`--no-source`)
 * @returns undefined when no such source reached this peer
 */
export function sourceAt(name: string): TaskFn | undefined {
  const done = sources.compiled.get(name);
  if (done !== undefined) return done;
  if (!sources.allowed) {
    throw new Error(`${NO_SOURCE}: it runs no task sent as source (${FIX})`);
  }
  const text = sources.texts.get(name);
  if (text === undefined) return undefined;
  // Indirect eval: global scope, nothing of this module in reach; strict, as the module it came
  // from was.
  const fn = (0, eval)(`"use strict";(${text}\n)`) as TaskFn;
  if (typeof fn !== "function") throw new TypeError(`the source named ${name} is not a function`);
  sources.compiled.set(name, fn);
  return fn;
}

let analyses = 0;

/** @internal How many texts this thread has analysed (for tests). */
export function analysisCount(): number {
  return analyses;
}

/**
 * What `fn` is, analysed once per function object and once per text: a closure made afresh for
 * each submit (`xs.map((x) => submit((y) => y * 2, x))`) is read only the first time.
 */
function verdict(fn: TaskFn): Verdict {
  let v = sources.verdicts.get(fn);
  if (v !== undefined) return v;
  const text = Function.prototype.toString.call(fn);
  v = sources.byText.get(text);
  if (v === undefined) {
    sources.byText.set(text, v = analyse(text));
    analyses++;
  }
  sources.verdicts.set(fn, v);
  return v;
}

/** The ESTree nodes this module reads (acorn's output). */
interface Node {
  type: string;
  [key: string]: unknown;
}

interface Parsers {
  parse(text: string, options: object): Node;
  analyze(ast: Node, options: object): {
    globalScope: { through: { identifier: { name: string } }[] };
  };
  hash(text: string): string;
}

let parsers: Parsers | undefined;

function load(): Parsers {
  if (parsers !== undefined) return parsers;
  // Node's built-ins too, on first use: no thread pays for them at start.
  const builtin = (process as unknown as { getBuiltinModule(id: string): unknown })
    .getBuiltinModule;
  const { createRequire } = builtin("node:module") as typeof import("node:module");
  const crypto = builtin("node:crypto") as typeof import("node:crypto");
  const require = createRequire(import.meta.url);
  const acorn = require("acorn") as { parse: Parsers["parse"] };
  const scope = require("eslint-scope") as { analyze: Parsers["analyze"] };
  return parsers = {
    parse: acorn.parse,
    analyze: scope.analyze,
    hash: (text) => crypto.createHash("sha256").update(text).digest("base64url").slice(0, 22),
  };
}

const CAPTURE_FIX = "pass each as an argument instead: futures.map(partial((k, x) => …, k), xs)";

/**
 * The free names a source may use: the globals of ECMAScript and those Bun and Deno both have
 * (and each one's own namespace, for code that tests `typeof Deno`). Not every global of the
 * sender: a name like a Deno worker's `name`, or one inherited from `Object.prototype`, would
 * be taken for the module variable it shadows. An import that shadows one of these (`import {
 * setTimeout } from "node:timers/promises"`) cannot be told from the text: it runs the global.
 */
const GLOBALS = new Set(
  ("globalThis Infinity NaN undefined isFinite isNaN parseFloat parseInt decodeURI " +
    "decodeURIComponent encodeURI encodeURIComponent escape unescape AggregateError Array " +
    "ArrayBuffer Atomics BigInt BigInt64Array BigUint64Array Boolean DataView Date Error " +
    "EvalError FinalizationRegistry Float16Array Float32Array Float64Array Int8Array Int16Array " +
    "Int32Array Intl Iterator JSON Map Math Number Object Promise Proxy RangeError ReferenceError " +
    "Reflect RegExp Set SharedArrayBuffer String Symbol SyntaxError TypeError Uint8Array " +
    "Uint8ClampedArray Uint16Array Uint32Array URIError WeakMap WeakRef WeakSet " +
    "console performance crypto fetch setTimeout clearTimeout setInterval clearInterval " +
    "setImmediate clearImmediate queueMicrotask structuredClone reportError atob btoa URL " +
    "URLSearchParams TextEncoder TextDecoder AbortController AbortSignal Blob File FormData " +
    "Headers Request Response Event EventTarget CustomEvent DOMException WebAssembly " +
    "ReadableStream WritableStream TransformStream CompressionStream DecompressionStream " +
    "MessageChannel BroadcastChannel WebSocket navigator process Buffer Deno Bun").split(" "),
);

function analyse(text: string): Verdict {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    return { refused: "it is native or bound, so its source cannot travel" };
  }
  if (/^class\b/.test(text)) return { refused: "it is a class, which cannot be called as a task" };
  const { parse, analyze, hash } = load();
  let root: Node;
  const free = new Set<string>();
  try {
    const ast = parse(`(${text}\n)`, { ecmaVersion: "latest", sourceType: "script", ranges: true });
    root = (ast.body as Node[])[0].expression as Node;
    const { globalScope } = analyze(ast, { ecmaVersion: 2022, sourceType: "script" });
    for (const ref of globalScope.through) free.add(ref.identifier.name);
  } catch (err) {
    const method = /^(async\s*)?(\*\s*)?(get\s+|set\s+)?[\w$]+\s*\(/.test(text) &&
      !/^(async\s+)?function\b/.test(text);
    return {
      refused: method
        ? "it is a method: write it as an arrow function or a function expression to send it"
        : `its source does not compile on its own (${(err as Error).message})`,
    };
  }
  if (root.type !== "ArrowFunctionExpression" && root.type !== "FunctionExpression") {
    return { refused: "it is not an arrow function or a function expression" };
  }
  const captured = [...free].filter((name) => !GLOBALS.has(name));
  if (root.type === "ArrowFunctionExpression" && usesThis(root)) captured.unshift("this");
  if (captured.length > 0) {
    const list = captured.map((n) => `"${n}"`).join(", ");
    return {
      refused: `it closes over ${list}, which other peers do not have (${CAPTURE_FIX}; or ` +
        "export the function from the entry module)",
    };
  }
  return { name: SOURCE_PREFIX + hash(text), source: text };
}

/** Whether `node` uses `this` (or `super`) of the code around it. */
function usesThis(node: Node): boolean {
  if (node.type === "ThisExpression" || node.type === "Super") return true;
  // These have a `this` of their own.
  if (node.type === "FunctionExpression" || node.type === "FunctionDeclaration") return false;
  // So do a class's methods, fields and static blocks, but not its computed keys.
  if (node.type === "ClassBody") {
    return (node.body as Node[]).some((m) => m.computed === true && usesThis(m.key as Node));
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === "type" || value === null || typeof value !== "object") continue;
    const children = Array.isArray(value) ? value : [value];
    for (const child of children) {
      if (child !== null && typeof (child as Node).type === "string" && usesThis(child as Node)) {
        return true;
      }
    }
  }
  return false;
}
