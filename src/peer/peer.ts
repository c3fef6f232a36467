/**
 * A peer: the mesh thread's side of one process. Every decision is the state machine's
 * (`core/state.ts`); this host feeds it what happens — links up and down, messages, the
 * executor's reports, timers — and carries out what it asks: messages on links, messages to
 * the executor worker, dials, timers.
 *
 * The origin also runs main's thread, a second worker that runs `main` and no task (see
 * `executor/protocol.ts`); this host passes its submits to the state machine like the
 * executor's, and sends it what is its own: results and start notices by sequence number,
 * the answers to its constants, and `main`.
 *
 * @module
 */
import process from "node:process";
import { GridError, type MembershipError } from "../errors.ts";
import { configureLog, logFile, logger, logLevel, notice } from "../log.ts";
import { frameCounts } from "../mesh/link.ts";
import { Mesh } from "../mesh/mesh.ts";
import type { CodeSource } from "../mesh/code.ts";
import type { Progress } from "../launcher/progress.ts";
import type { ConnectionLimits } from "../mesh/node.ts";
import type { FromWorker, ToWorker } from "../executor/protocol.ts";
import { BUSY_SLOT, CLAIM_SLOT, isMainSeq } from "../executor/protocol.ts";
import { noSourceByEnv } from "../executor/source.ts";
import { payloadOf, type ResultBatch, resultBuffers, ResultBuilder } from "../results/batch.ts";
import { blockBuffers } from "../scheduler/block.ts";
import type { Action, Event, ExecutorView, MemberChange, TimerName } from "../core/events.ts";
import { describeMember, describeRefusal, NOISE_FAILED, type Whereabouts } from "./members.ts";
import { validateMessage } from "../core/messages.ts";
import { PeerState } from "../core/state.ts";
import { TELEMETRY_MIN_MS } from "../core/dashboard.ts";
import { TelemetryFeed } from "./telemetry.ts";

const log = logger("peer");
/** A refusal of the same peer (or address) for the same reason is told of once in this long. */
const REFUSAL_QUIET_MS = 60_000;
const EXECUTOR = new URL("../executor/worker.ts", import.meta.url);

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
  /** Caps on inbound connections still in their handshake. */
  limits?: ConnectionLimits;
  /** mDNS service name to find peers of the grid on the LAN (see `discoveryTag`). */
  discovery?: string;
  /** The job's code, served to peers that join without it (see `mesh/code.ts`). */
  code?: CodeSource;
  /** An executor worker started ahead by {@link Peer.prestart}; else one starts here. */
  executor?: Worker;
  /** `--no-source`: send and compile no function as source (default: `SCOOP_NO_SOURCE=1`). */
  noSource?: boolean;
}

/** How `main` ended, as the origin reports it. */
export interface MainOutcome {
  ok: boolean;
  /** Encoded result or failure (see executor/failure.ts). */
  payload: Uint8Array;
}

/** One process of the grid (see module doc). */
export class Peer {
  #mesh!: Mesh;
  #worker!: Worker;
  /** Main's thread (origin only). */
  #main?: Worker;
  #state!: PeerState;
  #options: PeerOptions;
  #claim = new Int32Array(new SharedArrayBuffer(8)); // [CLAIM_SLOT, BUSY_SLOT]
  #ready = Promise.withResolvers<boolean>();
  #timers = new Map<TimerName, ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>>();
  /** Chunks received from each linked peer at the last tick (see `#reportHeard`). */
  #chunks = new Map<string, number>();
  #stopped = false;
  /** What this peer tells the origin's dashboard, once it asks (see `#observed`). */
  #feed?: TelemetryFeed;
  #feedTimer?: ReturnType<typeof setInterval>;
  /** Settles when `main` settles (origin only). */
  readonly mainDone = Promise.withResolvers<MainOutcome>();
  /** Called when a peer joins or leaves, with the new count of live peers (this one included). */
  onSize: (size: number) => void = () => {};
  /** Called with the counts of main's tasks as main's thread tells them (origin only). */
  onProgress: (progress: Progress) => void = () => {};
  /**
   * Called with each telemetry frame for the dashboard, unread (origin only, once
   * {@link Peer.observe} was called): the other peers', and this peer's own.
   */
  onTelemetry: (from: string, frame: Record<string, unknown>) => void = () => {};
  /** Called when the grid tells this peer to stop, or it cannot go on. */
  onStop: (reason: { ok: boolean; error?: Error }) => void = () => {};
  /** Called when a peer joins, leaves or is lost, as this peer sees it (it logs each, info). */
  onMember: (change: MemberChange) => void = () => {};
  /** Where each peer that said hello here runs. */
  #seen = new Map<string, Whereabouts>();
  /** When each refusal was last told of (see REFUSAL_QUIET_MS). */
  #refusals = new Map<string, number>();
  /**
   * The job is over here: a handshake cut short by the links closing is no refusal worth a line
   * (a peer still dialing in as the job ends would read as one with another key).
   */
  #ended = false;

