/**
 * The links of one peer: the libp2p node, at most one link per peer pair, and the hello
 * handshake that checks grid name, protocol version and entry-module hash. Which peers to link
 * to is not decided here (see `core/state.ts`): the mesh dials when asked, accepts who dials it,
 * and reports links up and down.
 *
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";
import { hostname } from "node:os";
import process from "node:process";
import type { Libp2p } from "libp2p";
import { MembershipError, ProtocolError } from "../errors.ts";
import { logger } from "../log.ts";
import { handshakeOf, type Hello, PROTOCOL, PROTOCOL_VERSION } from "./frames.ts";
import { Link } from "./link.ts";
import { type ConnectionLimits, createNode, DEFAULT_LIMITS, stopNode } from "./node.ts";
import { reachable } from "./addresses.ts";
import { batchWindowUpdates, joinSocketWrites } from "./wire-tuning.ts";
import { loadMeshDeps } from "./deps-bundle.ts";
import { type CodeSource, serveCode } from "./code.ts";

const { multiaddr } = await loadMeshDeps();

const log = logger("mesh");

/** Who this peer is, as checked by every other peer at the handshake. */
export interface Identity {
  /** The grid's name; peers of other grids refuse each other. */
  grid: string;
  /** Hash of the entry module's code; peers running other code refuse each other. */
  app: string;
  /** Whether this peer runs `main`. */
  origin: boolean;
}

/** What the mesh reports to the peer that owns it. */
export interface MeshHandlers {
  /** A peer passed the handshake and its link is up. */
  onPeerUp(id: string, hello: Hello): void;
  /** A peer's link closed. */
  onPeerDown(id: string, error?: Error): void;
  /**
   * A message after the handshake arrived, not yet validated: throwing closes the link as
   * hostile.
   */
  onMessage(from: string, message: unknown): void;
  /** A peer refused us, or we refused it (then `why` says why). */
  onRefused(id: string, error: MembershipError, why?: string): void;
  /** Current load estimate, sent in our hello. */
  load(): number;
  /** mDNS found a peer of this grid on the LAN (see `MeshOptions.discovery`). */
  onDiscovered?(id: string, addrs: string[]): void;
  /** A connection from `ip` failed its Noise handshake: most likely another grid key. */
  onNoiseFailed?(ip: string, error: Error): void;
}

/** Options of {@link Mesh.start}. */
export interface MeshOptions extends Identity {
  key: Uint8Array;
  listen?: string[];
  limits?: ConnectionLimits;
  /** mDNS service name to find and be found under (see `discoveryTag`); unset: none. */
  discovery?: string;
  /** The job's code, for peers that join without it (see `code.ts`); unset: not served. */
  code?: CodeSource;
}

interface PeerEntry {
  link?: Link;
  up: boolean;
  dialing?: boolean;
  /** Whether this side dialled the link (to break a tie between two dials at once). */
  dialed?: boolean;
}

/** The set of links of one peer. */
export class Mesh {
  #node: Libp2p;
  #identity: Identity;
  #handlers: MeshHandlers;
  #peers = new Map<string, PeerEntry>();
  #stopping = false;
  /** A link whose peer has not said hello by then is closed (see `ConnectionLimits`). */
  #helloTimeoutMs: number;
  /** Largest frame a linked peer may send (see `ConnectionLimits.maxFrameBytes`). */
  #maxFrame: number;
  #helloTimers = new Map<Link, ReturnType<typeof setTimeout>>();
  /** This peer's id. */
  readonly id: string;

  private constructor(node: Libp2p, options: MeshOptions, handlers: MeshHandlers) {
    this.#node = node;
    this.#identity = options;
    this.#handlers = handlers;
    this.#helloTimeoutMs = options.limits?.handshakeTimeoutMs ?? DEFAULT_LIMITS.handshakeTimeoutMs;
    this.#maxFrame = options.limits?.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes;
    this.id = node.peerId.toString();
  }

