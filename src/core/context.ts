/**
 * What the parts of a peer's state machine share: who it is, its settings, the time of the
 * event being handled, the source of randomness, the window on the executor, and the actions
 * the event produced so far. Each part (`links.ts`, `routes.ts`, `constants.ts`, `state.ts`)
 * gets it through its constructor, as js-libp2p hands its components around.
 *
 * @module
 */
import type { ToWorker } from "../executor/protocol.ts";
import {
  type Action,
  type CoreConfig,
  DEFAULT_CONFIG,
  type ExecutorView,
  type TimerName,
} from "./events.ts";
import type { PeerId } from "./messages.ts";

/** Settings with every default applied. */
export type Settings = Required<Omit<CoreConfig, "id" | "origin" | "addrs" | "random">>;

/** Counters of a peer's scheduling, for benchmarks, the simulator and debugging. */
export interface PeerStats {
  /** Steal requests sent, how many brought tasks, tasks received that way. */
  steals: number;
  stealHits: number;
  stolenTasks: number;
  /** Tasks handed to the executor, and given to thieves. */
  tasksRun: number;
  tasksGiven: number;
  /** Tasks the executor finished (not revoked), and how many of those threw. */
  finished: number;
  failed: number;
  /** Results passed on toward their owner for another peer, and results held for a route. */
  relayed: number;
  held: number;
  /** Tasks queued again because a peer holding them was lost. */
  requeued: number;
  /** Messages sent, by type. */
  sent: Record<string, number>;
  /** The most links this peer had at once. */
  maxLinks: number;
}

/** The shared context of one peer's state machine (see the module doc). */
export class Core {
  readonly id: PeerId;
  readonly origin: boolean;
  /** Addresses others can dial this peer at. */
  readonly addrs: string[];
  readonly random: () => number;
  readonly exec: ExecutorView;
  readonly cfg: Settings;
  readonly stats: PeerStats = {
    steals: 0,
    stealHits: 0,
    stolenTasks: 0,
    tasksRun: 0,
    tasksGiven: 0,
    finished: 0,
    failed: 0,
    relayed: 0,
    held: 0,
    requeued: 0,
    sent: {},
    maxLinks: 0,
  };
  /** The time of the event being handled. */
  now = 0;
  /** Actions of the event being handled. */
  out: Action[] = [];
  /** Whether this peer has left the grid (it handles nothing more). */
  left = false;
  #armed: Record<TimerName, boolean> = {
    flush: false,
    watch: false,
    gossip: false,
    relay: false,
    tick: false,
  };

  constructor(config: CoreConfig, exec: ExecutorView) {
    this.id = config.id;
    this.origin = config.origin;
    this.addrs = config.addrs;
    this.random = config.random;
    this.exec = exec;
    this.cfg = {
      degree: config.degree ?? DEFAULT_CONFIG.degree,
      maxDegree: config.maxDegree ?? DEFAULT_CONFIG.maxDegree,
      tickMs: config.tickMs ?? DEFAULT_CONFIG.tickMs,
      heartbeatMs: config.heartbeatMs ?? DEFAULT_CONFIG.heartbeatMs,
      silentMs: config.silentMs ?? DEFAULT_CONFIG.silentMs,
      confirmMs: config.confirmMs ?? DEFAULT_CONFIG.confirmMs,
      shuffleMs: config.shuffleMs ?? DEFAULT_CONFIG.shuffleMs,
      sampleSize: config.sampleSize ?? DEFAULT_CONFIG.sampleSize,
      beatMs: config.beatMs ?? DEFAULT_CONFIG.beatMs,
      originSilentMs: config.originSilentMs ?? DEFAULT_CONFIG.originSilentMs,
    };
  }

  /** Arm `name` to fire after `after` ms, unless it is armed already. */
  arm(name: TimerName, after: number): void {
    if (this.#armed[name]) return;
    this.#armed[name] = true;
    this.out.push({ type: "timer", name, after });
  }

  /** Arm `name` to fire after `after` ms, in place of the time it is armed for, if any. */
  rearm(name: TimerName, after: number): void {
    this.#armed[name] = true;
    this.out.push({ type: "timer", name, after });
  }

  /** Timer `name` fired: it may be armed again. */
  fired(name: TimerName): void {
    this.#armed[name] = false;
  }

  post(message: ToWorker): void {
    this.out.push({ type: "post", message });
  }

  log(level: "debug" | "info" | "warn" | "error", text: string): void {
    this.out.push({ type: "log", level, text });
  }

  /** Leave the grid: the job is over (`ok`), or this peer cannot go on. */
  leave(ok: boolean, error?: string): void {
    if (this.left) return;
    this.left = true;
    this.out.push(error === undefined ? { type: "leave", ok } : { type: "leave", ok, error });
  }

  /** Up to `n` distinct entries of `from` at random (partial Fisher-Yates on a copy). */
  pick<T>(from: readonly T[], n: number): T[] {
    const a = from.slice();
    const k = Math.min(n, a.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.random() * (a.length - i));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, k);
  }
}
