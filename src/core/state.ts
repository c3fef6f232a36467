/**
 * The decisions of one peer as a state machine: `handle(event, now)` returns the actions to
 * carry out. It does no I/O, reads no clock (time comes with each event) and draws no random
 * number but from the generator it is given, so a test can drive it event by event and the
 * simulator can run a thousand of them under seeded faults, replaying any run exactly.
 *
 * This file decides the work: the executor runs this peer's newest tasks first (depth first),
 * in batches sized to hold it about 16 ms. A hungry executor with nothing queued makes the
 * peer steal: it picks a linked peer at random, weighted by gossiped load, and takes the
 * oldest half of its queue. Tasks handed to an executor stuck in a long synchronous task are
 * revoked, so thieves can have them. An idle peer sleeps until a neighbour gossips that it has
 * work. Whoever gives a task away keeps it until it finishes and queues it again if the taker
 * is lost (`results/table.ts` for one's own tasks, `custody.ts` for others').
 *
 * The rest is in parts it is made of: the links (`links.ts`: membership, sessions, failures),
 * the way results go (`routes.ts`) and shared constants (`constants.ts`).
 *
 * @module
 */
import { isMainSeq } from "../executor/protocol.ts";
import { payloadOf, type ResultBatch, ResultBuilder } from "../results/batch.ts";
import { HANDED, LENT, NONE, QUEUED, ResultTable } from "../results/table.ts";
import { argsOf, BlockBuilder, sliceBlock, type TaskBlock } from "../scheduler/block.ts";
import { TaskDeque } from "../scheduler/deque.ts";
import { pickVictim, stealCount, worthGossiping } from "../scheduler/policy.ts";
import { Constants } from "./constants.ts";
import { Core, type PeerStats } from "./context.ts";
import { Custody } from "./custody.ts";
import type { Action, CoreConfig, Event, ExecutorBatch, ExecutorView } from "./events.ts";
import { Links } from "./links.ts";
import type { CoreMessage, PeerId } from "./messages.ts";
import { Routes } from "./routes.ts";
import { Dashboard } from "./dashboard.ts";

export type { PeerStats } from "./context.ts";

/** Target wall time of one batch handed to the executor; sizes adapt to measured task times. */
const BATCH_TARGET_MS = 16;
const MAX_BATCH = 1024;
/** How often a peer looks whether its executor got stuck on handed tasks (see `#watch`). */
export const WATCH_MS = 10;
/** Changes in how much work a peer has (not whether it has any) are gossiped this often. */
export const LAZY_GOSSIP_MS = 20;

/** Tasks handed to the executor in one "run" message. */
interface HandedRun {
  idx0: number;
  blocks: TaskBlock[];
  /** 1 for each run index (from idx0) that finished or was revoked. */
  finished: Uint8Array;
  left: number;
}

/** The state machine of one peer (see the module doc). */
export class PeerState {
  /** This peer's id. */
  readonly id: PeerId;
  readonly #c: Core;
  readonly #links: Links;
  readonly #routes: Routes;
  readonly #consts: Constants;
  readonly #dashboard: Dashboard;

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
  /** The load each linked peer last heard from this one. */
  #told = new Map<PeerId, number>();
  #gossipDue = false;
  /** When load was last gossiped. */
  #gossipAt = -Infinity;
  #resolveBuf = new ResultBuilder();
  #startedBuf: number[] = [];

