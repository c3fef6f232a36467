/**
 * The scheduler's messages between peers, and their validation. Every message that arrives is
 * checked here before the state machine sees it; a malformed one throws a `ProtocolError`,
 * which closes that link (never the peer). The transport (`src/mesh/`) carries these without
 * knowing them; it checks only its own handshake.
 *
 * Messages are *reliable* or not. Reliable ones (work, results, custody, constants, stop) are
 * counted per peer and kept until the peer acknowledges them, so a link that breaks and forms
 * again loses none (see `session.ts`); the others (load, heartbeats, gossip) are state that the
 * next one replaces, and are dropped with a broken link.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import type { ResultBatch } from "../results/batch.ts";
import { MAX_BLOCK_NAMES, type TaskBlock } from "../scheduler/block.ts";

/** A peer's id (a libp2p peer id in a real grid). */
export type PeerId = string;

/** A peer and the addresses it can be dialled at, as gossiped. */
export type PeerAddrs = [id: PeerId, addrs: string[]];

/** Every message of the scheduler. */
export type CoreMessage =
  // ---- sessions (see session.ts); never counted themselves ----
  /** First message on every new link: how many reliable messages this side has received. */
  | { t: "resume"; got: number }
  /** How many reliable messages this side has received (the sender may forget those). */
  | { t: "ack"; got: number }
  /**
   * Heartbeat on a link that has been quiet; `every`: the sender sends something at least this
   * often (ms), so it is silent past a few of those.
   */
  | { t: "ping"; every?: number }
  // ---- work ----
  /** The sender's stealable tasks. */
  | { t: "load"; n: number }
  /** Reliable: a thief asks for work. */
  | { t: "steal" }
  /**
   * Reliable: stolen tasks, and the victim's load after giving them. A block's typed columns
   * travel as their raw bytes (little-endian, as on every platform the runtimes support);
   * validation turns them back into typed arrays.
   */
  | { t: "tasks"; blocks: TaskBlock[]; load: number }
  /** Reliable: results for the receiver, the owner of these seqs. */
  | { t: "results"; r: ResultBatch }
  /**
   * Reliable: results for `owner`, sent back to the peer the tasks came from (the receiver
   * has no link to the owner, or is it); the receiver forwards them the same way.
   */
  | { t: "relay"; owner: PeerId; r: ResultBatch }
  /** Reliable: tasks of `owner` the receiver gave the sender are finished (results went on). */
  | { t: "done"; owner: PeerId; seqs: number[] }
  /** Tasks of the receiver started running (for `Future.running()`). */
  | { t: "started"; seqs: number[] }
  /** Reliable: the owner cancelled these tasks; drop them (and pass the word on). */
  | { t: "cancel"; owner: PeerId; seqs: number[] }
  // ---- constants ----
  /**
   * Reliable: constants. With a `wave`, part of a broadcast that expects a `constAck` once
   * the receiver and every peer it passed them to have them; without, for a peer that
   * just linked.
   */
  | { t: "const"; wave?: string; entries: [name: string, value: Uint8Array][] }
  /** Reliable: the receiver's part of broadcast `wave` has the constants. */
  | { t: "constAck"; wave: string }
  // ---- membership ----
  /** Reliable: the job is over; pass it on and leave. */
  | { t: "stop" }
  /**
   * Peers the sender knows (and itself); `reply`: an answer to a sample (do not answer);
   * `origin`: the origin's id, if the sender knows it.
   */
  | { t: "peers"; peers: PeerAddrs[]; reply: boolean; origin?: PeerId }
  /** The sender is closing this link on purpose and is not lost (it has links enough). */
  | { t: "prune" }
  /** The sender lost its link to `peer`: does the receiver still hear it? */
  | { t: "probe"; peer: PeerId }
  /** The receiver heard `peer` lately (answer to a probe). */
  | { t: "vouch"; peer: PeerId }
  /**
   * These peers were declared lost (`left`: these left on purpose): their work runs elsewhere;
   * never link to them again.
   */
  | { t: "lost"; peers: PeerId[]; left?: PeerId[] }
  /** The sender leaves the grid on purpose (the job goes on): it is gone, not lost. */
  | { t: "bye" }
  /** The origin's heartbeat, passed on by every peer: beat `n` of the job, one every `every` ms. */
  | { t: "beat"; n: number; every?: number }
  // ---- the dashboard (sent only while one is open) ----
  /** The origin's dashboard is open: send it telemetry every `every` ms (never more often). */
  | { t: "observe"; every: number }
  /**
   * A peer's telemetry for the origin's dashboard. The state machine passes the frame on
   * unread; the dashboard checks it (`dashboard/frame.ts`) and refuses a malformed one.
   */
  | { t: "telemetry"; frame: Record<string, unknown> };

