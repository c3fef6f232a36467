/**
 * The transport's own messages: the handshake that opens every link. Everything after it is
 * the scheduler's (`core/messages.ts`), which the transport carries without reading. A
 * malformed handshake throws a `ProtocolError`, which closes that link (never the peer).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** libp2p protocol id of the scoop link. */
export const PROTOCOL = "/scoop/link/1.0.0";
/** Bumped whenever a message changes shape; peers of another version refuse each other. */
export const PROTOCOL_VERSION = 5;

/** The first message each side sends on a link. */
export interface Hello {
  t: "hello";
  peer: string;
  grid: string;
  proto: number;
  app: string;
  origin: boolean;
  addrs: string[];
  load: number;
  /** The sender's host name and process id (for the lines that tell of it, see `launcher/members.ts`). */
  host: string;
  pid: number;
}

/** The handshake: a hello each way, or a refusal saying why. */
export type Handshake = Hello | { t: "refuse"; reason: string };

const MAX_NAME = 1024;

function fail(what: string): never {
  throw new ProtocolError(`Malformed message: ${what}`);
}

function str(v: unknown, field: string, max = MAX_NAME): string {
  if (typeof v !== "string" || v.length > max) fail(`${field} must be a string of <= ${max}`);
  return v;
}

/**
 * The handshake message `raw` is, checked, or undefined if it is not one (a scheduler message).
 * @throws {ProtocolError} a malformed handshake message
 */
export function handshakeOf(raw: unknown): Handshake | undefined {
  if (typeof raw !== "object" || raw === null) fail("not an object");
  const m = raw as Record<string, unknown>;
  if (m.t === "hello") {
    str(m.peer, "hello.peer");
    str(m.grid, "hello.grid");
    if (typeof m.proto !== "number" || !Number.isSafeInteger(m.proto)) {
      fail("hello.proto must be an integer");
    }
    // Another version's hello is refused for its version (by the mesh), whatever else it holds.
    if (m.proto !== PROTOCOL_VERSION) return m as unknown as Hello;
    str(m.app, "hello.app");
    if (typeof m.origin !== "boolean") fail("hello.origin must be a boolean");
    if (!Array.isArray(m.addrs) || m.addrs.length > 64) fail("hello.addrs must be a list");
    m.addrs.forEach((a, i) => str(a, `hello.addrs[${i}]`));
    if (typeof m.load !== "number" || !Number.isSafeInteger(m.load) || m.load < 0) {
      fail("hello.load must be a non-negative integer");
    }
    str(m.host, "hello.host");
    if (typeof m.pid !== "number" || !Number.isSafeInteger(m.pid) || m.pid < 0) {
      fail("hello.pid must be a non-negative integer");
    }
    return m as unknown as Hello;
  }
  if (m.t === "refuse") {
    str(m.reason, "refuse.reason", 4096);
    return m as unknown as Handshake;
  }
  return undefined;
}