  constructor(config: CoreConfig, executor: ExecutorView) {
    this.id = config.id;
    this.#c = new Core(config, executor);
    this.#links = new Links(this.#c);
    this.#routes = new Routes(this.#c, this.#links);
    this.#consts = new Constants(this.#c, this.#links);
    this.#dashboard = new Dashboard(this.#c, this.#links);
    this.#links.attach({
      linked: (id, load) => {
        this.#loads.set(id, load);
        this.#told.delete(id);
        this.#noteLoad();
        this.#consts.linked(id);
        this.#routes.linked(id);
        this.#dashboard.linked(id);
      },
      unlinked: (id) => {
        this.#loads.delete(id);
        this.#told.delete(id);
        if (this.#stealing === id) this.#stealing = undefined;
      },
      pruned: (id) => {
        if (this.#stealing === id) this.#stealing = undefined;
      },
      lost: (id) => this.#onLost(id),
      delivered: (id, got) => this.#routes.delivered(id, got),
      busy: (id) =>
        this.#custody.holds(id) || this.#table.lentCount(id) > 0 || this.#stealing === id ||
        this.#holdsFrom(id),
      needs: (id) =>
        this.#routes.awaits(id) || this.#custody.holds(id) || this.#table.lentCount(id) > 0,
      quiet: () => this.#quiet(),
      pump: () => this.#pump(),
    });
  }

  /** Counters of this peer's scheduling. */
  get stats(): PeerStats {
    return this.#c.stats;
  }

  /** What a thief could get from this peer now (sent in the handshake). */
  get load(): number {
    return this.#stealable();
  }

  /** Live peers this peer knows of, itself included. */
  get size(): number {
    return this.#links.size;
  }

  /** Peers linked now. */
  get links(): readonly PeerId[] {
    return this.#links.links;
  }

  /** Whether this peer has left the grid (it handles nothing more). */
  get left(): boolean {
    return this.#c.left;
  }

  /** Tasks queued here (live), for tests and the simulator. */
  get queued(): number {
    return this.#deque.length;
  }

