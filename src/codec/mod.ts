/**
 * The wire codec: MessagePack (msgpackr) in structured-clone mode.
 *
 * Two entry points:
 * - {@link encodeValue} / {@link decodeValue} carry user values (task arguments,
 *   results, constants, errors). Every type SPEC §2 lists survives the trip:
 *   `undefined`, `NaN`, `-0`, `±Infinity`, BigInt, Map, Set, Date, RegExp,
 *   ArrayBuffer and every typed array (as raw bytes; decoded into a fresh,
 *   aligned buffer), Error (name, message, remote stack, cause, own fields),
 *   shared and cyclic references. Anything that would arrive changed (a
 *   function, a symbol, a class instance, a WeakMap, a Promise…) is refused at
 *   encode time with a `TypeError` naming the path to the bad value.
 * - {@link encodeFrame} / {@link decodeFrame} carry the mesh's own messages:
 *   plain arrays of numbers, strings and byte strings, so they use a leaner
 *   packer without reference tracking. A malformed frame from a peer throws
 *   {@link ProtocolError}, never anything else.
 *
 * msgpackr was chosen over cbor-x after measuring both on Bun (bench/RESULTS.md,
 * "Codec choice"): equal on scalars and typed arrays, and about twice as fast
 * on arrays of records, which is what `futures.map` results look like.
 *
 * @module
 */
// msgpackr's plain entry (what "msgpackr/pack" resolves to), not its Node one, which also loads
// its stream classes and the optional native string extractor: 11 ms to import on Bun instead
// of 36, and 15 instead of 68 on Deno, in every thread of every peer (bench/RESULTS.md).
import process from "node:process";
import { ProtocolError } from "../errors.ts";
import { fromRef, type FunctionRef, refOf, type TaskFn, unsendable } from "../executor/registry.ts";

type Msgpackr = typeof import("msgpackr/pack");

/**
 * msgpackr's plain entry (`index.js`, what "msgpackr/pack" resolves to), found by Node's
 * resolution from this file and loaded synchronously: so it loads wherever a `node_modules`
 * holds it, even where the runtime resolves no package name (Deno running an app outside any
 * project, with no config beside it, that imports a clone's `mod.ts` by path). Else (no
 * `node_modules`: a JSR install), by its package name.
 */
function requireMsgpackr(): Msgpackr | undefined {
  try {
    const builtin = (process as unknown as { getBuiltinModule(id: string): unknown })
      .getBuiltinModule;
    const { createRequire } = builtin("node:module") as typeof import("node:module");
    const nodeRequire = createRequire(import.meta.url);
    const main = nodeRequire.resolve("msgpackr"); // …/msgpackr/dist/node.cjs
    return nodeRequire(main.replace(/[\\/]dist[\\/][^\\/]*$/, "/index.js")) as Msgpackr;
  } catch {
    return undefined;
  }
}

const { addExtension, Packr } = requireMsgpackr() ?? await import("msgpackr/pack");

/** Extension type codes private to this codec (msgpackr reserves 0x69–0x7f and a few more). */
const EXT_ERROR = 0x40;
const EXT_NEG_ZERO = 0x41;
const EXT_FUNCTION = 0x46; // msgpackr takes 0x42 (large BigInt), 0x52, 0x62 and 0x65

/** Marker standing in for `-0`, which MessagePack integers cannot express. */
class NegativeZero {}

const ERROR_CLASSES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/** The wire form of an Error: [name, message, stack, hasCause, cause, own fields]. */
type ErrorWire = [string, string, string | undefined, boolean, unknown, Record<string, unknown>];

addExtension({
  Class: NegativeZero,
  type: EXT_NEG_ZERO,
  pack: () => new Uint8Array(0),
  unpack: () => -0,
});

