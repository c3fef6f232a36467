/**
 * The decisions of one peer as a state machine: `handle(event, now)` returns the actions to
 * carry out. It does no I/O, reads no clock (time comes with each event) and draws no random
 * number but from the generator it is given, so a test can drive it event by event and the
 * simulator can run a thousand of them under seeded faults, replaying any run exactly.
 *
 * What it decides:
 * - **Work.** The executor runs this peer's newest tasks first (depth first), in batches sized
 *   to hold it about 16 ms. A hungry executor with nothing queued makes the peer steal: it picks
 *   a linked peer at random, weighted by gossiped load, and takes the oldest half of its queue.
 *   Tasks handed to an executor stuck in a long synchronous task are revoked, so thieves can
 *   have them. An idle peer sleeps until a neighbour gossips that it has work.
 * - **Results.** A task's result goes straight to its owner when linked to it, otherwise back
 *   along the way the task came (`relay`), or waits for a link; it is dropped only when the
 *   owner is lost. Whoever gives a task away keeps it until told it finished, and queues it
 *   again if the taker is lost (`custody.ts`; the owner's own lending is `results/table.ts`).
 * - **Links.** A peer dials half of `degree` links itself, to peers picked at random from
 *   those it knows, and accepts links from others until it has `maxDegree`, turning newcomers
 *   away past that with a sample of peers to try instead; so links average `degree` and never
 *   pass `maxDegree` however large the grid. Peers learn of each other by gossiping samples of
 *   the peers they know (itself included) with one random neighbour now and then. Reliable
 *   messages survive a broken link (`session.ts`).
 * - **Failures.** A link that breaks, or stays silent past `silentMs`, makes its peer a suspect;
 *   a suspect not heard by any neighbour asked (`probe`) within `confirmMs` is declared lost,
 *   and the word spreads. A lost peer's work runs again elsewhere; it is never linked again.
 *   Losing the origin ends the job.
 *
 * @module
 */
import type { ToWorker } from "../executor/protocol.ts";
import { payloadOf, type ResultBatch, ResultBuilder } from "../results/batch.ts";
import { HANDED, LENT, NONE, QUEUED, ResultTable } from "../results/table.ts";
import { argsOf, BlockBuilder, sliceBlock, type TaskBlock } from "../scheduler/block.ts";
import { TaskDeque } from "../scheduler/deque.ts";
import { pickVictim, stealCount, worthGossiping } from "../scheduler/policy.ts";
import { Custody } from "./custody.ts";
import {
  type Action,
  type CoreConfig,
  DEFAULT_CONFIG,
  type Event,
  type ExecutorBatch,
  type ExecutorView,
  type TimerName,
} from "./events.ts";
import { type CoreMessage, type PeerAddrs, type PeerId, RELIABLE } from "./messages.ts";
import { Session } from "./session.ts";

/** Target wall time of one batch handed to the executor; sizes adapt to measured task times. */
const BATCH_TARGET_MS = 16;
const MAX_BATCH = 1024;
/** How often a peer looks whether its executor got stuck on handed tasks (see `#watch`). */
export const WATCH_MS = 10;
/** Neighbours asked whether they still hear a suspect. */
const PROBES = 3;
/** A peer that turned us away is not dialled again for membership for this long. */
const PRUNE_BACKOFF_MS = 10_000;
/** A dial with no answer this long counts as failed. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Tasks handed to the executor in one "run" message. */
interface HandedRun {
  idx0: number;
  blocks: TaskBlock[];
  /** 1 for each run index (from idx0) that finished or was revoked. */
  finished: Uint8Array;
  left: number;
}

/** What this peer knows of a peer it is, was or wants to be linked to. */
interface PeerInfo {
  linked: boolean;
  origin: boolean;
  session: Session | undefined;
  /** Last time a message came from it, or went to it (for heartbeats). */
  heard: number;
  sent: number;
  /** Since when it is unreachable (its link broke); undefined while fine. */
  suspect: number | undefined;
  /** Last time a neighbour said it still hears it, and when we last asked. */
  vouched: number;
  probed: number;
  /** When a dial to it was asked for, while no answer came. */
  connecting: number | undefined;
  /** When it turned us away (it has links enough). */
  pruned: number | undefined;
  /** Whether this side asked for the link (see `#fill`). */
  outbound: boolean;
}

/** Results waiting for a way to their owner. */
interface Held {
  seq: number;
  ok: 0 | 1;
  payload: Uint8Array;
  via: PeerId | undefined;
}

/** A constant broadcast passing through this peer (see `#onConst`). */
interface Wave {
  /** Whom to acknowledge once `waiting` is empty; none where it started. */
  parent: PeerId | undefined;
  /** The executor's id for a broadcast that started here. */
  localId: number | undefined;
  waiting: Set<PeerId>;
}

/** Counters of a peer's scheduling, for benchmarks, the simulator and debugging. */
export interface PeerStats {
  /** Steal requests sent, how many brought tasks, tasks received that way. */
  steals: number;
  stealHits: number;
  stolenTasks: number;
  /** Tasks handed to the executor, and given to thieves. */
  tasksRun: number;
  tasksGiven: number;
  /** Results passed on toward their owner for another peer, and results held for a route. */
  relayed: number;
  held: number;
  /** Tasks queued again because a peer holding them was lost. */
  requeued: number;
  /** Messages sent, by type. */
  sent: Record<string, number>;
}

/** The state machine of one peer (see the module doc). */
export class PeerState {
  /** This peer's id. */
  readonly id: PeerId;
  readonly stats: PeerStats = {
    steals: 0,
    stealHits: 0,
    stolenTasks: 0,
    tasksRun: 0,
    tasksGiven: 0,
    relayed: 0,
    held: 0,
    requeued: 0,
    sent: {},
  };
  readonly #origin: boolean;
  readonly #addrs: string[];
  readonly #random: () => number;
  readonly #exec: ExecutorView;
  readonly #cfg: Required<Omit<CoreConfig, "id" | "origin" | "addrs" | "random">>;

  #now = 0;
  #out: Action[] = [];
  #armed = new Set<TimerName>();
  #left = false;

