/**
 * The deterministic simulator: N real state machines (`src/core/state.ts`), each with a
 * simulated executor (`executor.ts`), on a simulated network, under seeded faults. One seed is
 * one run, exactly: the only randomness is the seeded generator, time is simulated, and events
 * at the same instant run in the order they were scheduled.
 *
 * The network: one connection per pair of peers, ordered, with latency, jitter and bandwidth.
 * Faults: a connection reset (both ends told, what was in flight lost), a partition (traffic
 * across it held, nobody told, dials across it time out; it heals), a peer killed (its
 * connections reset), a peer that hangs (it does nothing, its connections stay up; it comes
 * back), peers that join mid-job.
 *
 * Invariants, checked on every run: every future settles once, `main` returns the right value,
 * a task runs again only when a peer that held it was lost, no peer stays idle long while a
 * neighbour has work to steal, and the job ends (every peer leaves).
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import process from "node:process";
import type { Action, CoreConfig, Event, TimerName } from "../../src/core/events.ts";
import type { CoreMessage, PeerId } from "../../src/core/messages.ts";
import { PeerState } from "../../src/core/state.ts";
import type { ToWorker } from "../../src/executor/protocol.ts";
import { SimExecutor, THREAD_HOP_MS } from "./executor.ts";
import { EventQueue } from "./queue.ts";
import { fork, seeded } from "./rng.ts";
import { makeWorkload, type Workload, type WorkloadName, WORKLOADS } from "./workloads.ts";

/** What one run simulates. */
export interface SimOptions {
  seed: number;
  peers: number;
  /** About how many tasks the workload runs. */
  tasks: number;
  /** The workload; by default one picked by the seed. */
  workload?: WorkloadName;
  /** Inject faults (kills, hangs, resets, partitions) and joins mid-job. */
  faults?: boolean;
  /**
   * Kill this fraction of the peers mid-job (with `faults`, among the other faults; alone,
   * the only fault). By default `faults` kills a few, by seed.
   */
  killFraction?: number;
  /** Peers that join during the job (besides those `faults` adds). */
  joiners?: number;
  /** Replace a peer killed or gone, as the launcher does. @default true with `faults` */
  replace?: boolean;
  /** Start `main` this many simulated ms after the start (the grid is up), not at once. */
  warmupMs?: number;
  /** One-way latency and its jitter, in ms. @default 0.2, 0.2 */
  latencyMs?: number;
  jitterMs?: number;
  /** Bandwidth of each direction of a connection, in bytes per ms. @default 125000 (1 Gbit/s) */
  bandwidth?: number;
  /** Settings of every state machine (timeouts, degree). */
  core?: Partial<Omit<CoreConfig, "id" | "origin" | "addrs" | "random">>;
  /** Print every action of every peer. */
  trace?: boolean;
  /**
   * Break the network's promise on purpose, to show the invariants catch it: `drop` loses one
   * message of results on a connection that stays up; `corrupt` changes one result's value.
   */
  sabotage?: "drop" | "corrupt";
}

/** What one run found. */
export interface SimResult {
  options: SimOptions & { workload: WorkloadName };
  ok: boolean;
  violations: string[];
  metrics: SimMetrics;
}

/** Numbers of one run. */
export interface SimMetrics {
  workload: string;
  peers: number;
  tasks: number;
  /** Simulated ms from main's start to its end, and the ideal (total work ÷ peers). */
  makespanMs: number;
  idealMs: number;
  /** Messages sent per peer per simulated second while `main` ran. */
  msgsPerPeerSec: number;
  /** Frames (what the messages of one turn to one peer travel in) per peer per second. */
  framesPerPeerSec: number;
  messages: number;
  /** Messages sent while `main` ran, by type. */
  byType: Record<string, number>;
  /** Steal requests that brought work, of all sent. */
  stealSuccess: number;
  /**
   * For peers that joined mid-job: ms from being up (executor ready, dialling in) until their
   * first task, median and max.
   */
  joinFirstTaskMs: { median: number; max: number; n: number };
  killed: number;
  declaredLost: number;
  /** Task executions beyond the first (after a peer holding them was lost). */
  reruns: number;
  duplicates: number;
  requeued: number;
  relayed: number;
  held: number;
  /** Longest a peer stayed idle while some peer anywhere had 2+ tasks to steal, in ms. */
  maxIdleWhileWork: number;
  maxLinks: number;
  /** Fewest tasks run by one of the peers started with the job. */
  minTasksPerPeer: number;
  /** Real (wall) time the run took, in ms. */
  wallMs: number;
  events: number;
}

interface SimPeer {
  id: PeerId;
  n: number;
  origin: boolean;
  state: PeerState;
  exec: SimExecutor;
  alive: boolean;
  /** It left the grid (told to stop, or declared lost); `ok` false for the latter. */
  left: boolean;
  leftOk: boolean;
  hungUntil: number;
  startedAt: number;
  readyAt: number | undefined;
  /** Joined after the job began (for the join metric). */
  late: boolean;
  idleSince: number | undefined;
  idleWorkSince: number | undefined;
  /** When it stopped (left, or was killed). */
  endedAt: number | undefined;
  /** Its connections, by the peer at the other end. */
  conns: Map<PeerId, Conn>;
  /** How many times each timer was armed: only the latest arming fires. */
  timers: Partial<Record<TimerName, number>>;
}

/** A message, a handshake or a close on its way along one direction of a connection. */
type Wire =
  | { k: "frame"; ms: CoreMessage[] }
  | { k: "hello" }
  | { k: "close" };