addExtension({
  Class: Error,
  type: EXT_ERROR,
  write(error: Error): ErrorWire {
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(error)) {
      if (key !== "cause") fields[key] = (error as unknown as Record<string, unknown>)[key];
    }
    const hasCause = Object.hasOwn(error, "cause");
    return [
      String(error.name),
      String(error.message),
      typeof error.stack === "string" ? error.stack : undefined,
      hasCause,
      hasCause ? error.cause : undefined,
      fields,
    ];
  },
  read(wire: ErrorWire): Error {
    if (!Array.isArray(wire) || wire.length !== 6) {
      throw new ProtocolError("malformed Error value on the wire");
    }
    const [name, message, stack, hasCause, cause, fields] = wire;
    const Class = ERROR_CLASSES[name] ?? Error;
    const error = hasCause ? new Class(message, { cause }) : new Class(message);
    if (error.name !== name) {
      Object.defineProperty(error, "name", {
        value: name,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    Object.defineProperty(error, "stack", {
      value: stack ?? `${name}: ${message}`,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    if (fields && typeof fields === "object") Object.assign(error, fields);
    return error;
  },
});

/** A function on the wire: [name, bound arguments] (see `executor/registry.ts`). */
class FunctionWire {
  constructor(readonly ref: FunctionRef) {}
}

addExtension({
  Class: FunctionWire,
  type: EXT_FUNCTION,
  write: ({ ref }: FunctionWire) => [ref.name, markNegativeZeros(ref.args)],
  read(wire: [string, unknown[]]): TaskFn {
    if (!Array.isArray(wire) || typeof wire[0] !== "string" || !Array.isArray(wire[1])) {
      throw new ProtocolError("malformed function value on the wire");
    }
    const fn = fromRef({ name: wire[0], args: wire[1] });
    if (fn === undefined) {
      throw new ProtocolError(`no task "${wire[0]}" on this peer for a function value`);
    }
    return fn;
  },
});

const valuePackr = new Packr({ structuredClone: true, moreTypes: true, useRecords: true });
// Reached for functions only, after `walk` has checked that each has a reference.
(valuePackr as unknown as { writeFunction(fn: TaskFn): FunctionWire }).writeFunction = (fn) =>
  new FunctionWire(refOf(fn)!);
const framePackr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

/** Result of walking a value before encoding it. */
const enum Walk {
  Plain = 0,
  HasNegativeZero = 1,
}

const TypedArray = Object.getPrototypeOf(Uint8Array);

/** Why an object would not survive the trip, or `undefined` when it would. */
function refusal(value: object): string | undefined {
  if (value instanceof Promise) {
    return "a Promise cannot cross the wire; await it first and send its value";
  }
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return `a ${value.constructor.name} cannot cross the wire; send a Map or Set instead`;
  }
  if (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer) {
    return "a SharedArrayBuffer cannot be shared across peers; copy it into an ArrayBuffer";
  }
  const name = (value as { constructor?: { name?: string } }).constructor?.name || "(anonymous)";
  return `an instance of class ${name} would lose its prototype on the wire; send a plain ` +
    "object with its fields (e.g. { ...value }) and rebuild it in the task";
}

function describePath(path: (string | number)[], root: string): string {
  let out = root;
  for (const part of path) {
    out += typeof part === "number"
      ? `[${part}]`
      : /^[A-Za-z_$][\w$]*$/.test(part)
      ? `.${part}`
      : `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** Bytes of binary data (typed arrays, buffers) the last {@link walk} met. */
let walkedBytes = 0;

/**
 * A value with at least this many bytes of binary data is encoded straight into shared memory:
 * threads then pass the encoding on without copying it (see `scheduler/block.ts`).
 */
const SHARED_ENCODING_MIN = 64 * 1024;
/** Room for the rest of such a value; more spills into a buffer msgpackr grows (a copy). */
const SHARED_ENCODING_SLACK = 64 * 1024;

/** A buffer of the kind msgpackr writes to: a Node Buffer where there is one (its string writes). */
const NodeBuffer = (globalThis as { Buffer?: { from(b: ArrayBufferLike): Uint8Array } }).Buffer;
const packTarget = (memory: ArrayBufferLike): Uint8Array =>
  NodeBuffer ? NodeBuffer.from(memory) : new Uint8Array(memory);

/** Encode `value`, which holds `binaryBytes` of binary data, into a SharedArrayBuffer. */
function packLarge(value: unknown, binaryBytes: number): Uint8Array {
  valuePackr.useBuffer(packTarget(new SharedArrayBuffer(binaryBytes + SHARED_ENCODING_SLACK)));
  try {
    return valuePackr.pack(value);
  } finally {
    // Later (small) values go to a buffer of their own again, not after this one.
    valuePackr.useBuffer(packTarget(new ArrayBuffer(8192)));
  }
}

/**
 * Checks that `root` can be sent, throwing a `TypeError` naming the first bad
 * value. Returns whether a `-0` needs the slow path.
 */
function walk(root: unknown, what: string): Walk {
  let result = Walk.Plain;
  // Counted here and stored at the end: naming a function may encode its source (a walk of
  // its own) in the middle of this one.
  let bytes = 0;
  const seen = new Set<object>();
  const path: (string | number)[] = [];
  const fail = (reason: string): never => {
    throw new TypeError(`Cannot send ${describePath(path, what)}: ${reason}`);
  };
  const visit = (value: unknown): void => {
    switch (typeof value) {
      case "number":
        if (value === 0 && 1 / value < 0) result = Walk.HasNegativeZero;
        return;
      case "string":
      case "boolean":
      case "bigint":
      case "undefined":
        return;
      case "function": {
        const ref = refOf(value as TaskFn);
        if (ref === undefined) {
          return fail(`a function cannot cross the wire: ${unsendable(value as TaskFn)}`);
        }
        for (let i = 0; i < ref.args.length; i++) {
          path.push(`<bound ${i}>`);
          visit(ref.args[i]);
          path.pop();
        }
        return;
      }
      case "symbol":
        return fail("a symbol cannot cross the wire; send a string instead");
    }
    if (value === null) return;
    const obj = value as object;
    if (seen.has(obj)) return;
    seen.add(obj);
    const proto = Object.getPrototypeOf(obj);
    if (Array.isArray(obj)) {
      if (proto !== Array.prototype) fail(refusal(obj)!);
      for (let i = 0; i < obj.length; i++) {
        path.push(i);
        visit(obj[i]);
        path.pop();
      }
    } else if (proto === Object.prototype || proto === null) {
      for (const key in obj) {
        path.push(key);
        visit((obj as Record<string, unknown>)[key]);
        path.pop();
      }
    } else if (obj instanceof TypedArray || obj instanceof DataView) {
      bytes += (obj as ArrayBufferView).byteLength;
      return;
    } else if (obj instanceof ArrayBuffer) {
      bytes += obj.byteLength;
      return;
    } else if (obj instanceof Date || obj instanceof RegExp) {
      return;
    } else if (obj instanceof Map) {
      let i = 0;
      for (const [k, v] of obj) {
        path.push(`<Map key ${i}>`);
        visit(k);
        path.pop();
        path.push(typeof k === "string" || typeof k === "number" ? k : `<Map value ${i}>`);
        visit(v);
        path.pop();
        i++;
      }
    } else if (obj instanceof Set) {
      let i = 0;
      for (const v of obj) {
        path.push(`<Set item ${i++}>`);
        visit(v);
        path.pop();
      }
    } else if (obj instanceof Error) {
      if (Object.hasOwn(obj, "cause")) {
        path.push("cause");
        visit(obj.cause);
        path.pop();
      }
      for (const key of Object.keys(obj)) {
        path.push(key);
        visit((obj as unknown as Record<string, unknown>)[key]);
        path.pop();
      }
    } else {
      fail(refusal(obj)!);
    }
  };
  visit(root);
  walkedBytes = bytes;
  return result;
}

/**
 * Copies the containers of `value`, replacing every `-0` by a marker the codec
 * encodes as such. Shared and cyclic references are preserved.
 */
function markNegativeZeros(value: unknown, memo = new Map<object, unknown>()): unknown {
  if (typeof value === "number") return value === 0 && 1 / value < 0 ? new NegativeZero() : value;
  if (value === null || typeof value !== "object") return value;
  if (memo.has(value)) return memo.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    memo.set(value, out);
    for (let i = 0; i < value.length; i++) out[i] = markNegativeZeros(value[i], memo);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = Object.create(proto);
    memo.set(value, out);
    for (const key in value) {
      out[key] = markNegativeZeros((value as Record<string, unknown>)[key], memo);
    }
    return out;
  }
  if (value instanceof Map) {
    const out = new Map();
    memo.set(value, out);
    for (const [k, v] of value) out.set(markNegativeZeros(k, memo), markNegativeZeros(v, memo));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    memo.set(value, out);
    for (const v of value) out.add(markNegativeZeros(v, memo));
    return out;
  }
  if (value instanceof Error) {
    const Class = value.constructor as ErrorConstructor;
    const out = Object.hasOwn(value, "cause")
      ? new Class(value.message, { cause: markNegativeZeros(value.cause, memo) })
      : new Class(value.message);
    memo.set(value, out);
    Object.defineProperty(out, "name", { value: value.name, configurable: true, writable: true });
    Object.defineProperty(out, "stack", { value: value.stack, configurable: true, writable: true });
    for (const key of Object.keys(value)) {
      (out as unknown as Record<string, unknown>)[key] = markNegativeZeros(
        (value as unknown as Record<string, unknown>)[key],
        memo,
      );
    }
    return out;
  }
  return value; // typed arrays, Dates, RegExps, ArrayBuffers keep -0 on their own
}

/**
 * Encodes a user value for the wire.
 *
 * @param value the value to send
 * @param what how to name it in an error, e.g. `"args"` gives
 *   `Cannot send args[1].onDone: a function cannot cross the wire; …`
 * @throws {TypeError} when the value (or anything inside it) cannot be sent
 */
export function encodeValue(value: unknown, what = "value"): Uint8Array {
  // Fast path for the commonest shapes: a scalar, or a short array of scalars.
  if (typeof value !== "object" || value === null) {
    if (walk(value, what) === Walk.HasNegativeZero) value = new NegativeZero();
    return valuePackr.pack(value);
  }
  if (walk(value, what) === Walk.HasNegativeZero) value = markNegativeZeros(value);
  if (walkedBytes >= SHARED_ENCODING_MIN) return packLarge(value, walkedBytes);
  return valuePackr.pack(value);
}

/**
 * Decodes a value made by {@link encodeValue}.
 *
 * @throws {ProtocolError} when the bytes are not a valid encoding
 */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return valuePackr.unpack(bytes);
  } catch (err) {
    throw new ProtocolError(`malformed value on the wire (${(err as Error).message})`);
  }
}

/** Encodes one mesh frame: a list of protocol messages. */
export function encodeFrame(messages: unknown[]): Uint8Array {
  return framePackr.pack(messages);
}

/** Byte strings at least this long travel after a frame's head, not copied into it. */
export const OUT_OF_BAND_MIN = 64 * 1024;
/** First byte of a frame with out-of-band parts: 0xc1 never starts MessagePack. */
const OOB_FRAME = 0xc1;
/** The key of the object that stands for out-of-band part `n` in a frame's head. */
const OOB_KEY = "\u0000part";
/** How deep messages nest byte strings (frame, message, list, block, column). */
const OOB_DEPTH = 6;

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** `v` with every large byte string moved to `parts` (copies only what changes). */
function lift(v: unknown, parts: Uint8Array[], depth: number): unknown {
  // The same depth limit as `land`: what it would not replace must not be lifted.
  if (typeof v !== "object" || v === null || depth >= OOB_DEPTH) return v;
  if (v instanceof Uint8Array) {
    if (v.byteLength < OUT_OF_BAND_MIN) return v;
    parts.push(v);
    return { [OOB_KEY]: parts.length - 1 };
  }
  if (ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = lift(v[i], parts, depth + 1);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  let out: Record<string, unknown> | undefined;
  for (const k in v) {
    const x = lift(v[k], parts, depth + 1);
    if (x !== v[k]) (out ??= { ...v })[k] = x;
  }
  return out ?? v;
}

/** `v` with every stand-in for an out-of-band part replaced by that part. */
function land(v: unknown, parts: Uint8Array[], depth: number): unknown {
  if (typeof v !== "object" || v === null || depth >= OOB_DEPTH || ArrayBuffer.isView(v)) {
    return v;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = land(v[i], parts, depth + 1);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (OOB_KEY in o) {
    const n = o[OOB_KEY];
    if (typeof n !== "number" || !Number.isInteger(n) || parts[n] === undefined) {
      throw new ProtocolError(`malformed frame (no out-of-band part ${String(n)})`);
    }
    return parts[n];
  }
  for (const k in o) o[k] = land(o[k], parts, depth + 1);
  return o;
}

/**
 * Encodes one mesh frame as pieces to send back to back. Byte strings of
 * {@link OUT_OF_BAND_MIN} bytes or more are not copied into the encoding: they follow the
 * frame's head as pieces of their own (the head, `0xc1`, its length and the MessagePack of
 * `[messages, part lengths]`, names each by index). Without such strings the frame is the
 * plain MessagePack of {@link encodeFrame}, in one piece.
 */
export function encodeFrameParts(messages: unknown[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const lifted = lift(messages, parts, 0);
  if (parts.length === 0) return [framePackr.pack(messages)];
  const head = framePackr.pack([lifted, parts.map((p) => p.byteLength)]);
  const first = new Uint8Array(5 + head.byteLength);
  first[0] = OOB_FRAME;
  new DataView(first.buffer).setUint32(1, head.byteLength);
  first.set(head, 5);
  return [first, ...parts];
}

/** Decodes a frame made by {@link encodeFrameParts}: its parts are views of `bytes`. */
function decodeFrameWithParts(bytes: Uint8Array): unknown {
  if (bytes.byteLength < 5) throw new ProtocolError("malformed frame (truncated head)");
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, 5).getUint32(1);
  if (5 + headLength > bytes.byteLength) {
    throw new ProtocolError("malformed frame (head longer than the frame)");
  }
  let head: unknown;
  try {
    head = framePackr.unpack(bytes.subarray(5, 5 + headLength));
  } catch (err) {
    throw new ProtocolError(`malformed frame (${(err as Error).message})`);
  }
  if (!Array.isArray(head) || head.length !== 2 || !Array.isArray(head[1])) {
    throw new ProtocolError("malformed frame (head is not [messages, part lengths])");
  }
  const parts: Uint8Array[] = [];
  let at = 5 + headLength;
  for (const n of head[1] as unknown[]) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || at + n > bytes.byteLength) {
      throw new ProtocolError("malformed frame (a part overruns the frame)");
    }
    parts.push(bytes.subarray(at, at + n));
    at += n;
  }
  if (at !== bytes.byteLength) throw new ProtocolError("malformed frame (bytes after its parts)");
  return land(head[0], parts, 0);
}

/**
 * Decodes one mesh frame, with or without out-of-band parts (see {@link encodeFrameParts}).
 * The shape of each message is checked by the caller.
 *
 * @throws {ProtocolError} on any malformed input
 */
export function decodeFrame(bytes: Uint8Array): unknown[] {
  let decoded: unknown;
  if (bytes[0] === OOB_FRAME) {
    decoded = decodeFrameWithParts(bytes);
  } else {
    try {
      decoded = framePackr.unpack(bytes);
    } catch (err) {
      throw new ProtocolError(`malformed frame (${(err as Error).message})`);
    }
  }
  if (!Array.isArray(decoded)) throw new ProtocolError("malformed frame (not a list of messages)");
  return decoded;
}