/** Message types whose delivery sessions guarantee (see the module doc). */
export const RELIABLE: Readonly<Record<CoreMessage["t"], boolean>> = {
  resume: false,
  ack: false,
  ping: false,
  load: false,
  steal: true,
  tasks: true,
  results: true,
  relay: true,
  done: true,
  started: false,
  cancel: true,
  const: true,
  constAck: true,
  stop: true,
  peers: false,
  prune: false,
  probe: false,
  vouch: false,
  lost: false,
  bye: false,
  beat: false,
  observe: false,
  telemetry: false,
};

const MAX_NAME = 1024;
/** The most peers one `peers` or `lost` message may carry. */
export const MAX_GOSSIP = 1024;

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

function list(v: unknown, field: string, max = Infinity): unknown[] {
  if (!Array.isArray(v)) fail(`${field} must be a list`);
  if (v.length > max) fail(`${field} has more than ${max} entries`);
  return v;
}

function strings(v: unknown, field: string, max = Infinity): string[] {
  return list(v, field, max).map((s, i) => str(s, `${field}[${i}]`));
}

function seqList(v: unknown, field: string): number[] {
  const l = list(v, field);
  for (const s of l) uint(s, `${field} entry`);
  return l as number[];
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

function peerAddrs(v: unknown, field: string): PeerAddrs {
  const [id, addrs] = list(v, field);
  return [str(id, `${field} id`), strings(addrs, `${field} addrs`, 64)];
}

/**
 * Check one received message and return it typed.
 * @throws {ProtocolError} the message is not one of {@link CoreMessage}'s shapes
 */
export function validateMessage(raw: unknown): CoreMessage {
  if (typeof raw !== "object" || raw === null) fail("not an object");
  const m = raw as Record<string, unknown>;
  switch (m.t) {
    case "resume":
    case "ack":
      uint(m.got, `${m.t}.got`);
      break;
    case "load":
      uint(m.n, "load.n");
      break;
    case "beat":
      uint(m.n, "beat.n");
      if (m.every !== undefined) uint(m.every, "beat.every");
      break;
    case "ping":
      if (m.every !== undefined) uint(m.every, "ping.every");
      break;
    case "steal":
    case "stop":
    case "bye":
    case "prune":
      break;
    case "tasks":
      m.blocks = list(m.blocks, "tasks.blocks").map(checkBlock);
      uint(m.load, "tasks.load");
      break;
    case "results":
      m.r = checkResults(m.r);
      break;
    case "relay":
      str(m.owner, "relay.owner");
      m.r = checkResults(m.r);
      break;
    case "done":
    case "cancel":
      str(m.owner, `${m.t}.owner`);
      seqList(m.seqs, `${m.t}.seqs`);
      break;
    case "started":
      seqList(m.seqs, "started.seqs");
      break;
    case "const":
      if (m.wave !== undefined) str(m.wave, "const.wave");
      for (const e of list(m.entries, "const.entries")) {
        const [name, value] = list(e, "const entry");
        str(name, "const name");
        bytes(value, "const value");
      }
      break;
    case "constAck":
      str(m.wave, "constAck.wave");
      break;
    case "peers":
      m.peers = list(m.peers, "peers.peers", MAX_GOSSIP).map((p) => peerAddrs(p, "peers entry"));
      if (typeof m.reply !== "boolean") fail("peers.reply must be a boolean");
      if (m.origin !== undefined) str(m.origin, "peers.origin");
      break;
    case "observe":
      uint(m.every, "observe.every");
      break;
    case "telemetry":
      if (typeof m.frame !== "object" || m.frame === null || Array.isArray(m.frame)) {
        fail("telemetry.frame must be an object");
      }
      break;
    case "probe":
    case "vouch":
      str(m.peer, `${m.t}.peer`);
      break;
    case "lost":
      strings(m.peers, "lost.peers", MAX_GOSSIP);
      if (m.left !== undefined) strings(m.left, "lost.left", MAX_GOSSIP);
      break;
    default:
      fail(`unknown message type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
  return m as CoreMessage;
}
