/**
 * The wire protocol between peers: message shapes and their validation. Every message that
 * arrives is checked here before anything acts on it; a malformed one throws a
 * `ProtocolError`, which closes that link (never the peer).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** libp2p protocol id of the scoop link. */
export const PROTOCOL = "/scoop/link/1.0.0";
/** Bumped whenever a message changes shape; peers of another version refuse each other. */
export const PROTOCOL_VERSION = 1;

/** A task as it travels: owner index into the frame's `owners`, seq, task name, encoded args. */
export type WireTask = [owner: number, seq: number, name: string, args: Uint8Array];
/** A result as it travels to its owner: seq, 1 for a value / 0 for an error, encoded payload. */
export type WireResult = [seq: number, ok: 0 | 1, payload: Uint8Array];

/** Every message a link carries. */
export type Message =
  | {
    t: "hello";
    peer: string;
    grid: string;
    proto: number;
    app: string;
    origin: boolean;
    addrs: string[];
    load: number;
  }
  | { t: "refuse"; reason: string }
  | { t: "peers"; peers: [id: string, addrs: string[]][] }
  | { t: "load"; n: number }
  | { t: "steal" }
  | { t: "tasks"; owners: string[]; tasks: WireTask[]; load: number }
  | { t: "results"; r: WireResult[] }
  | { t: "started"; seqs: number[] }
  | { t: "cancel"; seqs: number[] }
  | { t: "const"; id: number; name: string; value: Uint8Array }
  | { t: "constAck"; id: number }
  | { t: "stop" };

const MAX_NAME = 1024;

function fail(what: string): never {
  throw new ProtocolError(`Malformed message: ${what}`);
}

function str(v: unknown, field: string, max = MAX_NAME): string {
  if (typeof v !== "string" || v.length > max) fail(`${field} must be a string of <= ${max}`);
  return v;
}

function uint(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(`${field} must be a non-negative integer`);
  }
  return v;
}

function bytes(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${field} must be bytes`);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) fail(`${field} must be a list`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  return list(v, field).map((s, i) => str(s, `${field}[${i}]`));
}

/**
 * Check one received message and return it typed.
 * @throws {ProtocolError} the message is not one of {@link Message}'s shapes
 */
export function validate(raw: unknown): Message {
  if (typeof raw !== "object" || raw === null) fail("not an object");
  const m = raw as Record<string, unknown>;
  switch (m.t) {
    case "hello":
      str(m.peer, "hello.peer");
      str(m.grid, "hello.grid");
      uint(m.proto, "hello.proto");
      str(m.app, "hello.app");
      if (typeof m.origin !== "boolean") fail("hello.origin must be a boolean");
      strings(m.addrs, "hello.addrs");
      uint(m.load, "hello.load");
      break;
    case "refuse":
      str(m.reason, "refuse.reason", 4096);
      break;
    case "peers":
      for (const p of list(m.peers, "peers.peers")) {
        const [id, addrs] = list(p, "peers entry");
        str(id, "peers entry id");
        strings(addrs, "peers entry addrs");
      }
      break;
    case "load":
      uint(m.n, "load.n");
      break;
    case "steal":
    case "stop":
      break;
    case "tasks": {
      const owners = strings(m.owners, "tasks.owners");
      for (const t of list(m.tasks, "tasks.tasks")) {
        const [o, seq, name, args] = list(t, "task");
        if (uint(o, "task owner") >= owners.length) fail("task owner index out of range");
        uint(seq, "task seq");
        str(name, "task name");
        bytes(args, "task args");
      }
      uint(m.load, "tasks.load");
      break;
    }
    case "results":
      for (const r of list(m.r, "results.r")) {
        const [seq, ok, payload] = list(r, "result");
        uint(seq, "result seq");
        if (ok !== 0 && ok !== 1) fail("result ok must be 0 or 1");
        bytes(payload, "result payload");
      }
      break;
    case "started":
    case "cancel":
      list(m.seqs, `${m.t}.seqs`).forEach((s) => uint(s, `${m.t} seq`));
      break;
    case "const":
      uint(m.id, "const.id");
      str(m.name, "const.name");
      bytes(m.value, "const.value");
      break;
    case "constAck":
      uint(m.id, "constAck.id");
      break;
    default:
      fail(`unknown message type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
  return m as Message;
}