  // ---- work ----
  #table = new ResultTable();
  /** Queued tasks; an owned one is live while the table says it is QUEUED here. */
  #deque = new TaskDeque((block, i) => {
    const seq = block.seqs[i];
    return seq >= 0 && (block.owner !== this.id || this.#table.code(seq) === QUEUED);
  });
  #custody = new Custody();
  /** Runs handed to the executor with tasks not finished (nor revoked), oldest first. */
  #handed: HandedRun[] = [];
  #nextIdx = 0;
  #runsSent = 0;
  #hungry = false;
  #batch = 1;
  #stealing: PeerId | undefined;
  /** Gossiped load of each linked peer. */
  #loads = new Map<PeerId, number>();
  #sentLoad = 0;
  #gossipDue = false;
  #resolveBuf = new ResultBuilder();
  #startedBuf: number[] = [];

  // ---- results on their way out (built during one event, sent at its end) ----
  #outResults = new Map<PeerId, ResultBuilder>();
  #outRelays = new Map<PeerId, Map<PeerId, ResultBuilder>>();
  #outDone = new Map<PeerId, Map<PeerId, number[]>>();
  #outStarted = new Map<PeerId, number[]>();
  #held = new Map<PeerId, Held[]>();

  // ---- peers ----
  /** Address book: every live peer heard of (not lost), with its addresses. */
  #known = new Map<PeerId, string[]>();
  #peers = new Map<PeerId, PeerInfo>();
  #lost = new Set<PeerId>();
  /** The origin's id, once heard of (from its link, or gossiped). */
  #originId: PeerId | undefined;
  #linkedCount = 0;
  /** Links this side asked for. */
  #outCount = 0;
  #everLinked = false;
  #ackDue = new Set<PeerId>();
  #lastShuffle = 0;
  #lastTick = 0;
  #lastSize = 1;

  // ---- constants ----
  #consts = new Map<string, Uint8Array>();
  #waves = new Map<string, Wave>();
  #seenWaves = new Set<string>();
  #nextWave = 0;

  constructor(config: CoreConfig, executor: ExecutorView) {
    this.id = config.id;
    this.#origin = config.origin;
    this.#addrs = config.addrs;
    this.#random = config.random;
    this.#exec = executor;
    if (config.origin) this.#originId = config.id;
    this.#cfg = {
      degree: config.degree ?? DEFAULT_CONFIG.degree,
      maxDegree: config.maxDegree ?? DEFAULT_CONFIG.maxDegree,
      tickMs: config.tickMs ?? DEFAULT_CONFIG.tickMs,
      heartbeatMs: config.heartbeatMs ?? DEFAULT_CONFIG.heartbeatMs,
      silentMs: config.silentMs ?? DEFAULT_CONFIG.silentMs,
      confirmMs: config.confirmMs ?? DEFAULT_CONFIG.confirmMs,
      shuffleMs: config.shuffleMs ?? DEFAULT_CONFIG.shuffleMs,
      sampleSize: config.sampleSize ?? DEFAULT_CONFIG.sampleSize,
    };
  }

  /** What a thief could get from this peer now (sent in the handshake). */
  get load(): number {
    return this.#stealable();
  }

  /** Live peers this peer knows of, itself included. */
  get size(): number {
    return this.#known.size + 1;
  }

  /** Peers linked now. */
  get links(): PeerId[] {
    const out: PeerId[] = [];
    for (const [id, p] of this.#peers) if (p.linked) out.push(id);
    return out;
  }

  /** Whether this peer has left the grid (it handles nothing more). */
  get left(): boolean {
    return this.#left;
  }

  /** Tasks queued here (live), for tests and the simulator. */
  get queued(): number {
    return this.#deque.length;
  }

  /** Owned tasks awaiting results, tasks kept for thieves, results held for a route. */
  get inFlight(): { owned: number; custody: number; held: number } {
    let held = 0;
    for (const h of this.#held.values()) held += h.length;
    return { owned: this.#table.size, custody: this.#custody.size, held };
  }

  /** Where things stand, for the simulator's reports and debugging. */
  debug(): Record<string, unknown> {
    const lent: Record<string, number> = {};
    const sessions: Record<string, unknown> = {};
    for (const [id, p] of this.#peers) {
      const n = this.#table.lentCount(id);
      if (n > 0) lent[id] = n;
      if (p.session !== undefined && (p.session.pending > 0 || !p.linked)) {
        sessions[id] = { linked: p.linked, pending: p.session.pending, suspect: p.suspect };
      }
    }
    return {
      id: this.id,
      queued: this.#deque.length,
      handed: this.#handed.reduce((n, r) => n + r.left, 0),
      hungry: this.#hungry,
      stealing: this.#stealing,
      owned: this.#table.size,
      unsettled: this.#table.size < 10 ? this.#table.unsettled() : undefined,
      lent,
      custody: this.#custody.size,
      held: [...this.#held].map(([o, h]) => [o, h.length]),
      links: this.links.length,
      sessions,
    };
  }

  /** Whether `peer` was declared lost here. */
  isLost(peer: PeerId): boolean {
    return this.#lost.has(peer);
  }

  /** Handle one event at time `now` (ms); returns what to do. */
  handle(event: Event, now: number): Action[] {
    if (this.#left) return [];
    this.#now = now;
    switch (event.type) {
      case "batch":
        this.#onBatch(event.batch);
        break;
      case "message":
        this.#onMessage(event.from, event.message);
        break;
      case "timer":
        this.#armed.delete(event.name);
        if (event.name === "flush") this.#flush();
        else if (event.name === "watch") this.#watch();
        else this.#tick();
        break;
      case "heard":
        for (const id of event.peers) {
          const p = this.#peers.get(id);
          if (p?.linked) p.heard = now;
        }
        break;
      case "linkUp":
        this.#onLinkUp(event.peer, event.origin, event.addrs, event.load);
        break;
      case "linkDown":
        this.#onLinkDown(event.peer, event.reason);
        break;
      case "ready":
        this.#hungry = true;
        this.#arm("tick", this.#cfg.tickMs);
        this.#pump();
        break;
      case "setConst":
        this.#setConst(event.id, event.entries);
        break;
      case "stop":
        for (const id of this.links) this.#send(id, { t: "stop" });
        this.#leave(true);
        break;
    }
    if (!this.#left) this.#sendOutgoing();
    const out = this.#out;
    this.#out = [];
    return out;
  }

  // ---- plumbing ----

  #arm(name: TimerName, after: number): void {
    if (this.#armed.has(name)) return;
    this.#armed.add(name);
    this.#out.push({ type: "timer", name, after });
  }

  #post(message: ToWorker): void {
    this.#out.push({ type: "post", message });
  }

  #log(level: "debug" | "info" | "warn" | "error", text: string): void {
    this.#out.push({ type: "log", level, text });
  }

  /**
   * Send to a peer. Reliable messages go into its session, and out when a link is up (a dial
   * is asked for if none is); others go only on a link that is up. False when the message
   * cannot go at all: the peer is lost, or was never linked (no session) for a reliable one.
   */
  #send(to: PeerId, message: CoreMessage, lazy = false): boolean {
    const p = this.#peers.get(to);
    if (p === undefined) return false;
    if (RELIABLE.has(message.t)) {
      if (p.session === undefined) return false;
      if (!p.session.send(message)) {
        if (!p.linked) this.#connect(to, p);
        return true;
      }
    } else if (!p.linked) {
      return false;
    }
    this.#emit(to, p, message, lazy);
    return true;
  }

  #emit(to: PeerId, p: PeerInfo, message: CoreMessage, lazy: boolean): void {
    p.sent = this.#now;
    const sent = this.stats.sent;
    sent[message.t] = (sent[message.t] ?? 0) + 1;
    this.#out.push({ type: "send", to, message, lazy });
  }

  #linked(id: PeerId): boolean {
    return this.#peers.get(id)?.linked === true;
  }

  #leave(ok: boolean, error?: string): void {
    if (this.#left) return;
    this.#left = true;
    this.#out.push(error === undefined ? { type: "leave", ok } : { type: "leave", ok, error });
  }

  #sizeChanged(): void {
    const n = this.size;
    if (n === this.#lastSize) return;
    this.#lastSize = n;
    this.#post({ t: "size", n });
    this.#out.push({ type: "size", n });
  }

  // ---- the executor ----

  #onBatch(m: ExecutorBatch): void {
    if (m.submit !== null) {
      const block = { ...m.submit, owner: this.id };
      for (const seq of block.seqs) this.#table.add(seq);
      this.#deque.push(block);
    }
    if (m.cancel.length > 0) this.#cancelOwned(m.cancel);
    if (m.done !== null) this.#onDone(m.done);
    if (m.ran > 0) this.#adaptBatch(m.ranMs / m.ran);
    // A hunger written before the executor saw our latest batch was fed by that batch.
    if (m.runs === this.#runsSent) this.#hungry = m.hungry;
    this.#pump();
    this.#noteLoad();
  }

  /**
   * Size the next batch so that it holds the executor about BATCH_TARGET_MS, from how long
   * finished tasks held it (time blocked on futures excluded), as the executor reports: small
   * for long tasks (little is stranded behind a long one), large for tiny ones and for tasks
   * that mostly await their children (few messages). It at most doubles per report, like a slow
   * start, so one fast report does not hand out a thousand slow tasks.
   */
  #adaptBatch(perTask: number): void {
    const fit = perTask > 0 ? Math.floor(BATCH_TARGET_MS / perTask) : MAX_BATCH;
    this.#batch = Math.max(1, Math.min(MAX_BATCH, fit, this.#batch * 2));
  }

  /**
   * The handed task with run index `idx`, marked finished (it must not be handed back twice):
   * its block and index there, or undefined if unknown or already finished.
   */
  #finishHanded(idx: number): { block: TaskBlock; i: number } | undefined {
    for (let r = 0; r < this.#handed.length; r++) {
      const run = this.#handed[r];
      let pos = idx - run.idx0;
      if (pos < 0 || pos >= run.finished.length) continue;
      if (run.finished[pos] === 1) return undefined;
      run.finished[pos] = 1;
      if (--run.left === 0) this.#handed.splice(r, 1);
      for (const block of run.blocks) {
        if (pos < block.seqs.length) return { block, i: block.seqs.length - 1 - pos };
        pos -= block.seqs.length;
      }
    }
    return undefined;
  }

  #onDone(done: ResultBatch): void {
    for (let k = 0; k < done.keys.length; k++) {
      const task = this.#finishHanded(done.keys[k]);
      if (task === undefined) continue;
      const { block, i } = task;
      const seq = block.seqs[i];
      if (block.owner === this.id) {
        this.#settleOwned(seq);
        // One of ours that came back through another peer: that peer keeps it until told.
        if (block.via !== undefined) this.#queueDone(block.via, this.id, seq);
        continue;
      }
      this.#route(block.owner, block.via, seq, done.oks[k] as 0 | 1, payloadOf(done, k));
    }
  }

  /** Hand the executor a batch of the newest tasks, or go stealing. */
  #pump(): void {
    if (!this.#hungry || this.#left) return;
    if (this.#deque.length === 0) {
      this.#steal();
      return;
    }
    const blocks = this.#deque.take(this.#batch);
    let n = 0;
    for (const block of blocks) {
      n += block.seqs.length;
      if (block.owner === this.id) {
        for (const seq of block.seqs) this.#table.move(seq, HANDED);
        continue;
      }
      // Owners learn that their tasks started (for `running()` and `cancel()`) with the next
      // message that goes their way, when linked to them.
      if (!this.#linked(block.owner)) continue;
      let s = this.#outStarted.get(block.owner);
      if (s === undefined) this.#outStarted.set(block.owner, s = []);
      for (const seq of block.seqs) s.push(seq);
    }
    if (n === 0) {
      // The deque's count was off and it has healed: never post an empty run; steal instead.
      this.#steal();
      return;
    }
    const idx0 = this.#nextIdx;
    this.#nextIdx += n;
    this.#handed.push({ idx0, blocks, finished: new Uint8Array(n), left: n });
    this.#hungry = false;
    this.#runsSent++;
    this.stats.tasksRun += n;
    // The blocks stay here until their tasks finish (to revoke them): the executor gets copies,
    // moved rather than cloned, except for large arguments in shared memory, which it shares.
    const copies = blocks.map((b) => sliceBlock(b, 0, b.seqs.length));
    this.#post({ t: "run", idx0, blocks: copies });
    this.#arm("watch", WATCH_MS);
    this.#noteLoad();
    // The deque just ran dry while the executor still has work: steal ahead, so that the
    // reply arrives before the executor is idle (a round trip on a loaded host takes ms).
    if (this.#deque.length === 0) this.#steal(2);
  }

  /** Take back handed tasks the executor has not started (it is stuck in a long task). */
  #revoke(): void {
    let cur: number;
    for (;;) {
      // A free executor starts what it holds as soon as the message arrives: leave it be.
      if (!this.#exec.busy()) return;
      cur = this.#exec.claimed();
      if (cur < 0 || cur >= this.#nextIdx) return;
      if (this.#exec.revoke(cur)) break; // else it started one meanwhile: look again
    }
    const to = this.#nextIdx - 1;
    const back = new Map<string, BlockBuilder>();
    for (let idx = cur; idx <= to; idx++) {
      const task = this.#finishHanded(idx);
      if (task === undefined) continue;
      const { block, i } = task;
      if (block.owner === this.id && !this.#table.move(block.seqs[i], QUEUED)) continue;
      const k = block.via === undefined ? block.owner : `${block.owner}\0${block.via}`;
      let b = back.get(k);
      if (b === undefined) back.set(k, b = new BlockBuilder(block.owner, false, block.via));
      b.add(block.seqs[i], block.names[block.kinds[i]], argsOf(block, i));
    }
    for (const b of back.values()) this.#deque.unshift(b.finish());
    this.#post({ t: "revoked", from: cur, to });
    this.#log("debug", `revoked ${to - cur + 1} unstarted task(s) from the busy executor`);
  }

  /** What a thief could get from us now. */
  #stealable(): number {
    if (!this.#exec.busy()) return this.#deque.length;
    const claimed = this.#exec.claimed();
    const unstarted = claimed < 0 ? 0 : this.#nextIdx - claimed;
    // Every unstarted task counts, even the next one: the executor may be stuck in a long
    // synchronous task, and a single task left behind it would wait that long for nothing.
    return this.#deque.length + unstarted;
  }

  /**
   * While the executor holds handed tasks it has not started, look again every WATCH_MS: if it
   * got stuck in a long task meanwhile, those tasks became stealable, and only a fresh load
   * estimate tells idle peers so (a stuck executor cannot say it). No timer runs otherwise.
   */
  #watch(): void {
    const claimed = this.#exec.claimed();
    if (claimed >= 0 && claimed < this.#nextIdx) {
      this.#noteLoad();
      this.#arm("watch", WATCH_MS);
    }
  }

  // ---- stealing and load gossip ----

  #noteLoad(): void {
    this.#gossipDue = true;
    this.#arm("flush", 0);
  }

  #gossipLoad(): void {
    this.#gossipDue = false;
    const n = this.#stealable();
    if (!worthGossiping(this.#sentLoad, n)) return;
    // Having work or none at all is news to act on now (idle peers steal on it); a change in
    // how much can wait for the next message out.
    const lazy = (this.#sentLoad === 0) === (n === 0);
    this.#sentLoad = n;
    for (const [id, p] of this.#peers) if (p.linked) this.#emit(id, p, { t: "load", n }, lazy);
  }

  /** Ask one linked peer, picked at random by load, for work; only peers with `min` or more. */
  #steal(min = 1): void {
    if (this.#stealing !== undefined) return;
    const victim = pickVictim(this.#loads, this.#random, min);
    if (victim === undefined) return; // sleep until some peer gossips work
    this.#stealing = victim;
    this.stats.steals++;
    if (!this.#send(victim, { t: "steal" })) {
      this.#stealing = undefined;
      this.#loads.delete(victim);
    }
  }

  #onSteal(thief: PeerId): void {
    if (this.#deque.length === 0) this.#revoke();
    const blocks: TaskBlock[] = [];
    let given = 0;
    for (const block of this.#deque.shift(stealCount(this.#deque.length))) {
      let live = 0;
      for (const seq of block.seqs) if (seq >= 0) live++;
      if (block.owner === this.id) {
        // Ours are lent: kept in the table until they settle, queued again if the thief is lost.
        if (!this.#table.lend(thief, block)) {
          this.#deque.unshift(block, live); // no holder code free: keep them
          continue;
        }
      } else if (block.via !== thief) {
        // Others' are kept here until the thief says they finished. Given back to the peer
        // they came from, they are that peer's to keep again.
        this.#custody.give(thief, block);
      }
      blocks.push(wireBlock(block));
      given += live;
    }
    this.stats.tasksGiven += given;
    const load = this.#stealable();
    this.#send(thief, { t: "tasks", blocks, load });
    // The thief now holds the freshest estimate; gossip again as soon as it goes stale (an
    // empty reply followed by an executor stuck on handed tasks must reach the thieves).
    this.#sentLoad = load;
    if (given > 0) this.#noteLoad();
  }

  #onTasks(from: PeerId, blocks: TaskBlock[], load: number): void {
    if (this.#stealing === from) this.#stealing = undefined;
    if (this.#linked(from)) this.#loads.set(from, load);
    let got = 0;
    for (const raw of blocks) {
      const block: TaskBlock = { ...raw, via: from };
      const mine = block.owner === this.id;
      let live = 0;
      let split: Map<string, BlockBuilder> | undefined;
      const returning = mine || this.#custody.holds(from);
      for (let i = 0; i < block.seqs.length; i++) {
        const seq = block.seqs[i];
        if (seq < 0) continue;
        live++;
        if (!returning) continue;
        // A task coming back the way it went: the record of giving it ends here, and it goes
        // on with the `via` it had before (none, for our own tasks lent to this very peer).
        let via: PeerId | undefined = from;
        if (mine) {
          const code = this.#table.code(seq);
          if (code < LENT) { // settled meanwhile, or here already: not to run again
            block.seqs[i] = -1;
            live--;
            continue;
          }
          if (this.#table.holderOf(code) === from) via = undefined;
          this.#table.move(seq, QUEUED);
        } else {
          const kept = this.#custody.take(from, block.owner, seq);
          if (kept !== undefined) via = kept.via;
        }
        if (via !== from) {
          split ??= new Map();
          const k = via ?? "";
          let b = split.get(k);
          if (b === undefined) split.set(k, b = new BlockBuilder(block.owner, false, via));
          b.addFrom(block, i);
          block.seqs[i] = -1;
        }
      }
      got += live;
      if (split !== undefined) {
        for (const b of split.values()) {
          const part = b.finish();
          live -= part.seqs.length;
          this.#deque.push(part);
        }
      }
      if (live > 0) this.#deque.push(block, live);
    }
    if (got > 0) {
      this.stats.stealHits++;
      this.stats.stolenTasks += got;
    }
    this.#pump();
  }

  // ---- results ----

  /**
   * Send a result of `owner`'s task on its way: straight to the owner when linked (or when it
   * is the peer the task came from), else back to the peer it came from, else held until a
   * link to the owner is up.
   */
  #route(owner: PeerId, via: PeerId | undefined, seq: number, ok: 0 | 1, payload: Uint8Array) {
    if (this.#lost.has(owner)) return; // nobody awaits it any more
    const p = this.#peers.get(owner);
    if (via === owner || p?.linked === true) {
      let b = this.#outResults.get(owner);
      if (b === undefined) this.#outResults.set(owner, b = new ResultBuilder());
      b.add(seq, ok, payload);
      if (via !== undefined && via !== owner) this.#queueDone(via, owner, seq);
      return;
    }
    if (via !== undefined && this.#peers.get(via)?.session !== undefined) {
      let byOwner = this.#outRelays.get(via);
      if (byOwner === undefined) this.#outRelays.set(via, byOwner = new Map());
      let b = byOwner.get(owner);
      if (b === undefined) byOwner.set(owner, b = new ResultBuilder());
      b.add(seq, ok, payload);
      return;
    }
    let h = this.#held.get(owner);
    if (h === undefined) this.#held.set(owner, h = []);
    h.push({ seq, ok, payload, via });
    this.stats.held++;
    this.#connect(owner);
  }

  #queueDone(to: PeerId, owner: PeerId, seq: number): void {
    if (this.#lost.has(to)) return;
    let byOwner = this.#outDone.get(to);
    if (byOwner === undefined) this.#outDone.set(to, byOwner = new Map());
    let l = byOwner.get(owner);
    if (l === undefined) byOwner.set(owner, l = []);
    l.push(seq);
  }

  /** Send what this event routed: results, relays, done notices, started notices. */
  #sendOutgoing(): void {
    if (this.#outResults.size > 0) {
      // While the executor has tasks lined up to start, more results follow soon: these wait
      // for them (or for any message to their owner, at most the link's lazy delay) rather
      // than cost a frame each. Results leave at once when nothing is lined up (tasks awaiting
      // others are not: their results may be what unblocks them).
      const claimed = this.#exec.claimed();
      const lazy = claimed >= 0 && claimed < this.#nextIdx;
      for (const [owner, b] of this.#outResults) {
        this.#send(owner, { t: "results", r: b.finish(true) }, lazy);
      }
      this.#outResults.clear();
    }
    if (this.#outRelays.size > 0) {
      for (const [via, byOwner] of this.#outRelays) {
        for (const [owner, b] of byOwner) {
          this.stats.relayed += b.length;
          this.#send(via, { t: "relay", owner, r: b.finish(true) });
        }
      }
      this.#outRelays.clear();
    }
    if (this.#outDone.size > 0) {
      for (const [to, byOwner] of this.#outDone) {
        for (const [owner, seqs] of byOwner) this.#send(to, { t: "done", owner, seqs }, true);
      }
      this.#outDone.clear();
    }
    if (this.#outStarted.size > 0) {
      for (const [owner, seqs] of this.#outStarted) this.#send(owner, { t: "started", seqs }, true);
      this.#outStarted.clear();
    }
  }

  #onResults(r: ResultBatch): void {
    for (let i = 0; i < r.keys.length; i++) {
      if (this.#settleOwned(r.keys[i]) === NONE) continue; // a duplicate, or cancelled
      this.#resolveBuf.add(r.keys[i], r.oks[i] as 0 | 1, payloadOf(r, i));
    }
    this.#arm("flush", 0);
  }

  /** Results relayed back by `from` (a peer this one gave the tasks to). */
  #onRelay(from: PeerId, owner: PeerId, r: ResultBatch): void {
    if (owner === this.id) {
      this.#onResults(r);
      return;
    }
    for (let i = 0; i < r.keys.length; i++) {
      const seq = r.keys[i];
      const kept = this.#custody.take(from, owner, seq);
      // Not kept: cancelled meanwhile, or handed back already; pass it on only when linked.
      if (kept === undefined && !this.#linked(owner)) continue;
      this.#route(owner, kept?.via, seq, r.oks[i] as 0 | 1, payloadOf(r, i));
    }
  }

  /** `from` finished tasks of `owner` this peer gave it: pass the word back the same way. */
  #onDoneNotice(from: PeerId, owner: PeerId, seqs: number[]): void {
    for (const seq of seqs) {
      const kept = this.#custody.take(from, owner, seq);
      if (kept?.via !== undefined && kept.via !== owner) this.#queueDone(kept.via, owner, seq);
    }
  }

  /** Hand the executor what piled up this turn; gossip load; acknowledge what arrived. */
  #flush(): void {
    if (this.#resolveBuf.length > 0 || this.#startedBuf.length > 0) {
      const r = this.#resolveBuf.length > 0 ? this.#resolveBuf.finish() : null;
      this.#post({ t: "resolve", r, started: this.#startedBuf });
      this.#startedBuf = [];
    }
    if (this.#gossipDue) this.#gossipLoad();
    for (const id of this.#ackDue) {
      const p = this.#peers.get(id);
      const s = p?.session;
      if (p === undefined || s === undefined || !p.linked || !s.owesAck) continue;
      s.acked = s.received;
      this.#emit(id, p, { t: "ack", got: s.received }, true);
    }
    this.#ackDue.clear();
  }

  /**
   * Settle an owned task (it has a result, or was cancelled): returns where it was. One still
   * queued here is counted out of the deque, which will skip it (it can be queued here while a
   * result arrives: reclaimed from a lost thief that had passed it on, or a late result).
   */
  #settleOwned(seq: number): number {
    const code = this.#table.settle(seq);
    if (code === QUEUED) this.#deque.forget();
    return code;
  }

  /** The executor cancelled futures: drop their tasks here, or tell the peers holding them. */
  #cancelOwned(seqs: number[]): void {
    const remote = new Map<PeerId, number[]>();
    for (const seq of seqs) {
      const code = this.#settleOwned(seq);
      const holder = this.#table.holderOf(code);
      if (holder === undefined) continue;
      let list = remote.get(holder);
      if (list === undefined) remote.set(holder, list = []);
      list.push(seq);
    }
    for (const [holder, list] of remote) {
      this.#send(holder, { t: "cancel", owner: this.id, seqs: list });
    }
  }

  #onCancel(owner: PeerId, seqs: number[]): void {
    this.#deque.drop(owner, new Set(seqs));
    for (const [taker, list] of this.#custody.cancel(owner, seqs)) {
      this.#send(taker, { t: "cancel", owner, seqs: list });
    }
  }

  // ---- constants ----

  /**
   * Broadcast constants through the links (a wave with echo): each peer passes them to its
   * other links and acknowledges once every one of those has; the broadcast is complete when
   * this peer's links have acknowledged, so every peer reachable has them.
   */
  #setConst(localId: number, entries: [string, Uint8Array][]): void {
    for (const [name, value] of entries) this.#consts.set(name, value);
    const wave = `${this.id}/${++this.#nextWave}`;
    this.#seenWaves.add(wave);
    this.#startWave(wave, undefined, localId, entries);
  }

  #startWave(
    wave: string,
    parent: PeerId | undefined,
    localId: number | undefined,
    entries: [string, Uint8Array][],
  ): void {
    const waiting = new Set<PeerId>();
    for (const [id, p] of this.#peers) {
      if (id === parent || p.session === undefined || !p.linked) continue;
      if (this.#send(id, { t: "const", wave, entries })) waiting.add(id);
    }
    this.#waves.set(wave, { parent, localId, waiting });
    this.#checkWave(wave);
  }

  #checkWave(wave: string): void {
    const w = this.#waves.get(wave);
    if (w === undefined || w.waiting.size > 0) return;
    this.#waves.delete(wave);
    if (w.parent !== undefined) this.#send(w.parent, { t: "constAck", wave });
    if (w.localId !== undefined) this.#post({ t: "constDone", id: w.localId });
  }

  #onConst(from: PeerId, wave: string | undefined, entries: [string, Uint8Array][]): void {
    for (const [name, value] of entries) {
      if (this.#consts.has(name)) continue;
      this.#consts.set(name, value);
      this.#post({ t: "const", name, value });
    }
    if (wave === undefined) return;
    if (this.#seenWaves.has(wave)) {
      this.#send(from, { t: "constAck", wave });
      return;
    }
    this.#seenWaves.add(wave);
    this.#startWave(wave, from, undefined, entries);
  }

  #onConstAck(from: PeerId, wave: string): void {
    this.#waves.get(wave)?.waiting.delete(from);
    this.#checkWave(wave);
  }

  // ---- messages ----

  #onMessage(from: PeerId, m: CoreMessage): void {
    const p = this.#peers.get(from);
    if (p === undefined || !p.linked) return; // a message from a link already gone
    if (this.#lost.has(from)) return;
    p.heard = this.#now;
    if (RELIABLE.has(m.t)) {
      p.session!.received++;
      this.#ackDue.add(from);
      this.#arm("flush", 0);
    }
    switch (m.t) {
      case "load":
        this.#loads.set(from, m.n);
        if (m.n > 0) this.#pump();
        break;
      case "steal":
        this.#onSteal(from);
        break;
      case "tasks":
        this.#onTasks(from, m.blocks, m.load);
        break;
      case "results":
        this.#onResults(m.r);
        break;
      case "relay":
        this.#onRelay(from, m.owner, m.r);
        break;
      case "done":
        this.#onDoneNotice(from, m.owner, m.seqs);
        break;
      case "started":
        for (const seq of m.seqs) if (this.#table.code(seq) !== NONE) this.#startedBuf.push(seq);
        this.#arm("flush", 0);
        break;
      case "cancel":
        this.#onCancel(m.owner, m.seqs);
        break;
      case "const":
        this.#onConst(from, m.wave, m.entries);
        break;
      case "constAck":
        this.#onConstAck(from, m.wave);
        break;
      case "stop":
        for (const id of this.links) if (id !== from) this.#send(id, { t: "stop" });
        this.#leave(true);
        break;
      case "resume":
        for (const msg of p.session!.resume(m.got)) this.#emit(from, p, msg, false);
        break;
      case "ack":
        p.session!.ack(m.got);
        break;
      case "ping":
        break;
      case "peers":
        this.#originId ??= m.origin;
        this.#learn(m.peers);
        if (!m.reply) this.#emit(from, p, this.#peersMessage(from, true), true);
        this.#fill();
        break;
      case "prune":
        p.pruned = this.#now;
        if (this.#stealing === from) this.#stealing = undefined;
        break;
      case "probe": {
        const q = this.#peers.get(m.peer);
        if (q?.linked && this.#now - q.heard < this.#cfg.heartbeatMs * 2) {
          this.#emit(from, p, { t: "vouch", peer: m.peer }, false);
        }
        break;
      }
      case "vouch": {
        const q = this.#peers.get(m.peer);
        if (q?.suspect !== undefined) q.vouched = this.#now;
        break;
      }
      case "lost":
        for (const id of m.peers) {
          if (id === this.id) {
            this.#leave(
              false,
              "the grid declared this peer lost (it was unreachable); its work runs elsewhere",
            );
            return;
          }
          this.#declareLost(id, `the word from ${from}`);
          if (this.#left) return;
        }
        break;
    }
  }

  // ---- links and membership ----

  #peer(id: PeerId): PeerInfo {
    let p = this.#peers.get(id);
    if (p === undefined) {
      p = {
        linked: false,
        origin: false,
        session: undefined,
        heard: this.#now,
        sent: this.#now,
        suspect: undefined,
        vouched: 0,
        probed: 0,
        connecting: undefined,
        pruned: undefined,
        outbound: false,
      };
      this.#peers.set(id, p);
    }
    return p;
  }

  /** Ask for a link to `id`, unless one is up or being made, or it is lost. */
  #connect(id: PeerId, p = this.#peer(id)): void {
    if (p.linked || this.#lost.has(id) || id === this.id) return;
    if (p.connecting !== undefined && this.#now - p.connecting < CONNECT_TIMEOUT_MS) return;
    p.connecting = this.#now;
    this.#out.push({ type: "connect", peer: id, addrs: this.#known.get(id) ?? [] });
  }

  #onLinkUp(id: PeerId, origin: boolean, addrs: string[], load: number): void {
    if (this.#lost.has(id)) {
      // A peer declared lost that comes back is told so, and not linked again.
      this.#out.push({ type: "send", to: id, message: { t: "lost", peers: [id] }, lazy: false });
      this.#out.push({ type: "disconnect", peer: id });
      return;
    }
    const p = this.#peer(id);
    if (p.linked) return;
    p.linked = true;
    p.outbound = p.connecting !== undefined;
    if (p.outbound) this.#outCount++;
    p.origin = origin;
    if (origin) this.#originId = id;
    p.heard = this.#now;
    p.suspect = undefined;
    p.connecting = undefined;
    this.#linkedCount++;
    this.#everLinked = true;
    if (addrs.length > 0 || !this.#known.has(id)) this.#known.set(id, addrs);
    const s = p.session ??= new Session();
    // First on every link: how much of the peer's traffic arrived, so it sends the rest.
    this.#emit(id, p, { t: "resume", got: s.received }, false);
    s.linkUp();
    this.#loads.set(id, load);
    if (!p.outbound && this.#linkedCount > this.#cfg.maxDegree && !s.urgent) {
      // Links enough: point the newcomer at others, and close this one.
      this.#emit(id, p, this.#peersMessage(id, true), false);
      this.#prune(id, p);
      this.#sizeChanged();
      return;
    }
    this.#emit(id, p, this.#peersMessage(id, true), true);
    if (this.#consts.size > 0) this.#send(id, { t: "const", entries: [...this.#consts] });
    this.#flushHeld(id);
    this.#sizeChanged();
    this.#log("debug", `peer ${id} joined (${this.size} peers)`);
    if (load > 0) this.#pump();
  }

  /** Close a link on purpose: the peer is told it is not a failure. */
  #prune(id: PeerId, p: PeerInfo): void {
    this.#emit(id, p, { t: "prune" }, false);
    this.#out.push({ type: "disconnect", peer: id });
    this.#unlink(id, p);
    p.pruned = this.#now;
  }

  #unlink(id: PeerId, p: PeerInfo): void {
    if (p.linked) {
      this.#linkedCount--;
      if (p.outbound) this.#outCount--;
    }
    p.linked = false;
    p.outbound = false;
    p.connecting = undefined;
    p.session?.linkDown();
    this.#loads.delete(id);
    this.#ackDue.delete(id);
    if (this.#stealing === id) this.#stealing = undefined;
  }

  #onLinkDown(id: PeerId, reason?: string): void {
    const p = this.#peers.get(id);
    if (p === undefined || this.#lost.has(id)) return;
    const wasLinked = p.linked;
    this.#unlink(id, p);
    if (!wasLinked) {
      // A dial that failed: a suspect stays one (the tick decides); others are retried when
      // something waits for them.
      return;
    }
    if (p.pruned !== undefined && this.#now - p.pruned < PRUNE_BACKOFF_MS) {
      if (p.session?.urgent) this.#connect(id, p);
      this.#pump();
      return;
    }
    this.#suspect(id, p, reason ?? "its link closed");
    this.#pump();
  }

  /** `id` became unreachable: try to link again, and ask neighbours whether they hear it. */
  #suspect(id: PeerId, p: PeerInfo, why: string): void {
    if (p.suspect === undefined) {
      p.suspect = this.#now;
      this.#log("debug", `peer ${id} unreachable (${why})`);
    }
    this.#probe(id, p);
    this.#connect(id, p);
  }

  #probe(id: PeerId, p: PeerInfo): void {
    p.probed = this.#now;
    const asked = this.#pick(this.links.filter((n) => n !== id), PROBES);
    for (const n of asked) this.#emit(n, this.#peers.get(n)!, { t: "probe", peer: id }, false);
  }

  /**
   * Declare `id` lost: what it held runs again, what it owned is dropped, nobody links to it
   * again, and the word spreads to every link.
   */
  #declareLost(id: PeerId, why: string): void {
    if (id === this.id || this.#lost.has(id)) return;
    this.#lost.add(id);
    this.#known.delete(id);
    const p = this.#peers.get(id);
    if (p !== undefined) {
      if (p.linked) this.#out.push({ type: "disconnect", peer: id });
      this.#unlink(id, p);
      this.#peers.delete(id);
    }
    if (id === this.#originId) {
      this.#log("error", `the origin ${id} was lost (${why}): the job cannot go on`);
      this.#leave(false, `the origin ${id} left the grid`);
      return;
    }
    // What it held is queued again: nothing is lost with a peer.
    let requeued = 0;
    for (const block of this.#table.reclaim(id)) {
      requeued += block.seqs.length;
      this.#deque.push(block);
    }
    for (const block of this.#custody.reclaim(id)) {
      requeued += block.seqs.length;
      this.#deque.push(block);
    }
    this.stats.requeued += requeued;
    // What it owned nobody awaits.
    this.#custody.dropOwner(id);
    this.#deque.drop(id);
    this.#held.delete(id);
    for (const [owner, h] of this.#held) {
      for (const e of h) if (e.via === id) e.via = undefined;
      this.#connect(owner);
    }
    for (const [wave, w] of this.#waves) {
      if (w.waiting.delete(id)) this.#checkWave(wave);
    }
    this.#log(
      "info",
      `peer ${id} lost (${why})${requeued > 0 ? `; ${requeued} of its tasks run elsewhere` : ""}`,
    );
    for (const [n, q] of this.#peers) {
      if (q.linked) this.#emit(n, q, { t: "lost", peers: [id] }, false);
    }
    this.#sizeChanged();
    this.#pump();
  }

  /** Send the results held for `id` now that it is linked (as owner, or as the way back). */
  #flushHeld(id: PeerId): void {
    const own = this.#held.get(id);
    if (own !== undefined) {
      this.#held.delete(id);
      for (const e of own) this.#route(id, e.via, e.seq, e.ok, e.payload);
    }
    for (const [owner, h] of this.#held) {
      if (!h.some((e) => e.via === id)) continue;
      const keep = h.filter((e) => e.via !== id);
      if (keep.length > 0) this.#held.set(owner, keep);
      else this.#held.delete(owner);
      for (const e of h) if (e.via === id) this.#route(owner, e.via, e.seq, e.ok, e.payload);
    }
  }

  /** Remember peers gossiped to us. */
  #learn(peers: PeerAddrs[]): void {
    let added = false;
    for (const [id, addrs] of peers) {
      if (id === this.id || this.#lost.has(id)) continue;
      if (!this.#known.has(id)) added = true;
      if (addrs.length > 0 || !this.#known.has(id)) this.#known.set(id, addrs);
    }
    if (added) this.#sizeChanged();
  }

  #peersMessage(to: PeerId, reply: boolean): CoreMessage {
    const peers = this.#sample(to);
    return this.#originId === undefined
      ? { t: "peers", peers, reply }
      : { t: "peers", peers, reply, origin: this.#originId };
  }

  /** A random sample of the peers this one knows (itself first), for `to`. */
  #sample(to: PeerId): PeerAddrs[] {
    const out: PeerAddrs[] = [[this.id, this.#addrs]];
    const n = this.#cfg.sampleSize;
    if (this.#known.size <= n + 1) {
      for (const [id, addrs] of this.#known) if (id !== to) out.push([id, addrs]);
      return out;
    }
    const ids = [...this.#known.keys()];
    for (const id of this.#pick(ids, n + 1)) {
      if (id !== to && out.length <= n) out.push([id, this.#known.get(id)!]);
    }
    return out;
  }

  /** Up to `n` distinct entries of `from` at random (partial Fisher-Yates on a copy). */
  #pick<T>(from: T[], n: number): T[] {
    const a = from.slice();
    const k = Math.min(n, a.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.#random() * (a.length - i));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, k);
  }

  /** Dial known peers until this side has asked for half of `degree` links. */
  #fill(): void {
    let want = Math.ceil(this.#cfg.degree / 2) - this.#outCount;
    if (want <= 0) return;
    const candidates: PeerId[] = [];
    for (const id of this.#known.keys()) {
      const p = this.#peers.get(id);
      if (p === undefined) {
        candidates.push(id);
        continue;
      }
      if (p.linked || p.suspect !== undefined) continue;
      if (p.connecting !== undefined && this.#now - p.connecting < CONNECT_TIMEOUT_MS) {
        want--;
        continue;
      }
      if (p.pruned !== undefined && this.#now - p.pruned < PRUNE_BACKOFF_MS) continue;
      candidates.push(id);
    }
    for (const id of this.#pick(candidates, want)) this.#connect(id);
  }

  /** The periodic tick: heartbeats, silent links, suspects, links wanted, gossip. */
  #tick(): void {
    const now = this.#now;
    const { silentMs, heartbeatMs, confirmMs } = this.#cfg;
    // A tick this late means this peer itself was frozen (a long pause, a stopped process):
    // the silence it would see is its own, so it judges nobody by it this time.
    const late = this.#lastTick > 0 && now - this.#lastTick > silentMs / 2;
    this.#lastTick = now;
    const lost: PeerId[] = [];
    for (const [id, p] of this.#peers) {
      if (p.linked) {
        if (late) p.heard = Math.max(p.heard, now - heartbeatMs);
        if (now - p.heard >= silentMs) {
          this.#out.push({ type: "disconnect", peer: id });
          this.#unlink(id, p);
          this.#suspect(id, p, `silent for ${now - p.heard} ms`);
        } else if (now - p.sent >= heartbeatMs) {
          this.#emit(id, p, { t: "ping" }, false);
        }
      } else if (p.suspect !== undefined) {
        if (late) p.probed = Math.max(p.probed, now - confirmMs / 2);
        if (now - p.probed < confirmMs) continue;
        if (p.vouched >= p.probed) {
          // Others still hear it: keep trying, and ask again.
          this.#probe(id, p);
          this.#connect(id, p);
        } else {
          lost.push(id);
        }
      } else if (p.session?.urgent || this.#held.has(id)) {
        this.#connect(id, p);
      }
    }
    for (const id of lost) {
      this.#declareLost(id, `unreachable for ${now - this.#peers.get(id)!.suspect!} ms`);
      if (this.#left) return;
    }
    if (this.#linkedCount > this.#cfg.maxDegree) this.#pruneOne();
    this.#fill();
    if (now - this.#lastShuffle >= this.#cfg.shuffleMs && this.#linkedCount > 0) {
      this.#lastShuffle = now;
      const [to] = this.#pick(this.links, 1);
      const p = this.#peers.get(to)!;
      this.#emit(to, p, this.#peersMessage(to, false), true);
    }
    if (!this.#origin && this.#everLinked && this.#linkedCount === 0 && !this.#anyHope()) {
      this.#leave(false, "lost its links to every peer of the grid");
      return;
    }
    this.#arm("tick", this.#cfg.tickMs);
  }

  /** Whether a link may still come: a dial in flight, a suspect not yet decided, a candidate. */
  #anyHope(): boolean {
    for (const p of this.#peers.values()) {
      if (p.connecting !== undefined || p.suspect !== undefined) return true;
    }
    return false;
  }

  /** Close one link that carries nothing unfinished (over `maxDegree`). */
  #pruneOne(): void {
    for (const id of this.#pick(this.links, this.#linkedCount)) {
      const p = this.#peers.get(id)!;
      if (p.origin || p.session?.urgent || this.#custody.holds(id)) continue;
      if (this.#table.lentCount(id) > 0 || this.#stealing === id) continue;
      this.#prune(id, p);
      return;
    }
  }
}

/** A block as it goes on the wire: without what is local to this peer. */
function wireBlock(b: TaskBlock): TaskBlock {
  return {
    owner: b.owner,
    seqs: b.seqs,
    names: b.names,
    kinds: b.kinds,
    data: b.data,
    ends: b.ends,
  };
}