  /** Owned tasks awaiting results, tasks kept for thieves, results held for a route. */
  get inFlight(): { owned: number; custody: number; held: number } {
    return { owned: this.#table.size, custody: this.#custody.size, held: this.#routes.held };
  }

  /** Whether `peer` was declared lost here. */
  isLost(peer: PeerId): boolean {
    return this.#links.isLost(peer);
  }

  /** Where things stand, for the simulator's reports and debugging. */
  debug(): Record<string, unknown> {
    const lent: Record<string, number> = {};
    for (const id of this.#links.links) {
      const n = this.#table.lentCount(id);
      if (n > 0) lent[id] = n;
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
      held: this.#routes.debug(),
      ...this.#links.debug(),
    };
  }

  /**
   * Where task `seq` of `owner` is, as far as this peer knows (for the simulator's reports):
   * queued or handed here, given to takers it keeps it for, or (its own) lent to a holder.
   */
  where(owner: PeerId, seq: number): Record<string, unknown> {
    let handed = false;
    for (const run of this.#handed) {
      let pos = 0;
      for (const b of run.blocks) {
        for (let i = b.seqs.length - 1; i >= 0; i--, pos++) {
          if (b.owner === owner && b.seqs[i] === seq && run.finished[pos] === 0) handed = true;
        }
      }
    }
    const out: Record<string, unknown> = {
      queued: this.#deque.has(owner, seq),
      handed,
      givenTo: this.#custody.takersOf(owner, seq),
    };
    if (owner === this.id) {
      const code = this.#table.code(seq);
      out.code = code;
      out.lentTo = this.#table.holderOf(code);
    }
    return out;
  }

  /** Handle one event at time `now` (ms); returns what to do. */
  handle(event: Event, now: number): Action[] {
    const c = this.#c;
    if (c.left) return [];
    c.now = now;
    switch (event.type) {
      case "batch":
        this.#onBatch(event.batch);
        break;
      case "message":
        if (this.#links.accept(event.from, event.message)) {
          this.#onMessage(event.from, event.message);
        }
        break;
      case "timer":
        c.fired(event.name);
        if (event.name === "flush" || event.name === "relay") this.#flush();
        else if (event.name === "watch") this.#watch();
        else if (event.name === "gossip") this.#gossipLoad(true);
        else this.#links.tick();
        break;
      case "heard":
        this.#links.heard(event.peers);
        break;
      case "discovered":
        this.#links.discovered(event.peer, event.addrs);
        break;
      case "linkUp":
        this.#links.linkUp(event.peer, event.origin, event.addrs, event.load);
        break;
      case "linkDown":
        this.#links.linkDown(event.peer, event.reason);
        break;
      case "ready":
        this.#hungry = true;
        c.arm("tick", c.cfg.tickMs);
        this.#pump();
        break;
      case "setConst":
        this.#consts.set(event.id, event.entries);
        break;
      case "stop":
        for (const id of this.#links.links) this.#links.send(id, { t: "stop" });
        c.leave(true);
        break;
      case "bye":
        // What it holds runs again elsewhere as soon as they hear it, not once found silent.
        for (const id of this.#links.links) this.#links.send(id, { t: "bye" });
        c.leave(true);
        break;
      case "observe":
        this.#dashboard.open(event.every);
        break;
      case "report":
        this.#dashboard.report(event.frame);
        break;
    }
    // What this event routed leaves at the end of the turn, with what the turn's other events
    // routed: the results a frame brought go on in one message per peer, not one each.
    if (!c.left && this.#routes.pending) c.arm("flush", 0);
    if (!c.left && this.#links.quiet && !this.#quiet()) this.#links.wake();
    const out = c.out;
    c.out = [];
    return out;
  }

  #onMessage(from: PeerId, m: CoreMessage): void {
    switch (m.t) {
      case "load":
        this.#loads.set(from, m.n);
        if (m.n > 0) this.#pump();
        // A peer with no work may be about to sleep: what it has not heard of ours is news now.
        else if (this.#stealable() > 0) this.#noteLoad();
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
        this.#c.arm("flush", 0);
        break;
      case "cancel":
        this.#onCancel(m.owner, m.seqs);
        break;
      case "const":
        this.#consts.received(from, m.wave, m.entries);
        break;
      case "constAck":
        this.#consts.acked(from, m.wave);
        break;
      case "stop":
        for (const id of this.#links.links) if (id !== from) this.#links.send(id, { t: "stop" });
        this.#c.leave(true);
        break;
      case "observe":
        this.#dashboard.asked(from, m.every);
        break;
      case "telemetry":
        this.#dashboard.received(from, m.frame);
        break;
      default:
        this.#links.onMessage(from, m);
    }
  }

  /** Whether this peer holds tasks that came from `id` (which watches this peer for them). */
  #holdsFrom(id: PeerId): boolean {
    if (this.#deque.holdsFrom(id)) return true;
    for (const run of this.#handed) for (const b of run.blocks) if (b.via === id) return true;
    return false;
  }

  /** Whether this peer holds no work and awaits none (see `LinkHooks.quiet`). */
  #quiet(): boolean {
    return this.#deque.length === 0 && this.#handed.length === 0 && this.#table.size === 0 &&
      this.#custody.size === 0 && this.#routes.held === 0;
  }

  /** `id` was lost: what it held is queued again, what it owned is dropped. */
  #onLost(id: PeerId): number {
    let requeued = 0;
    for (const block of this.#table.reclaim(id)) {
      requeued += block.seqs.length;
      this.#deque.push(block);
    }
    for (const block of this.#custody.reclaim(id)) {
      requeued += block.seqs.length;
      this.#deque.push(block);
    }
    this.#c.stats.requeued += requeued;
    // What it owned nobody awaits.
    this.#custody.dropOwner(id);
    this.#deque.drop(id);
    this.#routes.lost(id);
    this.#consts.lost(id);
    return requeued;
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
      this.#c.stats.finished++;
      if (done.oks[k] === 0) this.#c.stats.failed++;
      if (block.owner === this.id) {
        // The executor settled its own future; one of main's goes on to main's thread.
        if (this.#settleOwned(seq) !== NONE && isMainSeq(seq)) {
          this.#resolveBuf.add(seq, done.oks[k] as 0 | 1, payloadOf(done, k));
          this.#c.arm("flush", 0);
        }
        continue;
      }
      this.#routes.result(block.owner, block.via, seq, done.oks[k] as 0 | 1, payloadOf(done, k));
    }
  }

  /** Hand the executor a batch of the newest tasks, or go stealing. */
  #pump(): void {
    if (!this.#hungry || this.#c.left) return;
    if (this.#deque.length === 0) {
      this.#steal();
      return;
    }
    const blocks = this.#deque.take(this.#batch);
    let n = 0;
    for (const block of blocks) {
      n += block.seqs.length;
      if (block.owner === this.id) {
        for (const seq of block.seqs) {
          // Main's thread learns that its task started, as from a peer that took it.
          if (this.#table.move(seq, HANDED) && isMainSeq(seq)) {
            this.#startedBuf.push(seq);
            this.#c.arm("flush", 0);
          }
        }
        continue;
      }
      // Owners learn that their tasks started (for `running()` and `cancel()`) with the next
      // message that goes their way, when linked to them.
      if (!this.#links.isLinked(block.owner)) continue;
      this.#routes.started(block.owner, block.seqs);
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
    this.#c.stats.tasksRun += n;
    // The blocks stay here until their tasks finish (to revoke them): the executor gets copies,
    // moved rather than cloned, except for large arguments in shared memory, which it shares.
    const copies = blocks.map((b) => sliceBlock(b, 0, b.seqs.length));
    this.#c.post({ t: "run", idx0, blocks: copies });
    this.#c.arm("watch", WATCH_MS);
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
      if (!this.#c.exec.busy()) return;
      cur = this.#c.exec.claimed();
      if (cur < 0 || cur >= this.#nextIdx) return;
      if (this.#c.exec.revoke(cur)) break; // else it started one meanwhile: look again
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
    this.#c.post({ t: "revoked", from: cur, to });
    this.#c.log("debug", `revoked ${to - cur + 1} unstarted task(s) from the busy executor`);
  }

  /** What a thief could get from us now. */
  #stealable(): number {
    if (!this.#c.exec.busy()) return this.#deque.length;
    const claimed = this.#c.exec.claimed();
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
    const claimed = this.#c.exec.claimed();
    if (claimed >= 0 && claimed < this.#nextIdx) {
      this.#noteLoad();
      this.#c.arm("watch", WATCH_MS);
    }
  }

  // ---- stealing and load gossip ----

  #noteLoad(): void {
    this.#gossipDue = true;
    this.#c.arm("flush", 0);
  }

  /**
   * Tell linked peers how much work this peer has, each only when its figure went stale (see
   * `worthGossiping`). Having work after none is news to act on now for a peer with none of
   * its own (idle peers sleep until they hear it); any other change is not, and goes at most
   * every LAZY_GOSSIP_MS, with whatever is true then: a thief that acts on a stale figure
   * learns the fresh one from the reply. So a busy grid's load messages do not grow with
   * each peer's links as every flip between none and some would make them.
   * @param due the gossip timer fired: what was held back goes now
   * @param urgent send at once, not with other traffic (this peer is about to sleep)
   */
  #gossipLoad(due = false, urgent = false): void {
    this.#gossipDue = false;
    const c = this.#c;
    const n = this.#stealable();
    const lazyOk = due || c.now - this.#gossipAt >= LAZY_GOSSIP_MS;
    let deferred = false;
    for (const id of this.#links.links) {
      // A new link heard a figure in the handshake, maybe stale by now: one with no work
      // costs nothing (a thief learns it from the reply), one with work is sent again.
      const sent = this.#told.get(id) ?? (n > 0 ? -1 : 0);
      if (!worthGossiping(sent, n)) continue;
      const news = sent <= 0 && n > 0 && (this.#loads.get(id) ?? 0) === 0;
      if (!news && !lazyOk) {
        deferred = true;
        continue;
      }
      if (!news) this.#gossipAt = c.now;
      this.#told.set(id, n);
      this.#links.send(id, { t: "load", n }, !news && !urgent);
    }
    if (deferred) c.arm("gossip", LAZY_GOSSIP_MS - (c.now - this.#gossipAt));
  }

  /** Ask one linked peer, picked at random by load, for work; only peers with `min` or more. */
  #steal(min = 1): void {
    if (this.#stealing !== undefined) return;
    const victim = pickVictim(this.#loads, this.#c.random, min);
    if (victim === undefined) {
      // Sleep until some peer gossips work; first tell those that think this one has some.
      this.#gossipLoad(true, true);
      return;
    }
    this.#stealing = victim;
    this.#c.stats.steals++;
    if (!this.#links.send(victim, { t: "steal" })) {
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
    this.#c.stats.tasksGiven += given;
    const load = this.#stealable();
    this.#links.send(thief, { t: "tasks", blocks, load });
    // The thief now holds the freshest estimate; gossip again as soon as it goes stale (an
    // empty reply followed by an executor stuck on handed tasks must reach the thieves).
    this.#told.set(thief, load);
    if (given > 0) this.#noteLoad();
  }

  #onTasks(from: PeerId, blocks: TaskBlock[], load: number): void {
    if (this.#stealing === from) this.#stealing = undefined;
    if (this.#links.isLinked(from)) this.#loads.set(from, load);
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
          // One of ours, back. The peer it came from keeps it (unless we lent it to that very
          // peer), and so may peers before it: it is ours to keep now, and the word that it
          // is ends their keeping all along the way (a task of ours needs no keeper but us).
          const code = this.#table.code(seq);
          if (this.#table.holderOf(code) !== from) this.#routes.done(from, this.id, seq);
          if (code < LENT) { // settled meanwhile, or here already: not to run again
            block.seqs[i] = -1;
            live--;
            continue;
          }
          via = undefined;
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
      this.#c.stats.stealHits++;
      this.#c.stats.stolenTasks += got;
    }
    this.#pump();
  }

  // ---- results ----

  #onResults(r: ResultBatch): void {
    for (let i = 0; i < r.keys.length; i++) {
      if (this.#settleOwned(r.keys[i]) === NONE) continue; // a duplicate, or cancelled
      this.#resolveBuf.add(r.keys[i], r.oks[i] as 0 | 1, payloadOf(r, i));
    }
    this.#c.arm("flush", 0);
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
      if (kept === undefined && !this.#links.isLinked(owner)) continue;
      this.#routes.result(owner, kept?.via, seq, r.oks[i] as 0 | 1, payloadOf(r, i));
    }
  }

  /** `from` finished tasks of `owner` this peer gave it: pass the word back the same way. */
  #onDoneNotice(from: PeerId, owner: PeerId, seqs: number[]): void {
    for (const seq of seqs) {
      const kept = this.#custody.take(from, owner, seq);
      if (kept?.via !== undefined && kept.via !== owner) this.#routes.done(kept.via, owner, seq);
    }
  }

  /** Hand the executor what piled up this turn; gossip load; acknowledge what arrived. */
  #flush(): void {
    // While the executor has tasks lined up to start, more results follow soon: these wait for
    // them (or for any message to their owner, at most the link's lazy delay) rather than cost
    // a frame each. Results leave at once when nothing is lined up (tasks awaiting others are
    // not: their results may be what unblocks them).
    const claimed = this.#c.exec.claimed();
    this.#routes.flush(claimed >= 0 && claimed < this.#nextIdx);
    if (this.#resolveBuf.length > 0 || this.#startedBuf.length > 0) {
      const r = this.#resolveBuf.length > 0 ? this.#resolveBuf.finish() : null;
      this.#c.post({ t: "resolve", r, started: this.#startedBuf });
      this.#startedBuf = [];
    }
    if (this.#gossipDue) this.#gossipLoad();
    this.#links.flushLost();
    this.#links.flushAcks();
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
      this.#links.send(holder, { t: "cancel", owner: this.id, seqs: list });
    }
  }

  #onCancel(owner: PeerId, seqs: number[]): void {
    this.#deque.drop(owner, new Set(seqs));
    for (const [taker, list] of this.#custody.cancel(owner, seqs)) {
      this.#links.send(taker, { t: "cancel", owner, seqs: list });
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
