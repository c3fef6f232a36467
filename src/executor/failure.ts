/**
 * How a task's failure crosses the wire: the error's own name, message and stack (so
 * `e.name === "BadInput"` on the awaiting side), its cause, its own enumerable fields (`code`,
 * `errno`, `limit`…, as a returned error keeps them), and the id of the peer that ran it. A
 * field or cause that cannot cross the wire (a function, say) is left out, and the error goes
 * without it. A value thrown that is not an Error travels as itself.
 *
 * @module
 */
import { decodeValue, encodeValue } from "../codec/mod.ts";
import { TaskError } from "../errors.ts";

interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  peer: string;
  cause?: unknown;
  hasCause: boolean;
  /** Own enumerable fields, but `cause` (and a TaskError's `peerId`, carried as `peer`). */
  fields?: Record<string, unknown>;
}

/** Names the awaiting side's error sets itself; an own field by one of them is not copied. */
const RESERVED = new Set(["name", "message", "stack", "cause", "peerId"]);

/** The own enumerable fields of `err` that can cross the wire. */
function fieldsOf(err: Error): Record<string, unknown> | undefined {
  let fields: Record<string, unknown> | undefined;
  for (const key of Object.keys(err)) {
    if (RESERVED.has(key)) continue;
    const value = (err as unknown as Record<string, unknown>)[key];
    try {
      encodeValue(value, key);
    } catch {
      continue;
    }
    (fields ??= {})[key] = value;
  }
  return fields;
}

type Failure = { e: ErrorInfo } | { v: unknown };

function info(err: Error, peerId: string, withCause: boolean): ErrorInfo {
  const peer = err instanceof TaskError ? err.peerId : peerId;
  const hasCause = withCause && "cause" in err;
  return {
    name: String(err.name),
    message: String(err.message),
    stack: typeof err.stack === "string" ? err.stack : undefined,
    peer,
    hasCause,
    cause: hasCause ? err.cause : undefined,
    fields: fieldsOf(err),
  };
}

/** Encode what a task threw on peer `peerId`. Never throws. */
export function encodeFailure(thrown: unknown, peerId: string): Uint8Array {
  if (!(thrown instanceof Error)) {
    try {
      return encodeValue({ v: thrown } satisfies Failure, "thrown value");
    } catch (err) {
      thrown = new TypeError(
        `Task threw a value that cannot cross the wire: ${(err as Error).message}`,
      );
    }
  }
  const err = thrown as Error;
  try {
    return encodeValue({ e: info(err, peerId, true) } satisfies Failure, "error");
  } catch {
    // The cause could not be sent: keep the error itself.
    return encodeValue({ e: info(err, peerId, false) } satisfies Failure, "error");
  }
}

/** Decode a failure into what the awaiting side sees: a {@link TaskError} or the thrown value. */
export function decodeFailure(bytes: Uint8Array): unknown {
  const f = decodeValue(bytes) as Failure;
  if ("v" in f) return f.v;
  const e = f.e;
  const err = new TaskError(
    e.name,
    e.message,
    e.stack,
    e.peer,
    e.hasCause ? { cause: e.cause } : undefined,
  );
  if (typeof e.fields === "object" && e.fields !== null) {
    for (const [key, value] of Object.entries(e.fields)) {
      if (RESERVED.has(key)) continue; // a hostile peer's, not a task's
      Object.defineProperty(err, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return err;
}
