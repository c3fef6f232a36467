/**
 * A peer: the mesh thread's side of one process. Every decision is the state machine's
 * (`core/state.ts`); this host feeds it what happens — links up and down, messages, the
 * executor's reports, timers — and carries out what it asks: messages on links, messages to
 * the executor worker, dials, timers.
 *
 * @module
 */
import process from "node:process";
import { GridError, type MembershipError } from "../errors.ts";
import { logger, logLevel } from "../log.ts";
import { Mesh } from "../mesh/mesh.ts";
import type { ConnectionLimits } from "../mesh/node.ts";
import type { FromWorker, ToWorker } from "../executor/protocol.ts";
import { BUSY_SLOT, CLAIM_SLOT } from "../executor/protocol.ts";
import { resultBuffers } from "../results/batch.ts";
import { blockBuffers } from "../scheduler/block.ts";
import type { Action, Event, ExecutorView, TimerName } from "../core/events.ts";
import { validateMessage } from "../core/messages.ts";
import { PeerState } from "../core/state.ts";

const log = logger("peer");

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
  #state!: PeerState;
  #options: PeerOptions;
  #claim = new Int32Array(new SharedArrayBuffer(8)); // [CLAIM_SLOT, BUSY_SLOT]
  #ready = Promise.withResolvers<boolean>();
  #timers = new Map<TimerName, ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>>();
  /** Chunks received from each linked peer at the last tick (see `#reportHeard`). */
  #chunks = new Map<string, number>();
  #stopped = false;
  /** Settles when `main` settles (origin only). */
  readonly mainDone = Promise.withResolvers<MainOutcome>();
  /** Called when a peer joins or leaves, with the new count of live peers (this one included). */
  onSize: (size: number) => void = () => {};
  /** Called when the grid tells this peer to stop, or it cannot go on. */
  onStop: (reason: { ok: boolean; error?: Error }) => void = () => {};

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
        limits: options.limits,
      },
      {
        onPeerUp: (id, hello) =>
          peer.#handle({
            type: "linkUp",
            peer: id,
            origin: hello.origin,
            addrs: hello.addrs,
            load: hello.load,
          }),
        onPeerDown: (id, error) =>
          peer.#handle({ type: "linkDown", peer: id, reason: error?.message }),
        // Validation throws on a malformed message, which closes that link as hostile.
        onMessage: (from, raw) =>
          peer.#handle({ type: "message", from, message: validateMessage(raw) }),
        onRefused: (_id, error) => peer.#onRefused(error),
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

  /** Run `main(args)` in the worker (origin only); `peers`: how many the launcher started. */
  startMain(args: string[], peers = 1): void {
    this.#post({ t: "main", args, peers });
  }

  /** Tell every peer the job is over. */
  broadcastStop(): void {
    this.#handle({ type: "stop" });
  }

  /** Close links, stop the worker and the node. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers.values()) {
      clearTimeout(t as ReturnType<typeof setTimeout>);
      clearImmediate(t as ReturnType<typeof setImmediate>);
    }
    // SCOOP_STATS=1: each peer prints its counters on the way out (bench/ reads them).
    if (process.env.SCOOP_STATS) {
      process.stderr.write(`scoop-stats ${JSON.stringify({ peer: this.id, ...this.stats })}\n`);
    }
    this.#worker.terminate();
    await this.#mesh.stop();
  }

  // ---- events in, actions out ----

  #handle(event: Event): void {
    if (this.#stopped || this.#state === undefined) return;
    for (const a of this.#state.handle(event, performance.now())) this.#do(a);
  }

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
      case "log":
        log[a.level](a.text);
        break;
    }
  }

  #setTimer(name: TimerName, after: number): void {
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
    // Bun says when the executor's thread ends (Deno does not; its executor guards every way
    // user code could end it, see `guardExit` in the executor): a peer without its executor
    // cannot go on, and leaves, so its tasks run elsewhere.
    this.#worker.addEventListener("close", (e) => {
      if (this.#stopped) return;
      const code = (e as Event & { code?: number }).code;
      log.error(`the executor ended (code ${code ?? "unknown"}): this peer leaves the grid`);
      this.#ready.resolve(false);
      this.onStop({ ok: false, error: new Error(`Executor ended with code ${code ?? "unknown"}`) });
    });
    this.#post({
      t: "init",
      entry: this.#options.entry,
      isOrigin: this.#options.origin,
      level: logLevel(),
      claim: this.#claim.buffer as SharedArrayBuffer,
    });
  }

  #post(m: ToWorker): void {
    if (this.#stopped) return;
    // Blocks and results are moved, not cloned (except what lives in shared memory).
    const transfer = m.t === "run"
      ? m.blocks.flatMap(blockBuffers)
      : m.t === "resolve" && m.r !== null
      ? resultBuffers(m.r)
      : [];
    this.#worker.postMessage(m, transfer);
  }

  #fromWorker(m: FromWorker): void {
    switch (m.t) {
      case "batch":
        this.#handle({ type: "batch", batch: m });
        break;
      case "ready":
        this.#ready.resolve(m.hasMain);
        this.#handle({ type: "ready" });
        break;
      case "failed":
        log.error(m.message);
        this.#ready.reject(new Error(m.message));
        break;
      case "setConst":
        this.#handle({ type: "setConst", id: m.id, entries: m.entries });
        break;
      case "mainDone":
        this.mainDone.resolve({ ok: m.ok === 1, payload: m.payload });
        break;
      case "shutdown":
        break;
    }
  }

  #onRefused(error: MembershipError): void {
    log.error(error.message);
    if (!this.#options.origin && this.#state.links.length === 0) {
      this.onStop({ ok: false, error });
    }
  }
}
