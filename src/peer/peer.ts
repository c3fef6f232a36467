/**
 * A peer: the mesh thread's side of one process. It owns the task deque, the result table and
 * the links, and feeds its executor worker. Scheduling: the worker runs this peer's newest
 * tasks first; when it is hungry and the deque is empty the peer steals the oldest half of a
 * random loaded peer's deque, chosen by gossiped load; an idle grid sleeps until some peer
 * gossips that it has work. Results go straight to the owner of each future.
 *
 * @module
 */
import process from "node:process";
import { GridError, type MembershipError } from "../errors.ts";
import { logger, logLevel } from "../log.ts";
import type { Message } from "../mesh/frames.ts";
import { Mesh } from "../mesh/mesh.ts";
import type { FromWorker, ToWorker } from "../executor/protocol.ts";
import { payloadOf, type ResultBatch, resultBuffers, ResultBuilder } from "../results/batch.ts";
import { BUSY_SLOT } from "../executor/protocol.ts";
import { HANDED, LENT, NONE, QUEUED, ResultTable } from "../results/table.ts";
import {
  argsOf,
  blockBuffers,
  BlockBuilder,
  sliceBlock,
  type TaskBlock,
} from "../scheduler/block.ts";
import { TaskDeque } from "../scheduler/deque.ts";
import { pickVictim, stealCount, worthGossiping } from "../scheduler/policy.ts";

const log = logger("peer");
/** How often a peer looks whether its executor got stuck on handed tasks (see #watchHanded). */
const WATCH_MS = 10;

/** Options of {@link Peer.start}. */
export interface PeerOptions {
  /** Absolute path or file URL of the entry module. */
  entry: string;
  /** Hash of the entry module's code, checked by every peer met. */
  app: string;
  /** The grid's name. */
  grid: string;
  /** The grid's key (Noise prologue). */
  key: Uint8Array;
  /** Whether this peer runs `main`. */
  origin: boolean;
  /** Multiaddrs to listen on. */
  listen?: string[];
}

/** How `main` ended, as the origin reports it. */
export interface MainOutcome {
  ok: boolean;
  /** Encoded result or failure (see executor/failure.ts). */
  payload: Uint8Array;
}

/** Tasks handed to the worker in one "run" message (see ToWorker). */
interface HandedRun {
  idx0: number;
  blocks: TaskBlock[];
  /** 1 for each run index (from idx0) that finished or was revoked. */
  finished: Uint8Array;
  left: number;
}

/** Target wall time of one batch handed to the worker; sizes adapt to measured task times. */
const BATCH_TARGET_MS = 16;
const MAX_BATCH = 1024;