/** One side of a connection. */
interface Side {
  peer: SimPeer;
  /** Up once its handshake completed; closed once it closed or was reset. */
  up: boolean;
  closed: boolean;
  /** Delivery time of the last item it sent (kept in order). */
  last: number;
  /**
   * Messages it queued, not yet sent: like a real link, everything queued in one turn leaves
   * as one frame, and lazy messages wait up to LAZY_MS for another to leave with.
   */
  box: CoreMessage[];
  bytes: number;
  soon: boolean;
  lazyAt: number;
}

interface Conn {
  /** The side that dialled, and the one that was dialled. */
  a: Side;
  b: Side;
  /** Changes when the connection is reset: what was in flight is dropped. */
  epoch: number;
  /** Items held by a partition, by receiving side, in order. */
  held: { to: Side; w: Wire }[];
}

const DEFAULT_CORE: SimOptions["core"] = {};
/** Debugging: print the messages that carry this seq, and every peer's log lines. */
const TRACE_SEQ = process.env.SIM_TRACE_SEQ;
const TRACE_LOG = process.env.SIM_TRACE_LOG !== undefined;
const TRACE_OWNER = process.env.SIM_TRACE_OWNER;
/** How often the idle invariant is checked, in simulated ms. */
const SAMPLE_MS = 100;
/** The most peers a partition cuts off. */
const MAX_CUT = 32;
/** How long a lazy message waits for another to leave with (as `mesh/link.ts` does). */
const LAZY_MS = 20;
/** How long after `main` ends peers have to leave (then the launcher ends the rest). */
const AFTER_JOB_MS = 20_000;
/** Without faults, no peer may stay idle longer than this while any peer has work to steal. */
const GLOBAL_IDLE_LIMIT_MS = 1000;
/** No peer may stay idle longer than this while a linked peer reports work to steal. */
const IDLE_LIMIT_MS = 500;

/** Run one simulation. */
export function simulate(options: SimOptions): SimResult {
  const t0 = performance.now();
  const sim = new Sim(options);
  sim.run();
  const result = sim.result();
  result.metrics.wallMs = Math.round(performance.now() - t0);
  return result;
}

class Sim {
  readonly o:
    & Required<
      Omit<
        SimOptions,
        "workload" | "core" | "killFraction" | "sabotage" | "joiners" | "replace" | "warmupMs"
      >
    >
    & {
      joiners: number;
      replace: boolean;
      warmupMs: number;
      sabotage: SimOptions["sabotage"];
      workload: WorkloadName;
      core: NonNullable<SimOptions["core"]>;
      killFraction: number | undefined;
    };
  #q = new EventQueue<{ peer: SimPeer | undefined; fn: () => void }>();
  now = 0;
  #random: () => number;
  #netRandom: () => number;
  #peers = new Map<PeerId, SimPeer>();
  #all: SimPeer[] = [];
  /** Peers some state machine declared lost (seen in their `lost` messages). */
  #declared = new Set<PeerId>();
  #partition: Set<PeerId> | undefined;
  #partitionEnd = 0;
  #workload: Workload;
  #violations: string[] = [];
  #mainStart: number | undefined;
  #mainEnd: number | undefined;
  #mainValue: unknown;
  #mainOk = false;
  #starts = new Map<string, number>();
  #holders = new Map<string, Set<PeerId>>();
  #gone = new Set<PeerId>();
  #reruns = 0;
  /** Outcomes that arrived for futures already settled (ignored, as `Future` does). */
  #duplicates = 0;
  #messages = 0;
  /** Messages and frames sent while `main` ran. */
  #jobMessages = 0;
  #jobFrames = 0;
  #frames = 0;
  #byType = new Map<string, number>();
  #killed = 0;
  #maxIdleWhileWork = 0;
  #maxLinks = 0;
  #events = 0;
  #nextId = 0;
  #estimate: number;

  constructor(options: SimOptions) {
    const random = seeded(options.seed);
    // Drawn whether or not it is given, so that naming the one drawn replays the same run.
    const drawn = WORKLOADS[Math.floor(random() * WORKLOADS.length)];
    const workload = options.workload ?? drawn;
    this.o = {
      seed: options.seed,
      peers: options.peers,
      tasks: options.tasks,
      workload,
      faults: options.faults ?? false,
      killFraction: options.killFraction,
      joiners: options.joiners ?? 0,
      replace: options.replace ?? options.faults ?? false,
      warmupMs: options.warmupMs ?? 0,
      latencyMs: options.latencyMs ?? 0.2,
      jitterMs: options.jitterMs ?? 0.2,
      bandwidth: options.bandwidth ?? 125_000,
      core: { ...DEFAULT_CORE, ...options.core },
      trace: options.trace ?? false,
      sabotage: options.sabotage,
    };
    this.#random = fork(random);
    this.#netRandom = fork(random);
    this.#workload = makeWorkload(workload, options.tasks, fork(random));
    this.#estimate = Math.max(200, this.#workload.workMs / options.peers);
  }

  // ---- the event loop ----

  at(time: number, peer: SimPeer | undefined, fn: () => void): void {
    this.#q.push(time, { peer, fn });
  }