  private constructor(options: PeerOptions) {
    this.#options = options;
  }

  /**
   * Start an executor worker ahead of {@link Peer.start}, loading scoop's modules while the
   * entry is not known yet (a joiner fetching the job's code); give it as `executor`, or
   * `terminate()` it.
   */
  static prestart(): Worker {
    const worker = new Worker(EXECUTOR.href, { type: "module" });
    worker.postMessage({ t: "warm" } satisfies ToWorker);
    return worker;
  }

  /** Start the node and the executor worker; resolves once the entry module is loaded. */
  static async start(options: PeerOptions): Promise<Peer> {
    const peer = new Peer(options);
    // The executor (and main's thread) start loading the entry module at once, while the node
    // starts.
    peer.#worker = peer.#startWorker(false, options.executor);
    if (options.origin) peer.#main = peer.#startWorker(true);
    peer.#mesh = await Mesh.start(
      {
        grid: options.grid,
        app: options.app,
        origin: options.origin,
        key: options.key,
        listen: options.listen,
        limits: options.limits,
        discovery: options.discovery,
        code: options.code,
      },
      {
        onPeerUp: (id, hello) => {
          peer.#seen.set(id, { host: hello.host, pid: hello.pid });
          peer.#handle({
            type: "linkUp",
            peer: id,
            origin: hello.origin,
            addrs: hello.addrs,
            load: hello.load,
          });
        },
        onPeerDown: (id, error) =>
          peer.#handle({ type: "linkDown", peer: id, reason: error?.message }),
        // Validation throws on a malformed message, which closes that link as hostile.
        onMessage: (from, raw) =>
          peer.#handle({ type: "message", from, message: validateMessage(raw) }),
        onRefused: (id, error, why) => peer.#onRefused(id, error, why),
        onNoiseFailed: (ip, error) => {
          log.debug(`the handshake of a connection from ${ip} failed: ${error.message}`);
          peer.#tellRefusal(describeRefusal({ ip }, NOISE_FAILED));
        },
        onDiscovered: (id, addrs) => {
          log.debug(`found peer ${id} on the LAN at ${addrs.join(" ")}`);
          peer.#handle({ type: "discovered", peer: id, addrs });
        },
        load: () => peer.#state?.load ?? 0,
      },
    );
    const claim = peer.#claim;
    const executor: ExecutorView = {
      claimed: () => Atomics.load(claim, CLAIM_SLOT),
      busy: () => Atomics.load(claim, BUSY_SLOT) !== 0,
      revoke: (from) => Atomics.compareExchange(claim, CLAIM_SLOT, from, -1 - from) === from,
    };
    peer.#state = new PeerState(
      {
        id: peer.#mesh.id,
        origin: options.origin,
        addrs: peer.#mesh.addresses(),
        random: Math.random,
      },
      executor,
    );
    // Every line of this peer, its threads' too, says which peer it is.
    const prefix = peer.id.slice(-6);
    configureLog({ prefix });
    peer.#post({ t: "identity", peerId: peer.id, prefix });
    for (const event of peer.#early.splice(0)) peer.#handle(event);
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

  /** Live peers this peer knows of, itself included. */
  get size(): number {
    return this.#state.size;
  }

  /** Resolves true once the entry module is loaded, with whether it exports `main`. */
  get ready(): Promise<boolean> {
    return this.#ready.promise;
  }

  /**
   * Counters of this peer's scheduling, for benchmarks and debugging: steal requests sent,
   * how many brought tasks back, tasks received that way, tasks handed to the executor, …
   */
  get stats(): PeerState["stats"] {
    return this.#state.stats;
  }

  /** Dial a peer (a bootstrap address). */
  dial(addr: string): Promise<void> {
    return this.#mesh.dial(addr);
  }

  /** Run `main(args)` in main's thread (origin only); `peers`: how many the launcher started. */
  startMain(args: string[], peers = 1): void {
    if (!this.#stopped) this.#main?.postMessage({ t: "main", args, peers } satisfies ToWorker);
  }

  /** Fewer peers than told to `startMain` are to come: `waitForPeers()` waits for `peers`. */
  peersStarted(peers: number): void {
    if (!this.#stopped) this.#main?.postMessage({ t: "started", n: peers } satisfies ToWorker);
  }

  /** Where peer `id` runs, if it said hello to this peer. */
  whereabouts(id: string): Whereabouts | undefined {
    return this.#seen.get(id);
  }

  /**
   * Leave the grid on purpose while the job goes on: the linked peers hear it at once, and run
   * what this peer held without first waiting to find it silent. Then `stop()`.
   */
  bye(): void {
    this.#handle({ type: "bye" });
  }

  /**
   * A dashboard opened on this peer, the origin: ask every peer for telemetry every `every` ms
   * (at least 500), and tell its own; frames come to {@link Peer.onTelemetry}.
   */
  observe(every: number): void {
    this.#handle({ type: "observe", every });
    this.#observed(Math.max(TELEMETRY_MIN_MS, every));
  }

  /** Tell every peer the job is over. */
  broadcastStop(): void {
    this.#ended = true;
    this.#handle({ type: "stop" });
  }

  /** Close links, stop the worker and the node. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#feedTimer);
    for (const t of this.#timers.values()) {
      clearTimeout(t as ReturnType<typeof setTimeout>);
      clearImmediate(t as ReturnType<typeof setImmediate>);
    }
    // SCOOP_STATS=1: each peer prints its counters on the way out (bench/ reads them).
    if (process.env.SCOOP_STATS) {
      const frames = { ...frameCounts };
      process.stderr.write(
        `scoop-stats ${JSON.stringify({ peer: this.id, ...this.stats, frames })}\n`,
      );
    }
    this.#worker.terminate();
    this.#main?.terminate();
    await this.#mesh.stop();
  }

  // ---- events in, actions out ----

  #handle(event: Event): void {
    if (this.#stopped) return;
    if (this.#state === undefined) {
      // mDNS answers can come while the node is still starting: libp2p tells of a peer once.
      if (event.type === "discovered") this.#early.push(event);
      return;
    }
    for (const a of this.#state.handle(event, performance.now())) this.#do(a);
  }

  /** Peers found before the state machine was there (see `#handle`). */
  #early: Event[] = [];

  #do(a: Action): void {
    switch (a.type) {
      case "send":
        this.#mesh.send(a.to, a.message, a.lazy);
        break;
      case "post":
        this.#post(a.message);
        break;
      case "timer":
        this.#setTimer(a.name, a.after);
        break;
      case "connect":
        this.#mesh.connect(a.peer, a.addrs).catch((err: Error) => {
          log.debug(`Cannot link to peer ${a.peer}: ${err.message}`);
          if (this.#mesh.received(a.peer) === undefined) {
            this.#handle({ type: "linkDown", peer: a.peer, reason: err.message });
          }
        });
        break;
      case "disconnect":
        this.#mesh.disconnect(a.peer);
        break;
      case "size":
        this.onSize(a.n);
        break;
      case "leave":
        this.onStop(a.ok ? { ok: true } : { ok: false, error: new GridError(a.error ?? "left") });
        break;
      case "member":
        log.info(describeMember(a.change, { fullIds: true }));
        this.onMember(a.change);
        break;
      case "log":
        log[a.level](a.text);
        break;
      case "observe":
        this.#observed(a.every);
        break;
      case "telemetry":
        this.onTelemetry(a.from, a.frame);
        break;
    }
  }

  /**
   * The origin watches: from now on this peer's threads record the task tree, and a frame
   * goes to the origin every `every` ms (the origin's own goes to `onTelemetry`).
   */
  #observed(every: number): void {
    if (this.#feed !== undefined || this.#stopped) return;
    const feed = this.#feed = new TelemetryFeed();
    this.#worker.postMessage({ t: "watch" } satisfies ToWorker);
    this.#main?.postMessage({ t: "watch" } satisfies ToWorker);
    const tell = () => {
      const frame = feed.frame(this.#state.stats, this.#state.load);
      if (this.#options.origin) this.onTelemetry(this.id, frame);
      else this.#handle({ type: "report", frame });
    };
    tell();
    this.#feedTimer = setInterval(tell, every);
  }

  #setTimer(name: TimerName, after: number): void {
    const armed = this.#timers.get(name);
    if (armed !== undefined) {
      // Armed again for another time (see `Action`): the first arming is void.
      clearTimeout(armed as ReturnType<typeof setTimeout>);
      clearImmediate(armed as ReturnType<typeof setImmediate>);
    }
    const fire = () => {
      this.#timers.delete(name);
      if (name === "tick") this.#reportHeard();
      this.#handle({ type: "timer", name });
    };
    this.#timers.set(name, after === 0 ? setImmediate(fire) : setTimeout(fire, after));
  }

  /** Links that sent bytes since the last tick were heard, even with no whole message yet. */
  #reportHeard(): void {
    const peers: string[] = [];
    const now = new Map<string, number>();
    for (const id of this.#state.links) {
      const n = this.#mesh.received(id) ?? 0;
      if (n !== (this.#chunks.get(id) ?? 0)) peers.push(id);
      now.set(id, n);
    }
    this.#chunks = now;
    if (peers.length > 0) this.#handle({ type: "heard", peers });
  }

  // ---- executor worker, and main's thread ----

  #startWorker(main: boolean, started?: Worker): Worker {
    const worker = started ?? new Worker(EXECUTOR.href, { type: "module" });
    const what = main ? "main's thread" : "the executor";
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.#fromWorker(e.data, main);
    worker.onerror = (e) => {
      const message = (e as ErrorEvent).message ?? String(e);
      log.error(`${what} crashed:`, message);
      this.#ready.resolve(false);
      this.onStop({ ok: false, error: new Error(`${what} crashed: ${message}`) });
    };
    // Bun says when a worker's thread ends (Deno does not; its workers guard every way user
    // code could end them, see `guardExit` in the executor): a peer without its executor
    // cannot go on, and leaves, so its tasks run elsewhere.
    worker.addEventListener("close", (e) => {
      if (this.#stopped) return;
      const code = (e as Event & { code?: number }).code ?? "unknown";
      log.error(`${what} ended (code ${code}): this peer leaves the grid`);
      this.#ready.resolve(false);
      this.onStop({ ok: false, error: new Error(`${what} ended with code ${code}`) });
    });
    const claim = main ? new SharedArrayBuffer(8) : this.#claim.buffer as SharedArrayBuffer;
    const init: ToWorker = {
      t: "init",
      entry: this.#options.entry,
      isOrigin: this.#options.origin,
      main,
      level: logLevel(),
      logFile: logFile(),
      noSource: this.#options.noSource ?? noSourceByEnv(),
      claim,
    };
    worker.postMessage(init);
    return worker;
  }

  /** A message from the state machine to the worker it is for (see module doc). */
  #post(m: ToWorker): void {
    if (this.#stopped) return;
    const main = this.#main;
    switch (m.t) {
      case "run":
        // Blocks are moved, not cloned (except what lives in shared memory).
        this.#worker.postMessage(m, m.blocks.flatMap(blockBuffers));
        return;
      case "resolve":
        if (main === undefined) this.#postResolve(this.#worker, m.r, m.started);
        else this.#splitResolve(m.r, m.started, main);
        return;
      case "constDone":
        (m.id < 0 && main !== undefined ? main : this.#worker).postMessage(m);
        return;
      case "identity":
      case "size":
      case "const":
        main?.postMessage(m);
        this.#worker.postMessage(m);
        return;
      default:
        this.#worker.postMessage(m);
    }
  }

  #postResolve(to: Worker, r: ResultBatch | null, started: number[]): void {
    const message: ToWorker = { t: "resolve", r, started };
    to.postMessage(message, r === null ? [] : resultBuffers(r));
  }

  /** Results and start notices go to the thread that owns their futures. */
  #splitResolve(r: ResultBatch | null, started: number[], main: Worker): void {
    const startedHere = started.filter((seq) => !isMainSeq(seq));
    const startedMain = started.length === startedHere.length ? [] : started.filter(isMainSeq);
    let forHere: ResultBatch | null = null;
    let forMain: ResultBatch | null = null;
    if (r !== null) {
      let mains = 0;
      for (const key of r.keys) if (isMainSeq(key)) mains++;
      if (mains === r.keys.length) forMain = r;
      else if (mains === 0) forHere = r;
      else {
        const here = new ResultBuilder();
        const there = new ResultBuilder();
        for (let i = 0; i < r.keys.length; i++) {
          const to = isMainSeq(r.keys[i]) ? there : here;
          to.add(r.keys[i], r.oks[i] as 0 | 1, payloadOf(r, i));
        }
        forHere = here.finish();
        forMain = there.finish();
      }
    }
    if (forHere !== null || startedHere.length > 0) {
      this.#postResolve(this.#worker, forHere, startedHere);
    }
    if (forMain !== null || startedMain.length > 0) this.#postResolve(main, forMain, startedMain);
  }

  #fromWorker(m: FromWorker, main: boolean): void {
    switch (m.t) {
      case "batch":
        this.#handle({ type: "batch", batch: m });
        break;
      case "ready":
        // `main` starts as soon as its thread is up: the executor, loading beside it, gets
        // tasks once it is (meanwhile they wait in the deque, or go to other peers).
        if (!main) this.#handle({ type: "ready" });
        if (main || this.#main === undefined) this.#ready.resolve(m.hasMain);
        break;
      case "failed":
        log.error(m.message);
        this.#ready.reject(new Error(m.message));
        this.onStop({ ok: false, error: new Error(m.message) });
        break;
      case "setConst": {
        // The setting thread has them already; the origin's other thread gets them here.
        const other = main ? this.#worker : this.#main;
        for (const [name, value] of other === undefined ? [] : m.entries) {
          other!.postMessage({ t: "const", name, value } satisfies ToWorker);
        }
        this.#handle({ type: "setConst", id: m.id, entries: m.entries });
        break;
      }
      case "progress":
        this.onProgress(m);
        break;
      case "tree":
        this.#feed?.tree(m);
        break;
      case "mainDone":
        this.mainDone.resolve({ ok: m.ok === 1, payload: m.payload });
        break;
      case "shutdown":
        break;
    }
  }

  /** A refusal this peer made, in one line unless told of lately. */
  #tellRefusal(line: string): void {
    if (this.#ended || this.#stopped) {
      log.debug(`as the job ended: ${line}`);
      return;
    }
    const now = Date.now();
    if (now - (this.#refusals.get(line) ?? -Infinity) < REFUSAL_QUIET_MS) return;
    this.#refusals.set(line, now);
    notice(line);
  }

  #onRefused(id: string, error: MembershipError, why?: string): void {
    if (why !== undefined) {
      // This peer refused it: the user of this peer is told, in one line.
      log.debug(error.message);
      this.#tellRefusal(describeRefusal({ peer: id }, why));
    } else {
      log.error(error.message);
    }
    // (A peer that finds its grid over mDNS may meet peers of other jobs first: it waits on.)
    if (!this.#options.origin && !this.#options.discovery && this.#state.links.length === 0) {
      this.onStop({ ok: false, error });
    }
  }
}