/** One process of the grid (see module doc). */
export class Peer {
  #mesh!: Mesh;
  #worker!: Worker;
  #options: PeerOptions;
  #table = new ResultTable();
  /** Queued tasks; an owned one is live while the table says it is QUEUED here. */
  #deque = new TaskDeque((block, i) => {
    const seq = block.seqs[i];
    return seq >= 0 && (block.owner !== this.#me || this.#table.code(seq) === QUEUED);
  });
  /** This peer's id, once the node is up. */
  #me = "";
  /** Runs handed to the worker with tasks not finished (nor revoked), oldest first. */
  #handed: HandedRun[] = [];
  #nextIdx = 0;
  #claim = new Int32Array(new SharedArrayBuffer(8)); // [CLAIM_SLOT, BUSY_SLOT]
  #hungry = false;
  #ready = Promise.withResolvers<boolean>();
  #loads = new Map<string, number>();
  #sentLoad = 0;
  #gossipScheduled = false;
  /** "run" messages posted to the executor. */
  #runsSent = 0;
  #handedWatch: ReturnType<typeof setTimeout> | undefined;
  #stealing: string | undefined;
  #batch = 1;
  #resolveBuf = new ResultBuilder();
  #startedBuf: number[] = [];
  #resolveScheduled = false;
  #consts = new Map<string, Uint8Array>();
  #myConsts = new Set<string>();
  /** Constants broadcast from here awaiting acks: one `peer#entry` key per expected ack. */
  #constWaits = new Map<number, { peers: Set<string>; localId?: number }>();
  #nextConstId = 0;
  #stopped = false;
  /** Settles when `main` settles (origin only). */
  readonly mainDone = Promise.withResolvers<MainOutcome>();
  /** Called when a peer joins or leaves, with the new count of live peers (this one included). */
  onSize: (size: number) => void = () => {};
  /** Called when the grid tells this peer to stop, or a membership check fails. */
  onStop: (reason: { ok: boolean; error?: Error }) => void = () => {};

  /** The origin's peer id, once linked to it (worker peers). */
  #originId: string | undefined;

  private constructor(options: PeerOptions) {
    this.#options = options;
  }

  /** Start the node and the executor worker; resolves once the entry module is loaded. */
  static async start(options: PeerOptions): Promise<Peer> {
    const peer = new Peer(options);
    // The executor starts loading the entry module at once, while the node starts.
    peer.#startWorker();
    peer.#mesh = await Mesh.start(
      {
        grid: options.grid,
        app: options.app,
        origin: options.origin,
        key: options.key,
        listen: options.listen,
      },
      {
        onPeerUp: (id, hello) => {
          if (hello.origin) peer.#originId = id;
          peer.#onPeerUp(id, hello.load);
        },
        onPeerDown: (id, error) => peer.#onPeerDown(id, error),
        onMessage: (from, m) => peer.#onMessage(from, m),
        onRefused: (id, error) => peer.#onRefused(id, error),
        load: () => peer.#stealable(),
      },
    );
    peer.#me = peer.id;
    peer.#post({ t: "identity", peerId: peer.id, prefix: peer.id.slice(-6) });
    return peer;
  }

  /** This peer's id. */
  get id(): string {
    return this.#mesh.id;
  }

  /** Addresses other peers dial. */
  addresses(): string[] {
    return this.#mesh.addresses();
  }

  /** Live peers, this one included. */
  get size(): number {
    return this.#mesh.peers().length + 1;
  }

  /** Resolves true once the entry module is loaded, with whether it exports `main`. */
  get ready(): Promise<boolean> {
    return this.#ready.promise;
  }

  /** Dial a peer (a bootstrap address). */
  dial(addr: string): Promise<void> {
    return this.#mesh.dial(addr);
  }

  /** Run `main(args)` in the worker (origin only); `peers`: how many the launcher started. */
  startMain(args: string[], peers = 1): void {
    this.#post({ t: "main", args, peers });
  }

  /** Tell every peer the job is over. */
  broadcastStop(): void {
    this.#mesh.broadcast({ t: "stop" });
  }

  /**
   * Counters of this peer's scheduling, for benchmarks and debugging: steal requests sent,
   * how many brought tasks back, tasks received that way, and tasks handed to the executor.
   */
  readonly stats = { steals: 0, stealHits: 0, stolenTasks: 0, tasksRun: 0, tasksGiven: 0 };

  /** Close links, stop the worker and the node. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#handedWatch);
    // SCOOP_STATS=1: each peer prints its counters on the way out (bench/ reads them).
    if (process.env.SCOOP_STATS) {
      process.stderr.write(`scoop-stats ${JSON.stringify({ peer: this.id, ...this.stats })}\n`);
    }
    this.#worker.terminate();
    await this.#mesh.stop();
  }

  // ---- executor worker ----

  #startWorker(): void {
    const url = new URL("../executor/worker.ts", import.meta.url);
    this.#worker = new Worker(url.href, { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<FromWorker>) => this.#fromWorker(e.data);
    this.#worker.onerror = (e) => {
      log.error("executor worker crashed:", (e as ErrorEvent).message ?? e);
      this.#ready.resolve(false);
      this.onStop({
        ok: false,
        error: new Error(`Executor crashed: ${(e as ErrorEvent).message}`),
      });
    };
    this.#post({
      t: "init",
      entry: this.#options.entry,
      isOrigin: this.#options.origin,
      level: logLevel(),
      claim: this.#claim.buffer as SharedArrayBuffer,
    });
  }

  #post(m: ToWorker, transfer: Transferable[] = []): void {
    if (!this.#stopped) this.#worker.postMessage(m, transfer);
  }

  #fromWorker(m: FromWorker): void {
    switch (m.t) {
      case "batch":
        this.#onBatch(m);
        break;
      case "ready":
        this.#hungry = true;
        this.#ready.resolve(m.hasMain);
        this.#pump();
        break;
      case "failed":
        log.error(m.message);
        this.#ready.reject(new Error(m.message));
        break;
      case "setConst":
        this.#setConst(m.id, m.entries);
        break;
      case "mainDone":
        this.mainDone.resolve({ ok: m.ok === 1, payload: m.payload });
        break;
      case "shutdown":
        break;
    }
  }

  #onBatch(m: Extract<FromWorker, { t: "batch" }>): void {
    if (m.submit !== null) {
      const block = { ...m.submit, owner: this.#me };
      for (const seq of block.seqs) this.#table.add(seq);
      this.#deque.push(block);
    }
    if (m.cancel.length > 0) this.#cancelOwned(m.cancel);
    if (m.done !== null) this.#onDone(m.done);
    if (m.ran > 0) this.#adaptBatch(m.ranMs / m.ran);
    // A hunger written before the worker saw our latest batch was fed by that batch.
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
    const me = this.#me;
    const out = new Map<string, ResultBuilder>();
    for (let k = 0; k < done.keys.length; k++) {
      const task = this.#finishHanded(done.keys[k]);
      if (task === undefined) continue;
      const { block, i } = task;
      if (block.owner === me) {
        this.#settleOwned(block.seqs[i]);
        continue;
      }
      let list = out.get(block.owner);
      if (list === undefined) out.set(block.owner, list = new ResultBuilder());
      list.add(block.seqs[i], done.oks[k] as 0 | 1, payloadOf(done, k));
    }
    // While the executor has tasks lined up to start, more results follow soon: these wait for
    // them (or for any message to their owner, at most LAZY_MS) rather than cost a frame each.
    // Results leave at once when nothing is lined up (tasks awaiting others are not: their
    // results may be what unblocks them), and take the waiting ones along.
    const claimed = Atomics.load(this.#claim, 0);
    const lazy = claimed >= 0 && claimed < this.#nextIdx;
    for (const [owner, list] of out) {
      const n = list.length;
      if (!this.#mesh.send(owner, { t: "results", r: list.finish(true) }, lazy)) {
        log.warn(`Cannot deliver ${n} result(s): owner ${owner} has left the grid`);
      }
    }
  }

  /** Hand the worker a batch of the newest tasks, or go stealing. */
  #pump(): void {
    if (!this.#hungry || this.#stopped) return;
    if (this.#deque.length === 0) {
      this.#steal();
      return;
    }
    const blocks = this.#deque.take(this.#batch);
    const started = new Map<string, number[]>();
    let n = 0;
    for (const block of blocks) {
      n += block.seqs.length;
      if (block.owner === this.#me) {
        for (const seq of block.seqs) this.#table.move(seq, HANDED);
        continue;
      }
      let s = started.get(block.owner);
      if (s === undefined) started.set(block.owner, s = []);
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
    // The blocks stay here until their tasks finish (to revoke them): the worker gets copies,
    // moved rather than cloned, except for large arguments in shared memory, which it shares.
    const copies = blocks.map((b) => sliceBlock(b, 0, b.seqs.length));
    this.#post({ t: "run", idx0, blocks: copies }, copies.flatMap(blockBuffers));
    this.#watchHanded();
    // Owners learn that their tasks started (for `running()` and `cancel()`) with the next
    // message that goes their way: usually the results.
    for (const [owner, seqs] of started) this.#mesh.send(owner, { t: "started", seqs }, true);
    this.#noteLoad();
    // The deque just ran dry while the executor still has work: steal ahead, so that the
    // reply arrives before the executor is idle (a round trip on a loaded host takes ms).
    if (this.#deque.length === 0) this.#steal(2);
  }

  /** Take back handed tasks the worker has not started (it is stuck in a long task). */
  #revoke(): void {
    for (;;) {
      // A free executor starts what it holds as soon as the message arrives: leave it be.
      if (Atomics.load(this.#claim, BUSY_SLOT) === 0) return;
      const cur = Atomics.load(this.#claim, 0);
      if (cur < 0 || cur >= this.#nextIdx) return;
      if (Atomics.compareExchange(this.#claim, 0, cur, -1 - cur) !== cur) continue;
      const to = this.#nextIdx - 1;
      const back = new Map<string, BlockBuilder>();
      for (let idx = cur; idx <= to; idx++) {
        const task = this.#finishHanded(idx);
        if (task === undefined) continue;
        const { block, i } = task;
        if (block.owner === this.#me && !this.#table.move(block.seqs[i], QUEUED)) continue;
        let b = back.get(block.owner);
        if (b === undefined) back.set(block.owner, b = new BlockBuilder(block.owner));
        b.add(block.seqs[i], block.names[block.kinds[i]], argsOf(block, i));
      }
      for (const b of back.values()) this.#deque.unshift(b.finish());
      this.#post({ t: "revoked", from: cur, to });
      log.debug(`revoked ${to - cur + 1} unstarted task(s) from the busy executor`);
      return;
    }
  }

  // ---- stealing and load gossip ----

  /** What a thief could get from us now. */
  #stealable(): number {
    if (Atomics.load(this.#claim, BUSY_SLOT) === 0) return this.#deque.length;
    const claimed = Atomics.load(this.#claim, 0);
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
  #watchHanded(): void {
    if (this.#handedWatch !== undefined || this.#stopped) return;
    this.#handedWatch = setTimeout(() => {
      this.#handedWatch = undefined;
      const claimed = Atomics.load(this.#claim, 0);
      if (claimed >= 0 && claimed < this.#nextIdx) {
        this.#noteLoad();
        this.#watchHanded();
      }
    }, WATCH_MS);
  }

  #noteLoad(): void {
    if (this.#gossipScheduled) return;
    this.#gossipScheduled = true;
    setImmediate(() => {
      this.#gossipScheduled = false;
      const n = this.#stealable();
      if (!worthGossiping(this.#sentLoad, n)) return;
      // Having work or none at all is news to act on now (idle peers steal on it); a change in
      // how much can wait for the next message out.
      const lazy = (this.#sentLoad === 0) === (n === 0);
      this.#sentLoad = n;
      this.#mesh.broadcast({ t: "load", n }, lazy);
    });
  }

  /** Ask one peer, picked at random by load, for work; only peers with `min` tasks or more. */
  #steal(min = 1): void {
    if (this.#stealing !== undefined) return;
    const victim = pickVictim(this.#loads, Math.random, min);
    if (victim === undefined) return; // sleep until some peer gossips work
    this.#stealing = victim;
    this.stats.steals++;
    if (!this.#mesh.send(victim, { t: "steal" })) {
      this.#stealing = undefined;
      this.#loads.delete(victim);
    }
  }

  #onSteal(thief: string): void {
    if (this.#deque.length === 0) this.#revoke();
    const blocks: TaskBlock[] = [];
    let given = 0;
    for (const block of this.#deque.shift(stealCount(this.#deque.length))) {
      let live = 0;
      for (const seq of block.seqs) if (seq >= 0) live++;
      // Ours are lent: kept in the table until they settle, queued again if the thief dies.
      if (block.owner === this.#me && !this.#table.lend(thief, block)) {
        this.#deque.unshift(block, live); // no holder code free: keep them
        continue;
      }
      blocks.push(block);
      given += live;
    }
    this.stats.tasksGiven += given;
    const load = this.#stealable();
    this.#mesh.send(thief, { t: "tasks", blocks, load });
    // The thief now holds the freshest estimate; gossip again as soon as it goes stale (an
    // empty reply followed by an executor stuck on handed tasks must reach the thieves).
    this.#sentLoad = load;
    if (given > 0) this.#noteLoad();
  }

  #onTasks(from: string, m: Extract<Message, { t: "tasks" }>): void {
    if (this.#stealing === from) this.#stealing = undefined;
    this.#loads.set(from, m.load);
    let got = 0;
    for (const block of m.blocks) {
      let live = 0;
      for (let i = 0; i < block.seqs.length; i++) {
        const seq = block.seqs[i];
        if (seq < 0) continue;
        // One of ours coming back: take it only if it is out there (not settled, not here).
        if (block.owner === this.#me) {
          if (this.#table.code(seq) < LENT) {
            block.seqs[i] = -1;
            continue;
          }
          this.#table.move(seq, QUEUED);
        }
        live++;
      }
      got += live;
      this.#deque.push(block, live);
    }
    if (got > 0) {
      this.stats.stealHits++;
      this.stats.stolenTasks += got;
    }
    this.#pump();
  }

  // ---- results, cancellation ----

  #onResults(m: Extract<Message, { t: "results" }>): void {
    const r = m.r;
    for (let i = 0; i < r.keys.length; i++) {
      if (this.#settleOwned(r.keys[i]) === NONE) continue; // a duplicate, or cancelled
      this.#resolveBuf.add(r.keys[i], r.oks[i] as 0 | 1, payloadOf(r, i));
    }
    this.#flushResolves();
  }

  #flushResolves(): void {
    if (this.#resolveScheduled) return;
    this.#resolveScheduled = true;
    setImmediate(() => {
      this.#resolveScheduled = false;
      if (this.#resolveBuf.length === 0 && this.#startedBuf.length === 0) return;
      const r = this.#resolveBuf.length > 0 ? this.#resolveBuf.finish() : null;
      this.#post(
        { t: "resolve", r, started: this.#startedBuf },
        r === null ? [] : resultBuffers(r),
      );
      this.#startedBuf = [];
    });
  }

  /**
   * Settle an owned task (it has a result, or was cancelled): returns where it was. One still
   * queued here is counted out of the deque, which will skip it (it can be queued here while a
   * result arrives: reclaimed from a dead thief that had passed it on, or a late result).
   */
  #settleOwned(seq: number): number {
    const code = this.#table.settle(seq);
    if (code === QUEUED) this.#deque.forget();
    return code;
  }

  /** The executor cancelled futures: drop their tasks here, or tell the peers holding them. */
  #cancelOwned(seqs: number[]): void {
    const remote = new Map<string, number[]>();
    for (const seq of seqs) {
      const code = this.#settleOwned(seq);
      const holder = this.#table.holderOf(code);
      if (holder === undefined) continue;
      let list = remote.get(holder);
      if (list === undefined) remote.set(holder, list = []);
      list.push(seq);
    }
    for (const [holder, list] of remote) this.#mesh.send(holder, { t: "cancel", seqs: list });
  }

  // ---- constants ----

  #setConst(localId: number, entries: [string, Uint8Array][]): void {
    const id = ++this.#nextConstId;
    const peers = new Set(this.#mesh.peers());
    for (const [name, value] of entries) {
      this.#consts.set(name, value);
      this.#myConsts.add(name);
      this.#mesh.broadcast({ t: "const", id, name, value });
    }
    // One ack per entry per peer: count them as a set of `peer#entry`.
    const waiting = new Set<string>();
    for (const p of peers) for (let i = 0; i < entries.length; i++) waiting.add(`${p}#${i}`);
    this.#constWaits.set(id, { peers: waiting, localId });
    this.#checkConst(id);
  }

  #checkConst(id: number): void {
    const w = this.#constWaits.get(id);
    if (w === undefined || w.peers.size > 0) return;
    this.#constWaits.delete(id);
    if (w.localId !== undefined) this.#post({ t: "constDone", id: w.localId });
  }

  #onConstAck(from: string, id: number): void {
    const w = this.#constWaits.get(id);
    if (w === undefined) return;
    for (const key of w.peers) {
      if (key.startsWith(`${from}#`)) {
        w.peers.delete(key);
        break;
      }
    }
    this.#checkConst(id);
  }

  // ---- mesh events ----

  #onMessage(from: string, m: Message): void {
    switch (m.t) {
      case "load":
        this.#loads.set(from, m.n);
        if (m.n > 0) this.#pump();
        break;
      case "steal":
        this.#onSteal(from);
        break;
      case "tasks":
        this.#onTasks(from, m);
        break;
      case "results":
        this.#onResults(m);
        break;
      case "started":
        for (const seq of m.seqs) {
          if (this.#table.code(seq) !== NONE) this.#startedBuf.push(seq);
        }
        this.#flushResolves();
        break;
      case "cancel":
        this.#deque.drop(from, new Set(m.seqs));
        break;
      case "const":
        if (!this.#consts.has(m.name)) {
          this.#consts.set(m.name, m.value);
          this.#post({ t: "const", name: m.name, value: m.value });
        }
        this.#mesh.send(from, { t: "constAck", id: m.id });
        break;
      case "constAck":
        this.#onConstAck(from, m.id);
        break;
      case "stop":
        this.onStop({ ok: true });
        break;
      case "hello":
      case "refuse":
      case "peers":
        break;
    }
  }

  #onPeerUp(id: string, load: number): void {
    log.debug(`peer ${id} joined (${this.#loads.size + 2} peers)`);
    this.#loads.set(id, load);
    for (const name of this.#myConsts) {
      this.#mesh.send(id, { t: "const", id: 0, name, value: this.#consts.get(name)! });
    }
    this.#sizeChanged();
    if (load > 0) this.#pump();
  }

  #onPeerDown(id: string, error?: Error): void {
    log.debug(`peer ${id} left${error ? `: ${error.message}` : ""}`);
    if (id === this.#originId) {
      // The job is the origin's: without it no result has anywhere to go. Leave too.
      this.onStop({ ok: false, error: new GridError(`the origin ${id} left the grid`) });
      return;
    }
    if (!this.#options.origin && this.#mesh.peers().length === 0) {
      this.onStop({ ok: false, error: new GridError(`lost the link to every peer of the grid`) });
      return;
    }
    this.#loads.delete(id);
    if (this.#stealing === id) this.#stealing = undefined;
    // Tasks we own that it held are queued again: nothing is lost when a thief dies.
    for (const block of this.#table.reclaim(id)) this.#deque.push(block);
    for (const [cid, w] of this.#constWaits) {
      for (const key of [...w.peers]) if (key.startsWith(`${id}#`)) w.peers.delete(key);
      this.#checkConst(cid);
    }
    this.#sizeChanged();
    this.#pump();
  }

  #onRefused(id: string, error: MembershipError): void {
    log.error(error.message);
    if (!this.#options.origin && this.#mesh.peers().length === 0) {
      this.onStop({ ok: false, error });
    }
    void id;
  }

  #sizeChanged(): void {
    const n = this.size;
    this.#post({ t: "size", n });
    this.onSize(n);
  }
}
