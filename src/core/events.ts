/**
 * What goes into the state machine of a peer (events) and what comes out (actions), the one
 * window it has on its executor, and its settings. A real peer (`src/peer/peer.ts`) turns
 * libp2p and Worker events into {@link Event}s and carries out the {@link Action}s; the
 * simulator (`tests/sim/`) does the same over a simulated network and executor.
 *
 * @module
 */
import type { FromWorker, ToWorker } from "../executor/protocol.ts";
import type { CoreMessage, PeerId } from "./messages.ts";

/** What the executor reports in one batch (see `FromWorker`). */
export type ExecutorBatch = Extract<FromWorker, { t: "batch" }>;

/** Named timers of the state machine; each is armed at most once at a time. */
export type TimerName =
  /** End of the current turn: flush coalesced work (resolves, load gossip, acks). */
  | "flush"
  /** Look again whether the executor got stuck on handed tasks (see `WATCH_MS`). */
  | "watch"
  /** Gossip a change in load held back (see `LAZY_GOSSIP_MS`). */
  | "gossip"
  /** Relayed results held back leave (see `RELAY_MS`). */
  | "relay"
  /** The periodic tick: heartbeats, failure detection, links, membership gossip. */
  | "tick";

/** Everything that can happen to a peer. */
export type Event =
  /** The executor loaded the entry module. */
  | { type: "ready" }
  /** The executor's batch: tasks submitted, results, cancels, whether it is hungry. */
  | { type: "batch"; batch: ExecutorBatch }
  /** The executor broadcasts constants (`shared.setConst`); `id` is its own. */
  | { type: "setConst"; id: number; entries: [string, Uint8Array][] }
  /** A link to `peer` passed the handshake. */
  | { type: "linkUp"; peer: PeerId; origin: boolean; addrs: string[]; load: number }
  /** The link to `peer` closed (or could not be made, after a `connect`). */
  | { type: "linkDown"; peer: PeerId; reason?: string }
  /** A validated message from a linked peer. */
  | { type: "message"; from: PeerId; message: CoreMessage }
  /** mDNS found a peer of this grid on the LAN, at these addresses. */
  | { type: "discovered"; peer: PeerId; addrs: string[] }
  /** Bytes came from these peers (a large frame on its way): they are alive. */
  | { type: "heard"; peers: PeerId[] }
  /** A timer armed by a `timer` action fired. */
  | { type: "timer"; name: TimerName }
  /** The job is over (origin): tell the grid, then leave. */
  | { type: "stop" }
  /** This peer leaves the grid on purpose, while the job goes on: tell the links, then leave. */
  | { type: "bye" }
  /**
   * The origin's dashboard opened: ask every peer, linked now or later, for telemetry every
   * `every` ms (see `TELEMETRY_MIN_MS`).
   */
  | { type: "observe"; every: number }
  /** This peer's telemetry frame, for the origin (sent if linked to it, else dropped). */
  | { type: "report"; frame: Record<string, unknown> };

/**
 * A change in the grid's membership as one peer sees it: a peer it had not heard of (linked,
 * or gossiped to it), one that left on purpose, one declared lost. `size`: live peers known
 * after it, this one included; `requeued`: tasks it held that this peer queues again.
 */
export type MemberChange =
  | { kind: "joined"; peer: PeerId; addrs: string[]; size: number }
  | { kind: "left"; peer: PeerId; size: number; requeued: number }
  /** `why`: what this peer found; `from`: the peer whose word told it (then `why` is empty). */
  | { kind: "lost"; peer: PeerId; size: number; requeued: number; why: string; from?: PeerId };

/** Everything the state machine asks its host to do. */
export type Action =
  /** Queue a message to a linked peer; a `lazy` one may wait for another to leave with. */
  | { type: "send"; to: PeerId; message: CoreMessage; lazy: boolean }
  /** Post a message to the executor. */
  | { type: "post"; message: ToWorker }
  /** Fire `timer` after `after` ms (0: at the end of this turn), in place of any time it was
   * armed for (a timer fires at most once per arming). */
  | { type: "timer"; name: TimerName; after: number }
  /** Make a link to `peer` (answered by `linkUp`, or `linkDown` if it cannot be made). */
  | { type: "connect"; peer: PeerId; addrs: string[] }
  /** Close the link to `peer` (what is queued for it leaves first). */
  | { type: "disconnect"; peer: PeerId }
  /** The number of live peers this peer knows of changed (itself included). */
  | { type: "size"; n: number }
  /** Leave the grid: the job is over (`ok`), or this peer cannot go on (`error` says why). */
  | { type: "leave"; ok: boolean; error?: string }
  /** A peer joined, left or was lost (see {@link MemberChange}). */
  | { type: "member"; change: MemberChange }
  /** A line for the log. */
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; text: string }
  /** The origin asks for telemetry every `every` ms: report it (`report` events) from now on. */
  | { type: "observe"; every: number }
  /** A peer's telemetry frame arrived (origin), unread (see the `telemetry` message). */
  | { type: "telemetry"; from: PeerId; frame: Record<string, unknown> };

/**
 * What the state machine may read of its executor while it runs: the shared-memory cells of
 * `executor/protocol.ts` in a real peer, plain fields in the simulator. Revocation must be
 * decided at once, even while the executor is deep in a synchronous task, so this one window
 * is synchronous; everything else comes as events.
 */
export interface ExecutorView {
  /** Run index of the next handed task the executor will start; negative while revoked. */
  claimed(): number;
  /** Whether the executor cannot start a handed task now (inside a task, or its slot full). */
  busy(): boolean;
  /**
   * Revoke every handed task from run index `from` on, if the executor has not started it:
   * true when done (the executor then starts none of them until told `revoked`).
   */
  revoke(from: number): boolean;
}

/** Settings of a peer's state machine. Times are in milliseconds. */
export interface CoreConfig {
  /** This peer's id. */
  id: PeerId;
  /** Whether this peer runs `main` (its loss ends the job). */
  origin: boolean;
  /** Addresses others can dial this peer at (gossiped). */
  addrs: string[];
  /** Numbers in [0, 1): the only source of randomness (seeded in the simulator). */
  random: () => number;
  /** Links a peer seeks to keep. @default 16 */
  degree?: number;
  /** Links beyond which new ones are turned away. @default 32 */
  maxDegree?: number;
  /** Period of the tick (heartbeats, failure detection, gossip). @default 250 */
  tickMs?: number;
  /** A quiet link gets a heartbeat after this long. @default 500 */
  heartbeatMs?: number;
  /**
   * A link silent this long is taken as broken. With `confirmMs` and the tick, a peer that
   * stops (a hang, a pulled cable) while it holds work is declared lost within 2.75 s.
   * @default 1500
   */
  silentMs?: number;
  /** A peer unreachable this long, and heard by no other, is declared lost. @default 750 */
  confirmMs?: number;
  /** Period of membership gossip with one random neighbour. @default 1000 */
  shuffleMs?: number;
  /** Peers per membership sample. @default 8 */
  sampleSize?: number;
  /** Period of the origin's heartbeat, which every peer passes on. @default 2000 */
  beatMs?: number;
  /** A peer with no word from the origin this long is cut off from the job, and leaves. @default 10000 */
  originSilentMs?: number;
}

/** The defaults of {@link CoreConfig}. */
export const DEFAULT_CONFIG = {
  degree: 16,
  maxDegree: 32,
  tickMs: 250,
  heartbeatMs: 500,
  silentMs: 1500,
  confirmMs: 750,
  shuffleMs: 1000,
  sampleSize: 8,
  beatMs: 2000,
  originSilentMs: 10_000,
} as const;