  /** Start the node and begin accepting links. */
  static async start(options: MeshOptions, handlers: MeshHandlers): Promise<Mesh> {
    const node = await createNode({
      key: options.key,
      listen: options.listen,
      limits: options.limits,
      discovery: options.discovery,
      // Handlers first: a peer found over mDNS may dial back within milliseconds.
      start: false,
      onNoiseFailed: (ip, error) => handlers.onNoiseFailed?.(ip, error),
    });
    const mesh = new Mesh(node, options, handlers);
    node.addEventListener("peer:discovery", (e) => {
      const id = e.detail.id.toString();
      const addrs = reachable(e.detail.multiaddrs.map(String));
      if (id !== mesh.id && addrs.length > 0) handlers.onDiscovered?.(id, addrs);
    });
    await node.handle(
      PROTOCOL,
      (stream, connection) => mesh.#accept(stream, connection),
      { maxInboundStreams: 4, maxOutboundStreams: 4 },
    );
    if (options.code !== undefined) {
      await serveCode(node, options.grid, options.code, mesh.#maxFrame);
    }
    await node.start();
    return mesh;
  }

  /** Addresses other peers can dial, each ending in `/p2p/<id>`. */
  addresses(): string[] {
    return reachable(this.#node.getMultiaddrs().map(String));
  }

  /** Ids of peers whose link is up. */
  peers(): string[] {
    const out: string[] = [];
    for (const [id, p] of this.#peers) if (p.up) out.push(id);
    return out;
  }

  /**
   * Queue a message to one peer; false when there is no link to it. A `lazy` message waits for
   * another to leave with (see `Link.send`).
   */
  send(to: string, message: unknown, lazy = false): boolean {
    const p = this.#peers.get(to);
    if (!p?.up || p.link === undefined) return false;
    p.link.send(message, lazy);
    return true;
  }

  /** Chunks of bytes received from `id` so far (see `Link.received`), or undefined if unlinked. */
  received(id: string): number | undefined {
    const p = this.#peers.get(id);
    return p?.up ? p.link?.received : undefined;
  }

  /** Close the link to `id`, after what is queued on it has left. */
  disconnect(id: string): void {
    void this.#peers.get(id)?.link?.close();
  }

  /**
   * Link to peer `id` at one of `addrs`, tried in turn.
   * Resolves once the link is up or being made by the other side.
   * @throws {Error} no address reached it, or the handshake failed
   */
  async connect(id: string, addrs: readonly string[]): Promise<void> {
    const withId = addrs.map((a) => a.includes("/p2p/") ? a : `${a}/p2p/${id}`);
    let last: unknown = new Error(`no address of peer ${id} is known`);
    for (const addr of withId) {
      try {
        await this.dial(addr);
        return;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /**
   * Dial a peer at `addr` (a multiaddr ending in `/p2p/<id>`) and run the handshake.
   * @throws {Error} the peer cannot be reached or the handshake fails (e.g. another grid key)
   */
  async dial(addr: string): Promise<void> {
    const ma = multiaddr(addr);
    const id = ma.getComponents().findLast((c) => c.name === "p2p")?.value;
    await this.#dialTarget(id, ma);
  }

  async #dialTarget(id: string | undefined, target: ReturnType<typeof multiaddr>): Promise<void> {
    if (id !== undefined) {
      const existing = this.#peers.get(id);
      if (existing?.link !== undefined || existing?.dialing) return;
      this.#entry(id).dialing = true;
    }
    try {
      const connection = await this.#node.dial(target);
      const remote = connection.remotePeer.toString();
      if (this.#peers.get(remote)?.link !== undefined) return;
      const stream = await connection.newStream(PROTOCOL);
      const existing = this.#peers.get(remote);
      if (existing?.link !== undefined) {
        // It dialled too, and its link came first: the link the lower id dialled stays on both
        // sides (see `#accept`, which the other side runs on this one).
        if (existing.up || existing.dialed || remote < this.id) {
          stream.abort(new Error("duplicate link"));
          return;
        }
        const old = existing.link;
        existing.link = undefined;
        old.abort(new Error("duplicate link"));
      }
      this.#open(remote, stream, true, connection);
    } finally {
      if (id !== undefined) {
        const entry = this.#peers.get(id);
        if (entry !== undefined) {
          entry.dialing = false;
          if (entry.link === undefined && !entry.up) this.#peers.delete(id);
        }
      }
    }
  }

  /** Close every link and stop the node. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const t of this.#helloTimers.values()) clearTimeout(t);
    this.#helloTimers.clear();
    await Promise.all([...this.#peers.values()].map((p) => p.link?.close()));
    await stopNode(this.#node);
  }

  #entry(id: string): PeerEntry {
    let p = this.#peers.get(id);
    if (p === undefined) {
      p = { up: false };
      this.#peers.set(id, p);
    }
    return p;
  }

  #accept(stream: Stream, connection: Connection): void {
    const id = connection.remotePeer.toString();
    const existing = this.#peers.get(id);
    if (this.#stopping) {
      stream.abort(new Error("stopping"));
      return;
    }
    if (existing?.link !== undefined) {
      // Both sides dialled at once: both keep the link the lower id dialled. Ours goes when
      // that is theirs (before its handshake, so no one sees it come and go).
      if (!(existing.dialed && !existing.up && id < this.id)) {
        stream.abort(new Error("duplicate link"));
        return;
      }
      const old = existing.link;
      existing.link = undefined;
      old.abort(new Error("duplicate link"));
    }
    this.#open(id, stream, false, connection);
  }

  #open(id: string, stream: Stream, dialer: boolean, connection: Connection): void {
    const entry = this.#entry(id);
    const batched = batchWindowUpdates(stream);
    const joined = joinSocketWrites(connection);
    if (!batched || !joined) {
      log.debug("libp2p's classes are not the ones wire-tuning.ts knows: its tuning is off");
    }
    const link = new Link(id, stream, {
      onMessages: (l, raw) => {
        // A link closed by one of them (a refusal) reads no further.
        for (const m of raw) {
          if (l.closed) break;
          this.#onMessage(l, m);
        }
      },
      onClose: (l, error) => this.#onClose(l, error),
    }, this.#maxFrame);
    entry.link = link;
    entry.dialed = dialer;
    // Noise proved the key; a peer that then says nothing holds a link for nothing.
    const ms = this.#helloTimeoutMs;
    this.#helloTimers.set(
      link,
      setTimeout(() => {
        this.#helloTimers.delete(link);
        if (entry.link !== link || entry.up) return;
        log.debug(`closed the link from ${id}: no hello within ${ms} ms (--handshake-timeout)`);
        link.abort(new ProtocolError(`no hello within ${ms} ms`));
      }, ms),
    );
    if (dialer) {
      link.send(this.#hello());
      this.#sentHello.add(link);
    }
  }

  #hello(): Hello {
    return {
      t: "hello",
      peer: this.id,
      grid: this.#identity.grid,
      proto: PROTOCOL_VERSION,
      app: this.#identity.app,
      origin: this.#identity.origin,
      addrs: this.addresses(),
      load: this.#handlers.load(),
      host: hostname(),
      pid: process.pid,
    };
  }

  #mismatch(hello: Hello): string | undefined {
    const me = this.#identity;
    if (hello.proto !== PROTOCOL_VERSION) {
      return `it speaks protocol version ${hello.proto}, this peer ${PROTOCOL_VERSION} ` +
        `(run the same scoop version everywhere)`;
    }
    if (hello.grid !== me.grid) {
      return `it belongs to grid "${hello.grid}", this peer to "${me.grid}" (use the same --grid)`;
    }
    if (hello.app !== me.app) {
      return `it runs another version of the entry module (code hash ${hello.app.slice(0, 12)}, ` +
        `here ${me.app.slice(0, 12)}); start every peer with the same app file`;
    }
    if (hello.origin && me.origin) return "both peers claim to be the origin";
    return undefined;
  }

  #onMessage(link: Link, raw: unknown): void {
    const entry = this.#peers.get(link.remote);
    if (entry === undefined || entry.link !== link) return;
    const m = handshakeOf(raw);
    if (m === undefined) {
      if (!entry.up) throw new Error("a message before the handshake");
      this.#handlers.onMessage(link.remote, raw);
      return;
    }
    if (m.t === "hello") {
      if (m.peer !== link.remote) {
        throw new Error(`hello names peer ${m.peer}, but the connection is ${link.remote}`);
      }
      if (entry.up) throw new Error("second hello on an open link");
      const why = this.#mismatch(m);
      if (why !== undefined) {
        const error = new MembershipError(`Refused peer ${m.peer}: ${why}`);
        link.send({ t: "refuse", reason: why });
        void link.close();
        this.#handlers.onRefused(m.peer, error, why);
        return;
      }
      // The listener answers the dialer's hello with its own.
      if (!this.#sentHello.has(link)) {
        link.send(this.#hello());
        this.#sentHello.add(link);
      }
      entry.up = true;
      clearTimeout(this.#helloTimers.get(link));
      this.#helloTimers.delete(link);
      this.#handlers.onPeerUp(m.peer, m);
      return;
    }
    this.#handlers.onRefused(
      link.remote,
      new MembershipError(`Peer ${link.remote} refused this peer: ${m.reason}`),
    );
    void link.close();
  }

  #sentHello = new WeakSet<Link>();

  #onClose(link: Link, error?: Error): void {
    clearTimeout(this.#helloTimers.get(link));
    this.#helloTimers.delete(link);
    const entry = this.#peers.get(link.remote);
    if (entry === undefined || entry.link !== link) return;
    const wasUp = entry.up;
    this.#peers.delete(link.remote);
    if (wasUp) this.#handlers.onPeerDown(link.remote, error);
  }
}
