/**
 * The wire protocol between peers: message shapes and their validation. Every message that
 * arrives is checked here before anything acts on it; a malformed one throws a
 * `ProtocolError`, which closes that link (never the peer).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import type { ResultBatch } from "../results/batch.ts";
import { MAX_BLOCK_NAMES, type TaskBlock } from "../scheduler/block.ts";

/** libp2p protocol id of the scoop link. */
export const PROTOCOL = "/scoop/link/1.0.0";
/** Bumped whenever a message changes shape; peers of another version refuse each other. */
export const PROTOCOL_VERSION = 3;

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
  /**
   * Stolen tasks. A block's typed columns travel as their raw bytes (little-endian, as on every
   * platform the runtimes support); `validate` turns them back into typed arrays.
   */
  | { t: "tasks"; blocks: TaskBlock[]; load: number }
  /** Results for their owner, keyed by seq; columns travel as raw bytes, like task blocks. */
  | { t: "results"; r: ResultBatch }
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

/** Check a received task block and give it its typed columns back. */
function checkBlock(raw: unknown): TaskBlock {
  if (typeof raw !== "object" || raw === null) fail("task block must be an object");
  const w = raw as Record<string, unknown>;
  const names = strings(w.names, "task block names");
  if (names.length > MAX_BLOCK_NAMES) fail(`task block has more than ${MAX_BLOCK_NAMES} names`);
  const n = bytes(w.seqs, "task block seqs").byteLength / 8;
  if (!Number.isInteger(n)) fail("task block seqs must be whole float64s");
  if (bytes(w.kinds, "task block kinds").byteLength !== n * 2) fail("task block kinds length");
  if (bytes(w.ends, "task block ends").byteLength !== n * 4) fail("task block ends length");
  const block: TaskBlock = {
    owner: str(w.owner, "task block owner"),
    names,
    seqs: new Float64Array(aligned(w.seqs as Uint8Array)),
    kinds: new Uint16Array(aligned(w.kinds as Uint8Array)),
    ends: new Uint32Array(aligned(w.ends as Uint8Array)),
    data: bytes(w.data, "task block data"),
  };
  for (let i = 0; i < n; i++) {
    const seq = block.seqs[i];
    if (seq !== -1 && !(Number.isSafeInteger(seq) && seq >= 0)) fail("task seq out of range");
    if (block.kinds[i] >= names.length) fail("task name index out of range");
  }
  checkEnds(block.ends, block.data, "task args");
  return block;
}

/** Check a received result batch and give it its typed columns back. */
function checkResults(raw: unknown): ResultBatch {
  if (typeof raw !== "object" || raw === null) fail("results must be an object");
  const w = raw as Record<string, unknown>;
  const n = bytes(w.keys, "results keys").byteLength / 8;
  if (!Number.isInteger(n)) fail("results keys must be whole float64s");
  if (bytes(w.oks, "results oks").byteLength !== n) fail("results oks length");
  if (bytes(w.ends, "results ends").byteLength !== n * 4) fail("results ends length");
  const batch: ResultBatch = {
    keys: new Float64Array(aligned(w.keys as Uint8Array)),
    oks: w.oks as Uint8Array,
    ends: new Uint32Array(aligned(w.ends as Uint8Array)),
    data: bytes(w.data, "results data"),
  };
  for (let i = 0; i < n; i++) {
    if (!(Number.isSafeInteger(batch.keys[i]) && batch.keys[i] >= 0)) {
      fail("result seq out of range");
    }
    if (batch.oks[i] > 1) fail("result ok must be 0 or 1");
  }
  checkEnds(batch.ends, batch.data, "result payload");
  return batch;
}

/** End offsets must never go back nor past the data. */
function checkEnds(ends: Uint32Array, data: Uint8Array, what: string): void {
  let last = 0;
  for (const end of ends) {
    if (end < last || end > data.byteLength) fail(`${what} out of range`);
    last = end;
  }
}

/** A copy of `bytes` in a buffer of its own (so aligned for any typed array). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  // Not `bytes.slice()`: on a Node Buffer (what the decoder gives) that is a view, not a copy.
  return Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer;
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
    case "tasks":
      m.blocks = list(m.blocks, "tasks.blocks").map(checkBlock);
      uint(m.load, "tasks.load");
      break;
    case "results":
      m.r = checkResults(m.r);
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