  /**
   * Run `fn` at the end of this turn of `peer` (what `setImmediate` does in a real peer): after
   * the event being handled, before any other.
   */
  #soon(peer: SimPeer, fn: () => void): void {
    this.#turnEnd.push({ peer, fn });
  }

  #turnEnd: { peer: SimPeer; fn: () => void }[] = [];

  run(): void {
    const limit = 60_000 + this.o.warmupMs + this.#estimate * 20;
    this.#startPeers();
    if (this.o.faults) this.#scheduleFaults();
    else if (this.o.killFraction !== undefined) this.#scheduleKills(this.#random);
    for (let i = 0; i < this.o.joiners; i++) {
      const at = this.o.warmupMs + 100 + this.#random() * this.#estimate * 0.5;
      this.at(at, undefined, () => this.#join(50 + this.#random() * 250));
    }
    this.at(0, undefined, () => this.#sample());
    for (;;) {
      const e = this.#q.pop();
      if (e === undefined) break;
      this.now = e.at;
      // After the job the launcher gives peers a few seconds to leave, then ends them.
      if (this.#mainEnd !== undefined && this.now > this.#mainEnd + AFTER_JOB_MS) break;
      if (this.now > limit) {
        this.#violations.push(
          `the job did not end: main ${this.#mainEnd === undefined ? "still running" : "done"} ` +
            `after ${Math.round(limit)} simulated ms`,
        );
        break;
      }
      const peer = e.item.peer;
      if (peer !== undefined) {
        if (!peer.alive) continue;
        if (peer.hungUntil > this.now) {
          this.#q.push(peer.hungUntil, e.item);
          continue;
        }
      }
      this.#events++;
      e.item.fn();
      for (let i = 0; i < this.#turnEnd.length; i++) {
        const { peer, fn } = this.#turnEnd[i];
        if (peer.alive) fn();
      }
      this.#turnEnd.length = 0;
      if (this.#violations.length > 20) break;
    }
    this.#finalChecks();
  }

  // ---- peers ----

  #newPeer(origin: boolean, late: boolean): SimPeer {
    const n = this.#nextId++;
    const id = origin ? "p0" : `p${n}`;
    const host = {
      id,
      now: () => this.now,
      at: (t: number, fn: () => void) => this.at(t, peer, fn),
      toCore: (m: Parameters<import("./executor.ts").ExecutorHost["toCore"]>[0]) => {
        this.at(this.now + THREAD_HOP_MS, peer, () => {
          if (m.t === "batch") this.#core(peer, { type: "batch", batch: m });
          else this.#core(peer, { type: "setConst", id: m.id, entries: m.entries });
        });
      },
      started: (owner: string, seq: number) => this.#started(peer, owner, seq),
      settled: (seq: number, outcome: unknown, first?: unknown) => {
        if (first === undefined) return;
        this.#duplicates++;
        if (!isDeepStrictEqual(outcome, first)) {
          this.#violation(
            `future ${seq} of ${id} got ${JSON.stringify(outcome)} after ${JSON.stringify(first)}`,
          );
        }
      },
    };
    const exec = new SimExecutor(host, this.#workload.programs);
    const peerRandom = fork(this.#random);
    const state = new PeerState(
      { id, origin, addrs: [], random: peerRandom, ...this.o.core },
      exec,
    );
    const peer: SimPeer = {
      id,
      n,
      origin,
      state,
      exec,
      alive: true,
      left: false,
      leftOk: false,
      hungUntil: 0,
      startedAt: this.now,
      readyAt: undefined,
      late,
      idleSince: undefined,
      idleWorkSince: undefined,
      endedAt: undefined,
      timers: {},
      conns: new Map(),
    };
    this.#peers.set(id, peer);
    this.#all.push(peer);
    return peer;
  }

  /** A process starts: its executor is ready after a start-up delay, then it dials in. */
  #startPeer(peer: SimPeer, delay: number): void {
    this.at(this.now + delay, peer, () => {
      peer.readyAt = this.now;
      this.#core(peer, { type: "ready" });
      if (peer.origin) {
        // `main` starts at once, as the launcher starts it, or after the grid is up (as a job
        // that measures does with grid.waitForPeers()).
        this.at(Math.max(this.now, this.o.warmupMs), peer, () => {
          this.#mainStart = this.now;
          peer.exec.runMain(this.#workload.main, [], (ok, value) => {
            this.#mainEnd = this.now;
            this.#mainOk = ok;
            this.#mainValue = value;
            // The job is over: the origin tells the grid, as the launcher does.
            this.at(this.now, peer, () => this.#core(peer, { type: "stop" }));
          });
        });
        return;
      }
      const boot = this.#bootstrapFor(peer);
      if (boot !== undefined) this.#dial(peer.id, boot.id);
    });
  }

  /** Whom a new peer dials first: the origin in a small grid, else a random peer already in. */
  #bootstrapFor(peer: SimPeer): SimPeer | undefined {
    const origin = this.#peers.get("p0");
    const inGrid = this.#all.filter((p) =>
      p !== peer && p.alive && !p.left && p.readyAt !== undefined && p.state.links.length > 0
    );
    if (this.#all.length <= 40 || inGrid.length === 0) return origin;
    return inGrid[Math.floor(this.#random() * inGrid.length)];
  }

  #startPeers(): void {
    const origin = this.#newPeer(true, false);
    this.#startPeer(origin, 30);
    for (let i = 1; i < this.o.peers; i++) {
      const p = this.#newPeer(false, false);
      // The launcher starts them all at once; on one host they come up over a second (the
      // host's cores load every process at once), spread over many hosts in a third of one.
      this.#startPeer(p, 50 + this.#random() * (this.o.peers <= 40 ? 950 : 250));
    }
  }

  /** Hand `event` to the peer's state machine now, and carry out its actions. */
  #core(peer: SimPeer, event: Event): void {
    if (!peer.alive || peer.left) return;
    const actions = peer.state.handle(event, this.now);
    for (const a of actions) this.#act(peer, a);
  }

  #act(peer: SimPeer, a: Action): void {
    if (this.o.trace) this.#trace(peer, a);
    if (TRACE_LOG && a.type === "log") {
      console.log(`${this.now.toFixed(2)} ${peer.id} ${a.level}: ${a.text}`);
    }
    if (TRACE_LOG && a.type === "leave") {
      console.log(`${this.now.toFixed(2)} ${peer.id} LEAVE ${a.ok} ${a.error ?? ""}`);
    }
    switch (a.type) {
      case "send":
        this.#send(peer, a.to, a.message, a.lazy);
        break;
      case "post": {
        const m: ToWorker = a.message;
        this.at(this.now + THREAD_HOP_MS, peer, () => peer.exec.receive(m));
        break;
      }
      case "timer": {
        // Armed again for another time, a timer fires then only (see `Action`).
        const gen = peer.timers[a.name] = (peer.timers[a.name] ?? 0) + 1;
        const fire = () => {
          if (peer.timers[a.name] === gen) this.#core(peer, { type: "timer", name: a.name });
        };
        if (a.after === 0) this.#soon(peer, fire);
        else this.at(this.now + a.after, peer, fire);
        break;
      }
      case "connect":
        this.#dial(peer.id, a.peer);
        break;
      case "disconnect":
        this.#close(peer.id, a.peer);
        break;
      case "leave":
        this.#leave(peer, a.ok, a.error);
        break;
      case "size":
      case "member":
      case "log":
      case "observe":
      case "telemetry":
        break;
    }
  }

  #trace(peer: SimPeer, a: Action): void {
    const t = this.now.toFixed(3).padStart(10);
    if (a.type === "send") {
      console.log(`${t} ${peer.id} -> ${a.to} ${JSON.stringify(summary(a.message))}`);
    } else if (a.type === "post") console.log(`${t} ${peer.id} exec ${a.message.t}`);
    else console.log(`${t} ${peer.id} ${JSON.stringify(a)}`);
  }

  #leave(peer: SimPeer, ok: boolean, error?: string): void {
    if (peer.left) return;
    peer.left = true;
    peer.endedAt = this.now;
    peer.leftOk = ok;
    if (!ok) {
      this.#gone.add(peer.id);
      if (peer.origin) this.#violation(`the origin left: ${error}`);
    }
    // Its connections close after what it queued (a clean exit).
    for (const id of [...peer.conns.keys()]) this.#close(peer.id, id);
    // A peer that leaves before the job ends is replaced, as the launcher does.
    if (!ok && this.#mainEnd === undefined && this.o.replace) this.#join(50 + this.#random() * 200);
  }

  #join(delay: number): void {
    const p = this.#newPeer(false, true);
    this.#startPeer(p, delay);
  }

  // ---- the network ----

  /** Every connection, once each. */
  #allConns(): Conn[] {
    const out: Conn[] = [];
    for (const p of this.#all) for (const c of p.conns.values()) if (c.a.peer === p) out.push(c);
    return out;
  }

  /** Whether `c` is still the connection between its two peers. */
  #live(c: Conn): boolean {
    return c.a.peer.conns.get(c.b.peer.id) === c;
  }

  #drop(c: Conn): void {
    if (c.a.peer.conns.get(c.b.peer.id) === c) c.a.peer.conns.delete(c.b.peer.id);
    if (c.b.peer.conns.get(c.a.peer.id) === c) c.b.peer.conns.delete(c.a.peer.id);
  }

  /** The side of `c` that is `peer`'s. */
  #side(c: Conn, peer: SimPeer): Side {
    return c.a.peer === peer ? c.a : c.b;
  }

  #cut(a: PeerId, b: PeerId): boolean {
    const p = this.#partition;
    return p !== undefined && p.has(a) !== p.has(b);
  }

  #latency(bytes = 64): number {
    return this.o.latencyMs + this.#netRandom() * this.o.jitterMs + bytes / this.o.bandwidth;
  }

  /** `from` dials `to`: a handshake each way, or a failure reported to `from`. */
  #dial(from: PeerId, to: PeerId): void {
    const src = this.#peers.get(from)!;
    const dst = this.#peers.get(to);
    const existing = src.conns.get(to);
    if (existing !== undefined && !this.#side(existing, src).closed) return; // one at a time
    const fail = (after: number, why: string) =>
      this.at(
        this.now + after,
        src,
        () => this.#core(src, { type: "linkDown", peer: to, reason: why }),
      );
    if (dst === undefined || !dst.alive || dst.left) return fail(this.#latency() * 2, "refused");
    // The old connection's other side has not seen it close yet: it refuses a second one, as
    // the mesh does (one link per pair); the dial is tried again later.
    if (existing !== undefined && !this.#side(existing, dst).closed) {
      return fail(this.#latency() * 2, "duplicate link");
    }
    if (this.#cut(from, to)) return fail(1000, "dial timed out");
    const side = (peer: SimPeer): Side => ({
      peer,
      up: false,
      closed: false,
      last: 0,
      box: [],
      bytes: 0,
      soon: false,
      lazyAt: 0,
    });
    const c: Conn = { a: side(src), b: side(dst), epoch: 0, held: [] };
    src.conns.set(to, c);
    dst.conns.set(from, c);
    this.#wire(c, c.a, c.b, { k: "hello" });
  }

  /** Put `w` on the connection from `from` to `to`, in order after what is on its way. */
  #wire(c: Conn, from: Side, to: Side, w: Wire, bytes = 64): void {
    const at = Math.max(this.now + this.#latency(bytes), from.last + 0.0001);
    from.last = at;
    const epoch = c.epoch;
    this.at(at, to.peer, () => {
      if (c.epoch !== epoch || !this.#live(c)) return;
      if (this.#cut(from.peer.id, to.peer.id)) {
        c.held.push({ to, w });
        return;
      }
      this.#arrive(c, from, to, w);
    });
  }

  #arrive(c: Conn, from: Side, to: Side, w: Wire): void {
    if (to.closed) return;
    switch (w.k) {
      case "hello": {
        if (to.up) return;
        to.up = true;
        if (!from.up) this.#wire(c, to, from, { k: "hello" }); // the listener answers
        this.#core(to.peer, {
          type: "linkUp",
          peer: from.peer.id,
          origin: from.peer.origin,
          addrs: [],
          load: from.peer.state.load,
        });
        break;
      }
      case "frame":
        for (const message of w.ms) {
          if (!to.up || to.closed) return;
          this.#core(to.peer, { type: "message", from: from.peer.id, message });
        }
        break;
      case "close":
        this.#closeSide(c, to, "closed by the peer");
        break;
    }
  }

  #send(src: SimPeer, to: PeerId, m: CoreMessage, lazy = false): void {
    const from = src.id;
    this.#messages++;
    if (this.#inJob()) {
      this.#jobMessages++;
      this.#byType.set(m.t, (this.#byType.get(m.t) ?? 0) + 1);
    }
    if (m.t === "lost") {
      for (const id of m.peers) {
        if (this.#declared.has(id)) continue;
        this.#declared.add(id);
        // Without faults nothing may be declared lost: a peer taken for lost is a false alarm.
        if (!this.o.faults && this.o.killFraction === undefined) {
          this.#violation(`${id} was declared lost (by ${from}) though no peer failed`);
        }
      }
    }
    const c = src.conns.get(to);
    const side = c === undefined ? undefined : this.#side(c, src);
    if (TRACE_SEQ !== undefined && mentions(m, Number(TRACE_SEQ), to, TRACE_OWNER)) {
      console.log(
        `${this.now.toFixed(2)} ${from} -> ${to} ${JSON.stringify(summary(m))}${
          side === undefined || side.closed || !side.up ? " DROPPED" : ""
        }`,
      );
    }
    if (side === undefined || side.closed || !side.up) return;
    if (this.o.sabotage !== undefined && m.t === "results" && m.r.keys.length > 0) {
      const what = this.o.sabotage;
      this.o.sabotage = undefined;
      if (what === "drop") return;
      const data = m.r.data.slice();
      data[m.r.ends[0] - 1] ^= 1; // the last byte of the first value: a small integer here
      m = { ...m, r: { ...m.r, data } };
    }
    if (m.t === "tasks") {
      this.#noteHolders(to, m);
      // The wire copies: a receiver marks tasks dropped in its own copy of a block's seqs.
      m = { ...m, blocks: m.blocks.map((b) => ({ ...b, seqs: b.seqs.slice() })) };
    }
    side.box.push(m);
    side.bytes += sizeOf(m);
    if (!lazy) {
      if (side.soon) return;
      side.soon = true;
      this.#soon(src, () => this.#flushBox(c!, side));
    } else if (!side.soon && side.lazyAt <= this.now) {
      side.lazyAt = this.now + LAZY_MS;
      this.at(side.lazyAt, src, () => this.#flushBox(c!, side));
    }
  }

  /** Send what `side` queued on `c` as one frame. */
  #flushBox(c: Conn, side: Side): void {
    side.soon = false;
    if (side.box.length === 0 || side.closed) return;
    const ms = side.box;
    side.box = [];
    this.#frames++;
    if (this.#inJob()) this.#jobFrames++;
    this.#wire(c, side, side === c.a ? c.b : c.a, { k: "frame", ms }, side.bytes);
    side.bytes = 0;
  }

  /** `from` closes its side: what it sent still arrives, then the other side learns. */
  #close(from: PeerId, to: PeerId): void {
    const src = this.#peers.get(from)!;
    const c = src.conns.get(to);
    if (c === undefined) return;
    const side = this.#side(c, src);
    if (side.closed) return;
    this.#flushBox(c, side); // what is queued leaves first
    side.closed = true;
    side.up = false;
    const remote = side === c.a ? c.b : c.a;
    if (remote.closed) {
      this.#drop(c);
      return;
    }
    this.#wire(c, side, remote, { k: "close" });
  }

  #closeSide(c: Conn, side: Side, why: string): void {
    if (side.closed) return;
    const wasUp = side.up;
    side.closed = true;
    side.up = false;
    const remote = side === c.a ? c.b : c.a;
    if (remote.closed) this.#drop(c);
    // A side that never got up was dialling: its dial failed.
    if (wasUp || c.a === side) {
      this.#core(side.peer, { type: "linkDown", peer: remote.peer.id, reason: why });
    }
  }

  /** A connection reset: what was in flight is lost; both sides learn a latency later. */
  #reset(c: Conn, why: string): void {
    c.epoch++;
    c.held = [];
    this.#drop(c);
    for (const side of [c.a, c.b]) {
      if (side.closed) continue;
      const wasUp = side.up;
      side.closed = true;
      side.up = false;
      const remote = side === c.a ? c.b : c.a;
      if (!wasUp && c.b === side) continue; // a listener that never saw the hello
      this.at(this.now + this.#latency(), side.peer, () => {
        this.#core(side.peer, { type: "linkDown", peer: remote.peer.id, reason: why });
      });
    }
  }

  // ---- faults ----

  #scheduleFaults(): void {
    const r = this.#random;
    const span = this.#estimate;
    const start = this.o.warmupMs + 300;
    const when = () => start + r() * span * 0.8;
    const n = this.o.peers;
    if (this.o.killFraction !== undefined) this.#scheduleKills(r);
    else {
      const kills = Math.min(n - 2, Math.floor(r() * Math.max(1, n / 10)) + (r() < 0.5 ? 1 : 0));
      for (let i = 0; i < kills; i++) this.at(when(), undefined, () => this.#killRandom());
    }
    const hangs = Math.floor(r() * 3);
    for (let i = 0; i < hangs; i++) {
      // Some hangs are shorter than failure detection takes, some longer.
      const d = r() < 0.5 ? 100 + r() * 1000 : 3500 + r() * 3000;
      this.at(when(), undefined, () => this.#hangRandom(d));
    }
    const resets = Math.floor(r() * 4);
    for (let i = 0; i < resets; i++) this.at(when(), undefined, () => this.#resetRandom());
    if (r() < 0.5 && n >= 4) {
      const d = r() < 0.5 ? 200 + r() * 1000 : 3500 + r() * 2500;
      this.at(when(), undefined, () => this.#partitionRandom(d));
    }
    const joins = Math.floor(r() * 3);
    for (let i = 0; i < joins; i++) this.at(when(), undefined, () => this.#join(0));
  }

  /** Kill `killFraction` of the peers mid-job (between 20% and 50% of its expected length). */
  #scheduleKills(r: () => number): void {
    const kills = Math.round(this.o.peers * this.o.killFraction!);
    for (let i = 0; i < kills; i++) {
      const at = this.o.warmupMs + 300 + this.#estimate * (0.2 + 0.3 * r());
      this.at(at, undefined, () => this.#killRandom());
    }
  }

  /** Live, working peers other than the origin. */
  #victims(): SimPeer[] {
    return this.#all.filter((p) => !p.origin && p.alive && !p.left && p.readyAt !== undefined);
  }

  #pickVictim(): SimPeer | undefined {
    if (this.#mainEnd !== undefined) return undefined;
    const v = this.#victims();
    return v.length === 0 ? undefined : v[Math.floor(this.#random() * v.length)];
  }

  #killRandom(): void {
    const p = this.#pickVictim();
    if (p === undefined) return;
    p.alive = false;
    p.endedAt = this.now;
    this.#killed++;
    this.#gone.add(p.id);
    for (const c of [...p.conns.values()]) this.#reset(c, "connection reset (peer killed)");
    // The launcher starts a replacement.
    if (this.o.replace) this.#join(100 + this.#random() * 200);
  }

  #hangRandom(d: number): void {
    const p = this.#pickVictim();
    if (p === undefined || p.hungUntil > this.now) return;
    p.hungUntil = this.now + d;
    // If it is declared lost meanwhile, it learns so when it comes back, and leaves.
    if (d > 2000) this.#gone.add(p.id);
  }

  #resetRandom(): void {
    const cs = this.#allConns().filter((c) => c.a.up && c.b.up);
    if (cs.length === 0 || this.#mainEnd !== undefined) return;
    this.#reset(cs[Math.floor(this.#random() * cs.length)], "connection reset");
  }

  #partitionRandom(d: number): void {
    if (this.#partition !== undefined || this.#mainEnd !== undefined) return;
    const v = this.#victims();
    if (v.length < 2) return;
    // Up to a quarter of the grid, and at most MAX_CUT peers (a rack, a switch): a cut through
    // the middle of a thousand peers is possible, but each side then declares every peer of
    // the other lost, peer by peer, which costs the simulation minutes for no new case.
    const k = 1 + Math.floor(this.#random() * Math.min(MAX_CUT, Math.max(1, v.length / 4)));
    const side = new Set<PeerId>();
    while (side.size < k) side.add(v[Math.floor(this.#random() * v.length)].id);
    this.#partition = side;
    this.#partitionEnd = this.now + d;
    if (d > 2000) { for (const id of side) this.#gone.add(id); }
    this.at(this.#partitionEnd, undefined, () => this.#heal());
  }

  #heal(): void {
    this.#partition = undefined;
    for (const c of this.#allConns()) {
      const held = c.held;
      c.held = [];
      for (const { to, w } of held) {
        const from = to === c.a ? c.b : c.a;
        const at = Math.max(this.now + this.#latency(), from.last + 0.0001);
        from.last = at;
        const epoch = c.epoch;
        this.at(at, to.peer, () => {
          if (c.epoch === epoch && this.#live(c)) this.#arrive(c, from, to, w);
        });
      }
    }
  }

  // ---- invariants ----

  #inJob(): boolean {
    return this.#mainStart !== undefined && this.#mainEnd === undefined;
  }

  #violation(text: string): void {
    this.#violations.push(`at ${this.now.toFixed(1)} ms: ${text}`);
  }

  #noteHolders(to: PeerId, m: Extract<CoreMessage, { t: "tasks" }>): void {
    for (const b of m.blocks) {
      for (const seq of b.seqs) {
        if (seq < 0) continue;
        const k = `${seq}@${b.owner}`;
        let h = this.#holders.get(k);
        if (h === undefined) this.#holders.set(k, h = new Set());
        h.add(to);
      }
    }
  }

  #started(peer: SimPeer, owner: string, seq: number): void {
    const k = `${seq}@${owner}`;
    const n = (this.#starts.get(k) ?? 0) + 1;
    this.#starts.set(k, n);
    if (n === 1) return;
    this.#reruns++;
    // Allowed only when some peer that held it was lost (killed, hung or cut off long, or
    // declared lost by some peer).
    const holders = this.#holders.get(k) ?? new Set();
    holders.add(owner);
    for (const h of holders) if (this.#gone.has(h) || this.#declared.has(h)) return;
    // (A peer that declared it with no link left to say so.)
    for (const h of holders) if (this.#all.some((p) => p.alive && p.state.isLost(h))) return;
    this.#violation(
      `task ${k} ran ${n} times (now on ${peer.id}) though no peer that held it ` +
        `(${[...holders].join(", ")}) was lost`,
    );
  }

  /** Every SAMPLE_MS: idle peers next to peers with work to steal. */
  #sample(): void {
    if (this.#mainEnd !== undefined) return;
    this.at(this.now + SAMPLE_MS, undefined, () => this.#sample());
    const active = this.#all.filter((p) =>
      p.alive && !p.left && p.readyAt !== undefined && p.hungUntil <= this.now
    );
    let anyWork = false;
    for (const p of active) {
      this.#maxLinks = Math.max(this.#maxLinks, p.state.links.length);
      if (p.state.load >= 2) anyWork = true;
    }
    for (const p of active) {
      const idle = p.exec.idle && p.state.queued === 0;
      if (!idle) {
        p.idleSince = undefined;
        p.idleWorkSince = undefined;
        continue;
      }
      if (anyWork) {
        p.idleSince ??= this.now;
        this.#maxIdleWhileWork = Math.max(this.#maxIdleWhileWork, this.now - p.idleSince);
        // Without faults no peer waits long while any peer, linked or not, has work to give.
        if (!this.o.faults && this.now - p.idleSince > GLOBAL_IDLE_LIMIT_MS) {
          this.#violation(
            `${p.id} idle for ${Math.round(this.now - p.idleSince)} ms while some peer had ` +
              `work to steal`,
          );
          p.idleSince = this.now;
        }
      } else p.idleSince = undefined;
      const neighbourWork = p.state.links.some((id) => {
        const q = this.#peers.get(id);
        return q !== undefined && q.alive && !q.left && q.hungUntil <= this.now &&
          q.state.load >= 2 && !this.#cut(p.id, id);
      });
      if (!neighbourWork) {
        p.idleWorkSince = undefined;
        continue;
      }
      p.idleWorkSince ??= this.now;
      // Faults excuse a wait up to failure detection (a steal sent to a peer that then hung).
      const limit = this.o.faults ? IDLE_LIMIT_MS + 4000 : IDLE_LIMIT_MS;
      if (this.now - p.idleWorkSince > limit) {
        this.#violation(
          `${p.id} idle for ${Math.round(this.now - p.idleWorkSince)} ms while a linked peer ` +
            `had work to steal`,
        );
        p.idleWorkSince = undefined;
      }
    }
  }

  #finalChecks(): void {
    if (this.#mainEnd === undefined) {
      if (this.#violations.length === 0) this.#violation("main never finished");
      if (process.env.SIM_DEBUG) this.#explain();
      if (process.env.SIM_DEBUG) {
        for (const p of this.#all) {
          const d = p.state.debug();
          if (
            p.origin || (d.owned as number) > 0 || (d.queued as number) > 0 ||
            (d.handed as number) > 0 || (d.custody as number) > 0 ||
            (d.held as unknown[]).length > 0
          ) {
            console.log(p.id, p.alive, p.left, JSON.stringify(d), "exec idle", p.exec.idle);
          }
        }
      }
      return;
    }
    if (!this.#mainOk) {
      this.#violation(
        `main failed: ${String((this.#mainValue as Error)?.message ?? this.#mainValue)}`,
      );
    } else if (!isDeepStrictEqual(this.#mainValue, this.#workload.expected)) {
      this.#violation(
        `main returned ${JSON.stringify(this.#mainValue).slice(0, 200)}, expected ` +
          JSON.stringify(this.#workload.expected).slice(0, 200),
      );
    }
    // Peers linked to the grid leave when told the job is over (or find the origin gone);
    // the launcher ends those that never linked.
    const stayed = this.#all.filter((p) => p.alive && !p.left && p.state.links.length > 0);
    if (stayed.length > 0 && process.env.SIM_DEBUG) {
      for (const p of stayed) console.log(p.id, JSON.stringify(p.state.debug()));
    }
    if (stayed.length > 0) {
      this.#violation(
        `${stayed.length} linked peer(s) never left after the job: ` +
          stayed.slice(0, 5).map((p) => p.id).join(", "),
      );
    }
  }

  /**
   * Debugging a job that did not end: follow every task the origin awaits to where it is, and
   * through the tasks a running task awaits, to the first place it is not.
   */
  #explain(): void {
    const seen = new Set<string>();
    const follow = (owner: PeerId, seq: number, at: PeerId, depth: number): void => {
      const key = `${seq}@${owner}:${at}`;
      if (seen.has(key) || depth > 60) return;
      seen.add(key);
      const p = this.#peers.get(at)!;
      const w = p.state.where(owner, seq);
      const pad = " ".repeat(depth);
      console.log(
        `${pad}${seq}@${owner} at ${at} (alive ${p.alive}, left ${p.left}): ${JSON.stringify(w)}`,
      );
      const next = [...(w.givenTo as PeerId[])];
      if (typeof w.lentTo === "string") next.push(w.lentTo);
      for (const n of next) follow(owner, seq, n, depth + 1);
      if (w.handed) {
        // Running here: it waits on tasks this peer owns.
        const d = p.state.debug();
        for (const s of (d.unsettled as number[] | undefined) ?? []) follow(at, s, at, depth + 1);
      }
      if (!w.queued && !w.handed && next.length === 0) console.log(`${pad}  ^ NOT HERE`);
    };
    const o = this.#peers.get("p0")!;
    for (const s of (o.state.debug().unsettled as number[] | undefined) ?? []) {
      follow("p0", s, "p0", 0);
    }
  }

  /** Peer-milliseconds of peers up while `main` ran. */
  #jobPeerMs(): number {
    const from = this.#mainStart ?? 0;
    const to = this.#mainEnd ?? this.now;
    let ms = 0;
    for (const p of this.#all) {
      if (p.readyAt === undefined) continue;
      ms += Math.max(0, Math.min(to, p.endedAt ?? to) - Math.max(from, p.readyAt));
    }
    return Math.max(ms, 1);
  }

  result(): SimResult {
    let steals = 0, hits = 0, requeued = 0, relayed = 0, held = 0, lost = 0;
    for (const p of this.#all) {
      const s = p.state.stats;
      steals += s.steals;
      hits += s.stealHits;
      requeued += s.requeued;
      relayed += s.relayed;
      held += s.held;
    }
    for (const p of this.#all) if (this.#declared.has(p.id)) lost++;
    const joins = this.#all
      .filter((p) => p.late && p.exec.firstTaskAt !== undefined)
      .map((p) => p.exec.firstTaskAt! - p.readyAt!)
      .sort((a, b) => a - b);
    const metrics: SimMetrics = {
      workload: this.#workload.name,
      peers: this.o.peers,
      tasks: this.#workload.tasks,
      makespanMs: round((this.#mainEnd ?? this.now) - (this.#mainStart ?? 0)),
      idealMs: round(this.#workload.workMs / this.o.peers),
      msgsPerPeerSec: round(this.#jobMessages / (this.#jobPeerMs() / 1000)),
      framesPerPeerSec: round(this.#jobFrames / (this.#jobPeerMs() / 1000)),
      messages: this.#messages,
      byType: Object.fromEntries(this.#byType),
      stealSuccess: round(steals === 0 ? 1 : hits / steals),
      joinFirstTaskMs: {
        median: round(joins[Math.floor(joins.length / 2)] ?? 0),
        max: round(joins.at(-1) ?? 0),
        n: joins.length,
      },
      killed: this.#killed,
      declaredLost: lost,
      reruns: this.#reruns,
      duplicates: this.#duplicates,
      requeued,
      relayed,
      held,
      maxIdleWhileWork: round(this.#maxIdleWhileWork),
      maxLinks: this.#maxLinks,
      minTasksPerPeer: Math.min(...this.#all.filter((p) => !p.late).map((p) => p.exec.tasksRun)),
      wallMs: 0,
      events: this.#events,
    };
    return {
      options: { ...this.o },
      ok: this.#violations.length === 0,
      violations: this.#violations,
      metrics,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Bytes a message takes on the wire, roughly. */
function sizeOf(m: CoreMessage): number {
  switch (m.t) {
    case "tasks": {
      let n = 32;
      for (const b of m.blocks) n += 64 + b.data.byteLength + b.seqs.length * 14;
      return n;
    }
    case "results":
    case "relay":
      return 32 + m.r.data.byteLength + m.r.keys.length * 13;
    case "const":
      return 32 + m.entries.reduce((s, [k, v]) => s + k.length + v.byteLength, 0);
    default:
      return 48;
  }
}

function mentions(m: CoreMessage, seq: number, to: PeerId, owner?: PeerId): boolean {
  const of = (o: PeerId) => owner === undefined || o === owner;
  switch (m.t) {
    case "tasks":
      return m.blocks.some((b) => of(b.owner) && b.seqs.includes(seq));
    case "results":
    case "started":
      return of(to) && (m.t === "results" ? m.r.keys.includes(seq) : m.seqs.includes(seq));
    case "relay":
      return of(m.owner) && m.r.keys.includes(seq);
    case "done":
    case "cancel":
      return of(m.owner) && m.seqs.includes(seq);
    default:
      return false;
  }
}

function summary(m: CoreMessage): unknown {
  switch (m.t) {
    case "tasks":
      return { t: m.t, n: m.blocks.reduce((s, b) => s + b.seqs.length, 0), load: m.load };
    case "results":
    case "relay":
      return {
        t: m.t,
        owner: m.t === "relay" ? m.owner : undefined,
        keys: [...m.r.keys].slice(0, 8),
        n: m.r.keys.length,
      };
    case "const":
      return { t: m.t, wave: m.wave, names: m.entries.map(([k]) => k) };
    default:
      return m;
  }
}
