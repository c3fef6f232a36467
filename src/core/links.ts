/**
 * The links of a peer's state machine: which peers it links to, what it knows of the others,
 * whether they are alive, and the delivery of messages to them.
 *
 * - **Links.** A peer dials half of `degree` links itself, to peers picked at random from those
 *   it knows, and accepts links from others until it has `maxDegree`, turning strangers away
 *   past that with a sample of peers to try instead; so links average `degree` and stay near
 *   `maxDegree` however large the grid. Peers learn of each other by gossiping samples of the
 *   peers they know (itself included) with one random neighbour now and then.
 * - **Delivery.** Reliable messages go through a session per peer (`session.ts`) and survive a
 *   broken link; acknowledgements ride with other traffic.
 * - **Failures.** A link that breaks, or stays silent past `silentMs`, makes its peer a
 *   suspect: the peer is dialled again and a few neighbours are asked whether they still hear
 *   it (`probe`); one heard by none within `confirmMs` is declared lost, and the word spreads.
 *   A lost peer is never linked again; one that comes back is told so. The origin's heartbeat
 *   reaches every peer; a peer cut off from it leaves.
 *
 * What losing or linking a peer means for the work is the owner's business, told through
 * {@link LinkHooks}.
 *
 * @module
 */
import { AddressBook } from "./address-book.ts";
import type { Core } from "./context.ts";
import { type CoreMessage, type PeerAddrs, type PeerId, RELIABLE } from "./messages.ts";
import { Session } from "./session.ts";

/** Reliable messages received past which an acknowledgement goes without waiting. */
const ACK_EVERY = 64;
/**
 * Reliable messages received from which an acknowledgement rides with the next frame out. More
 * than one was measured slower in the simulator: the sender keeps more, and sends more again.
 */
const ACK_RIDE = 1;
/** Bytes of payload from which a message is acknowledged at once (see `#ackNow`). */
const LARGE_MESSAGE = 64 * 1024;
/** Links a peer passes the word of a lost peer to (see `declareLost`). */
const LOST_FANOUT = 4;
/** Neighbours asked whether they still hear a suspect. */
const PROBES = 3;
/** A peer that turned us away is not dialled again for membership for this long. */
const PRUNE_BACKOFF_MS = 10_000;
/** A peer found over mDNS is dialled again this long if it cannot be linked at once. */
const FOUND_RETRY_MS = 30_000;
/** A dial with no answer this long counts as failed. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A quiet peer heartbeats and gossips this many times more slowly (see `quiet`). */
const QUIET_SLOWER = 10;
/** A link is silent after this many of its peer's heartbeat intervals with nothing heard. */
const SILENT_BEATS = 3;
/**
 * How much of this peer's own recent lateness (see `Links.#lag`) every silence limit grows
 * by. A host short of CPU runs every peer late, the busiest (the origin, say) most: its
 * silence is not death, and a judge that is itself late is on such a host. A peer stopped
 * on an idle host is still found at the usual pace.
 */
const LAG_SLACK = 4;
/** Lateness of a tick up to this much is timer jitter or a pause for garbage, not a loaded host. */
const LAG_IGNORED_MS = 100;
/** What is left of the lateness remembered, per tick (about a tenth after 10 s). */
const LAG_DECAY = 0.95;

/** What a peer's links tell the rest of its state machine. */
export interface LinkHooks {
  /** A link to `id` is up for use: give it what it should have (constants, held results). */
  linked(id: PeerId, load: number): void;
  /** The link to `id` went away (the peer may be fine): forget its load, a steal in flight. */
  unlinked(id: PeerId): void;
  /** `id` closed its link on purpose: a steal asked of it will not be answered soon. */
  pruned(id: PeerId): void;
  /** `id` was declared lost: queue again what it held, drop what it owned. Returns the tasks
   * queued again. */
  lost(id: PeerId): number;
  /** `id` acknowledged the reliable messages numbered up to `delivered`. */
  delivered(id: PeerId, delivered: number): void;
  /** Whether the link to `id` carries unfinished work (it is not to be pruned). */
  busy(id: PeerId): boolean;
  /**
   * Whether this peer needs `id`: results wait for it, or it holds work of ours. Such a peer is
   * kept linked (dialled again when the link is gone), so that losing it is noticed.
   */
  needs(id: PeerId): boolean;
  /**
   * Whether this peer holds no work and awaits none: then nobody needs to notice quickly if it
   * goes, and it heartbeats and gossips peers at a tenth of the pace.
   */
  quiet(): boolean;
  /** Links changed: look for work. */
  pump(): void;
}

/** What this peer knows of a peer it is, was or wants to be linked to. */
interface PeerInfo {
  linked: boolean;
  origin: boolean;
  session: Session | undefined;
  /** Last time a message came from it, or went to it (for heartbeats). */
  heard: number;
  /** When a whole message from it last arrived (bytes alone may be old ones the kernel holds). */
  heardMessage: number;
  sent: number;
  /** Since when it is unreachable (its link broke); undefined while fine. */
  suspect: number | undefined;
  /** Why it became a suspect: "silent", or what broke its link. */
  why: string;
  /** Last time a neighbour said it still hears it, and when we last asked. */
  vouched: number;
  probed: number;
  /** When a dial to it was asked for, while no answer came. */
  connecting: number | undefined;
  /** When it turned us away (it has links enough). */
  pruned: number | undefined;
  /** When this side asked it to close the link (we have links enough); it closes it. */
  pruning: number | undefined;
  /** It asked this side to close the link that is up now (see `#closeIfPruned`). */
  closeAsked: boolean;
  /** Whether this side asked for the link (see `#fill`). */
  outbound: boolean;
  /** The peer sends something at least this often (it says so in its pings), in ms. */
  every: number;
}

/** The links of one peer (see the module doc). */
export class Links {
  readonly #c: Core;
  #hooks!: LinkHooks;
  /** Address book: every live peer heard of (not lost), with its addresses. */
  #known = new AddressBook();
  /** Peers found over mDNS and not linked yet, with when (see `discovered`). */
  #found = new Map<PeerId, { addrs: string[]; at: number }>();
  #peers = new Map<PeerId, PeerInfo>();
  /** The peers linked now (a view of `#peers`). */
  #linked = new Map<PeerId, PeerInfo>();
  #lost = new Set<PeerId>();
  /** The origin's id, once heard of (from its link, or gossiped). */
  #originId: PeerId | undefined;
  /** Links this side asked for. */
  #outCount = 0;
  #everLinked = false;
  #ackDue = new Set<PeerId>();
  /**
   * Peers owed many acknowledgements, or that sent a large message: acknowledged at the end of
   * the turn, so that they can let go of what they keep (a sender keeps what is unacknowledged).
   */
  #ackNow = new Set<PeerId>();
  /** Peers declared lost (or gone on purpose) this turn, by the link to tell (see `declareLost`). */
  #lostOut = new Map<PeerId, { lost: PeerId[]; left: PeerId[] }>();
  #lastShuffle = 0;
  #lastTick = 0;
  /** The period the next tick was armed for. */
  #tickEvery = 0;
  /**
   * How late this peer's ticks came of late, decaying (see LAG_SLACK); at most `silentMs` (a
   * tick later than that is this peer's own freeze, see `tick`).
   */
  #lag = 0;
  #lastSize = 1;
  /** The origin's last heartbeat heard (or sent, on the origin), when, and its pace. */
  #beat = 0;
  #beatAt = 0;
  #beatEvery = 0;
  /** The heartbeat interval this peer last announced in its pings. */
  #announced = 0;

  constructor(core: Core) {
    this.#c = core;
    if (core.origin) this.#originId = core.id;
  }

  /** Connect the links to the rest of the state machine. */
  attach(hooks: LinkHooks): void {
    this.#hooks = hooks;
  }

  /** Live peers this peer knows of, itself included. */
  get size(): number {
    return this.#known.size + 1;
  }

  /** The origin's id, once heard of (this peer's own on the origin). */
  get originId(): PeerId | undefined {
    return this.#originId;
  }

  /** Peers linked now (do not change the array: it is kept until links change). */
  get links(): readonly PeerId[] {
    return this.#linkIds ??= [...this.#linked.keys()];
  }

  #linkIds: PeerId[] | undefined;

  /** Whether `id` is linked now. */
  isLinked(id: PeerId): boolean {
    return this.#linked.has(id);
  }

  /** Whether there is a session with `id` (it was linked once and is not lost). */
  hasSession(id: PeerId): boolean {
    return this.#peers.get(id)?.session !== undefined;
  }

  /** The number of the last reliable message sent (or queued) to `id`. */
  sentCount(id: PeerId): number {
    return this.#peers.get(id)?.session?.sent ?? 0;
  }

  /** Whether `id` was declared lost. */
  isLost(id: PeerId): boolean {
    return this.#lost.has(id);
  }

  /** The linked peers with a session, in the order they were first met. */
  linkedInOrder(): PeerId[] {
    const out: PeerId[] = [];
    for (const [id, p] of this.#peers) if (p.linked && p.session !== undefined) out.push(id);
    return out;
  }

  /** For debugging: sessions with messages waiting, or with no link. */
  debug(): Record<string, unknown> {
    const sessions: Record<string, unknown> = {};
    for (const [id, p] of this.#peers) {
      if (p.session !== undefined && (p.session.pending > 0 || !p.linked)) {
        sessions[id] = { linked: p.linked, pending: p.session.pending, suspect: p.suspect };
      }
    }
    return { links: this.#linked.size, sessions };
  }

  // ---- sending ----

  /**
   * Send to a peer. Reliable messages go into its session, and out when a link is up (a dial
   * is asked for if none is); others go only on a link that is up. False when the message
   * cannot go at all: the peer is lost, or was never linked (no session) for a reliable one.
   */
  send(to: PeerId, message: CoreMessage, lazy = false): boolean {
    const p = this.#peers.get(to);
    if (p === undefined) return false;
    if (RELIABLE[message.t]) {
      if (p.session === undefined) return false;
      if (!p.session.send(message)) {
        if (!p.linked) this.connect(to, p);
        return true;
      }
    } else if (!p.linked) {
      return false;
    }
    this.#emit(to, p, message, lazy);
    return true;
  }

  /** Send `message` on every link (but `except`'s). */
  broadcast(message: CoreMessage, lazy = false, except?: PeerId): void {
    for (const [id, p] of this.#linked) if (id !== except) this.#emit(id, p, message, lazy);
  }

  #emit(to: PeerId, p: PeerInfo, message: CoreMessage, lazy: boolean): void {
    const c = this.#c;
    p.sent = c.now;
    c.stats.sent[message.t] = (c.stats.sent[message.t] ?? 0) + 1;
    c.out.push({ type: "send", to, message, lazy });
    // A frame leaves now anyway: what the peer is owed rides along once it adds up (see
    // `flushAcks`).
    const s = p.session;
    if (!lazy && s !== undefined && s.received - s.acked >= ACK_RIDE) this.#ack(to, p);
  }

  #ack(to: PeerId, p: PeerInfo): void {
    const s = p.session!;
    s.acked = s.received;
    const c = this.#c;
    c.stats.sent.ack = (c.stats.sent.ack ?? 0) + 1;
    c.out.push({ type: "send", to, message: { t: "ack", got: s.received }, lazy: true });
  }

  /** Whether this peer told its links it is quiet (see `LinkHooks.quiet`). */
  get quiet(): boolean {
    return this.#announced > this.#c.cfg.heartbeatMs;
  }

  /**
   * This peer has work again: tell its links at once that it heartbeats at full pace, and
   * tick at full pace from now on (its tick, armed for a quiet pace, would come seconds late:
   * a neighbour that hangs meanwhile would be found that much later).
   */
  wake(): void {
    const every = this.#c.cfg.heartbeatMs;
    this.#announced = every;
    for (const [id, p] of this.#linked) this.#emit(id, p, { t: "ping", every }, false);
    // (`#tickEvery` keeps the quiet pace until that tick: this early one is not a late one.)
    if (this.#tickEvery > this.#c.cfg.tickMs) this.#c.rearm("tick", this.#c.cfg.tickMs);
  }

  /** Send the word of the peers declared lost this turn. */
  flushLost(): void {
    if (this.#lostOut.size === 0) return;
    for (const [n, { lost, left }] of this.#lostOut) {
      const p = this.#linked.get(n);
      if (p === undefined) continue;
      this.#emit(
        n,
        p,
        left.length === 0 ? { t: "lost", peers: lost } : { t: "lost", peers: lost, left },
        false,
      );
    }
    this.#lostOut.clear();
  }

  /**
   * Acknowledge what arrived, without a frame of its own when that can wait: an ack rides
   * with the next frame to the peer (see `#emit`), goes at the end of the turn once ACK_EVERY
   * messages are owed or a large one came, and at the latest with the next tick (`all`).
   */
  flushAcks(all = false): void {
    const due = all ? this.#ackDue : this.#ackNow;
    if (due.size === 0) return;
    for (const id of due) {
      const p = this.#linked.get(id);
      if (p?.session?.owesAck) this.#ack(id, p);
      this.#ackDue.delete(id);
    }
    this.#ackNow.clear();
  }

  // ---- what arrives ----

  /**
   * A message arrived from `from`: false if it is to be ignored (the link is gone, or the
   * peer lost); otherwise it is counted, and the caller acts on it.
   */
  accept(from: PeerId, m: CoreMessage): boolean {
    const p = this.#peers.get(from);
    if (p === undefined || !p.linked || this.#lost.has(from)) return false;
    p.heard = this.#c.now;
    p.heardMessage = this.#c.now;
    if (RELIABLE[m.t]) {
      const s = p.session!;
      s.received++;
      this.#ackDue.add(from);
      if (s.received - s.acked >= ACK_EVERY || largeMessage(m)) this.#ackNow.add(from);
      this.#c.arm("flush", 0);
    }
    return true;
  }

  /** Bytes came from these peers (a large frame on its way): they are alive. */
  heard(peers: readonly PeerId[]): void {
    for (const id of peers) {
      const p = this.#linked.get(id);
      if (p !== undefined) p.heard = this.#c.now;
    }
  }

  /** A message of the links' own (sessions, membership, failures) from `from`. */
  onMessage(from: PeerId, m: CoreMessage): void {
    const c = this.#c;
    const p = this.#peers.get(from)!;
    switch (m.t) {
      case "resume":
        for (const msg of p.session!.resume(m.got)) this.#emit(from, p, msg, false);
        this.#hooks.delivered(from, p.session!.delivered);
        this.#closeIfPruned(from, p);
        break;
      case "ack":
        p.session!.ack(m.got);
        this.#hooks.delivered(from, p.session!.delivered);
        this.#closeIfPruned(from, p);
        break;
      case "peers":
        this.#originId ??= m.origin;
        this.#learn(m.peers);
        if (!m.reply) this.#emit(from, p, this.#peersMessage(from, true), true);
        this.#fill();
        break;
      case "prune":
        // The peer has links enough: this side closes the link, once what it must deliver
        // there has arrived (see `#closeIfPruned`).
        p.pruned = c.now;
        p.closeAsked = true;
        this.#hooks.pruned(from);
        this.#closeIfPruned(from, p);
        break;
      case "probe": {
        const q = this.#peers.get(m.peer);
        // Only a message vouches: bytes still arriving may be what a stopped process's kernel
        // had buffered before it stopped.
        if (q?.linked && c.now - q.heardMessage < c.cfg.heartbeatMs * 2) {
          this.#emit(from, p, { t: "vouch", peer: m.peer }, false);
        }
        break;
      }
      case "vouch": {
        const q = this.#peers.get(m.peer);
        if (q?.suspect !== undefined) q.vouched = c.now;
        break;
      }
      case "beat":
        if (m.n <= this.#beat) break;
        this.#beat = m.n;
        this.#beatAt = c.now;
        this.#beatEvery = m.every ?? 0;
        this.broadcast(m, false, from);
        break;
      case "ping":
        if (m.every !== undefined) p.every = m.every;
        break;
      case "lost":
        for (const id of m.peers) {
          if (id === c.id) {
            c.leave(
              false,
              "the grid declared this peer lost (it was unreachable); its work runs elsewhere",
            );
            return;
          }
          this.declareLost(id, "", from);
          if (c.left) return;
        }
        for (const id of m.left ?? []) {
          this.declareLost(id, "", from, true);
          if (c.left) return;
        }
        break;
      case "bye":
        this.declareLost(from, "", undefined, true);
        break;
      default:
        break;
    }
  }

  // ---- links up and down ----

  #peer(id: PeerId): PeerInfo {
    let p = this.#peers.get(id);
    if (p === undefined) {
      const now = this.#c.now;
      p = {
        linked: false,
        origin: false,
        session: undefined,
        heard: now,
        heardMessage: now,
        sent: now,
        suspect: undefined,
        why: "",
        vouched: 0,
        probed: 0,
        connecting: undefined,
        pruned: undefined,
        pruning: undefined,
        closeAsked: false,
        outbound: false,
        every: this.#c.cfg.heartbeatMs,
      };
      this.#peers.set(id, p);
    }
    return p;
  }

  /** Ask for a link to `id`, unless one is up or being made, or it is lost. */
  connect(id: PeerId, p = this.#peer(id)): void {
    const c = this.#c;
    if (p.linked || this.#lost.has(id) || id === c.id) return;
    if (p.connecting !== undefined && c.now - p.connecting < CONNECT_TIMEOUT_MS) return;
    p.connecting = c.now;
    const addrs = this.#known.has(id) ? this.#known.get(id) : this.#found.get(id)?.addrs ?? [];
    c.out.push({ type: "connect", peer: id, addrs });
  }

  linkUp(id: PeerId, origin: boolean, addrs: string[], load: number): void {
    const c = this.#c;
    if (this.#lost.has(id)) {
      // A peer declared lost that comes back is told so, and not linked again.
      c.out.push({ type: "send", to: id, message: { t: "lost", peers: [id] }, lazy: false });
      c.out.push({ type: "disconnect", peer: id });
      return;
    }
    const p = this.#peer(id);
    if (p.linked) return;
    p.linked = true;
    this.#linked.set(id, p);
    this.#linkIds = undefined;
    c.stats.maxLinks = Math.max(c.stats.maxLinks, this.#linked.size);
    p.outbound = p.connecting !== undefined;
    if (p.outbound) this.#outCount++;
    p.origin = origin;
    if (origin) this.#originId = id;
    p.heard = c.now;
    p.heardMessage = c.now;
    p.suspect = undefined;
    p.connecting = undefined;
    this.#everLinked = true;
    this.#found.delete(id);
    if (this.#known.add(id, addrs)) this.#joined(id, addrs);
    const s = p.session ??= new Session();
    // First on every link: how much of the peer's traffic arrived, so it sends the rest; and,
    // when quiet, the slow pace of this side's heartbeats (or it would be taken for silent).
    this.#emit(id, p, { t: "resume", got: s.received }, false);
    if (this.quiet) this.#emit(id, p, { t: "ping", every: this.#announced }, false);
    s.linkUp();
    // A peer met before may have work or results on their way here: only strangers are
    // turned away (`#pruneOne` closes idle links later if there are too many).
    const stranger = s.sent === 0 && s.received === 0;
    if (!p.outbound && this.#linked.size - this.#pruning() > c.cfg.maxDegree && stranger) {
      // Links enough: point the newcomer at others, and close this one.
      this.#emit(id, p, this.#peersMessage(id, true), false);
      this.#prune(id, p);
      this.#sizeChanged();
      return;
    }
    this.#emit(id, p, this.#peersMessage(id, true), true);
    this.#hooks.linked(id, load);
    this.#sizeChanged();
    if (load > 0) this.#hooks.pump();
  }

  /**
   * Ask `id` to close the link (this side has links enough). The peer closes it once what it
   * must deliver here has arrived, so a peer that dialled in to bring results is never turned
   * away empty-handed; one that does not close within CONNECT_TIMEOUT_MS is closed on.
   */
  #prune(id: PeerId, p: PeerInfo): void {
    this.#emit(id, p, { t: "prune" }, false);
    p.pruning = this.#c.now;
  }

  /** Close a link the peer asked us to, once nothing we must deliver there waits. */
  #closeIfPruned(id: PeerId, p: PeerInfo): void {
    if (!p.closeAsked || !p.linked || p.session?.urgent) return;
    this.#c.out.push({ type: "disconnect", peer: id });
    this.#unlink(id, p);
  }

  #unlink(id: PeerId, p: PeerInfo): void {
    if (p.linked) {
      this.#linked.delete(id);
      this.#linkIds = undefined;
      if (p.outbound) this.#outCount--;
    }
    p.linked = false;
    p.outbound = false;
    p.connecting = undefined;
    p.pruning = undefined;
    p.closeAsked = false;
    p.session?.linkDown();
    this.#ackDue.delete(id);
    this.#hooks.unlinked(id);
  }

  linkDown(id: PeerId, reason?: string): void {
    const p = this.#peers.get(id);
    if (p === undefined || this.#lost.has(id)) return;
    const wasLinked = p.linked;
    const asked = p.pruning !== undefined;
    this.#unlink(id, p);
    if (asked) return; // it closed the link this side asked it to close
    if (!wasLinked) {
      // A dial that failed: a suspect stays one (the tick decides). One we need (it holds work
      // of ours) becomes one: if it is gone, we must find out; others are retried when
      // something waits for them.
      if (p.suspect === undefined && this.#hooks.needs(id)) {
        this.#suspect(id, p, reason ?? "cannot link to it");
      }
      return;
    }
    if (p.pruned !== undefined && this.#c.now - p.pruned < PRUNE_BACKOFF_MS) {
      if (p.session?.urgent) this.connect(id, p);
      this.#hooks.pump();
      return;
    }
    this.#suspect(id, p, reason ?? "its link closed");
    this.#hooks.pump();
  }

  /** `id` became unreachable: try to link again, and ask neighbours whether they hear it. */
  #suspect(id: PeerId, p: PeerInfo, why: string): void {
    if (p.suspect === undefined) {
      p.suspect = this.#c.now;
      p.why = why;
      this.#c.log(
        "debug",
        `peer ${id} unreachable (${
          why === "silent" ? `silent for ${this.#c.now - p.heard} ms` : why
        })`,
      );
    }
    this.#probe(id, p);
    this.connect(id, p);
  }

  #probe(id: PeerId, p: PeerInfo): void {
    p.probed = this.#c.now;
    const asked = this.#c.pick(this.links.filter((n) => n !== id), PROBES);
    for (const n of asked) this.#emit(n, this.#peers.get(n)!, { t: "probe", peer: id }, false);
  }

  /**
   * Declare `id` lost (or gone, when it `left` on purpose): what it held runs again, what it
   * owned is dropped, nobody links to it again, and the word spreads.
   * @param why what this peer found (empty when told)
   * @param from the peer that told us (we pass the word to a few links); none when this peer
   *   found it out itself (it tells every link)
   */
  declareLost(id: PeerId, why: string, from?: PeerId, left = false): void {
    const c = this.#c;
    if (id === c.id || this.#lost.has(id)) return;
    this.#lost.add(id);
    this.#known.delete(id);
    const p = this.#peers.get(id);
    if (p !== undefined) {
      if (p.linked) c.out.push({ type: "disconnect", peer: id });
      this.#unlink(id, p);
      this.#peers.delete(id);
    }
    if (id === this.#originId) {
      const how = left ? "left" : `was lost (${why || `the word from ${from}`})`;
      c.log("error", `the origin ${id} ${how}: the job cannot go on`);
      c.leave(false, `the origin ${id} left the grid`);
      return;
    }
    const requeued = this.#hooks.lost(id);
    const size = this.size;
    c.out.push({
      type: "member",
      change: left
        ? { kind: "left", peer: id, size, requeued }
        : from === undefined
        ? { kind: "lost", peer: id, size, requeued, why }
        : { kind: "lost", peer: id, size, requeued, why, from },
    });
    // Whoever found it out tells every link (among them, most of the lost peer's other
    // neighbours: the peers that gave it work); the word then spreads as a rumour, each peer
    // passing it to a few links, which reaches a grid of any size in a few hops without a
    // flood's N × degree messages. Peers that miss it still learn it when they try to link.
    // The words of one turn go together, one message per link.
    const to = from === undefined
      ? [...this.#linked.keys()]
      : c.pick(this.links.filter((n) => n !== from), LOST_FANOUT);
    for (const n of to) {
      let l = this.#lostOut.get(n);
      if (l === undefined) this.#lostOut.set(n, l = { lost: [], left: [] });
      (left ? l.left : l.lost).push(id);
    }
    if (to.length > 0) c.arm("flush", 0);
    this.#sizeChanged();
    this.#hooks.pump();
  }

  /** A peer this one had not heard of (linked, or gossiped to it). */
  #joined(id: PeerId, addrs: string[]): void {
    this.#c.out.push({
      type: "member",
      change: { kind: "joined", peer: id, addrs, size: this.size },
    });
  }

  #sizeChanged(): void {
    const n = this.size;
    if (n === this.#lastSize) return;
    this.#lastSize = n;
    this.#c.post({ t: "size", n });
    this.#c.out.push({ type: "size", n });
  }

  // ---- membership ----

  /**
   * mDNS found `id` on the LAN: link to it if this peer wants links. It counts in the grid's
   * size only once linked (or gossiped by a linked peer): a peer merely seen may be a job's
   * origin about to leave, and a job must not start counting on it.
   */
  discovered(id: PeerId, addrs: string[]): void {
    if (id === this.#c.id || this.#lost.has(id) || this.#known.has(id)) return;
    if (this.#outWanted() <= 0) return;
    this.#found.set(id, { addrs, at: this.#c.now });
    this.connect(id);
  }

  /**
   * Dial again the peers found over mDNS that are not linked yet (a dial can fail while the
   * peer starts, and mDNS tells of a peer once), for FOUND_RETRY_MS after it was found.
   */
  #retryFound(): void {
    for (const [id, f] of this.#found) {
      if (this.#c.now - f.at > FOUND_RETRY_MS || this.#lost.has(id)) this.#found.delete(id);
      else this.connect(id);
    }
  }

  /** Remember peers gossiped to us. */
  #learn(peers: PeerAddrs[]): void {
    let added = false;
    for (const [id, addrs] of peers) {
      if (id === this.#c.id || this.#lost.has(id)) continue;
      if (this.#known.add(id, addrs)) {
        added = true;
        this.#joined(id, addrs);
      }
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
    const c = this.#c;
    return [[c.id, c.addrs], ...this.#known.sample(c.cfg.sampleSize, c.random, to)];
  }

  /** Links this side still means to ask for (half of `degree` in all). */
  #outWanted(): number {
    return Math.ceil(this.#c.cfg.degree / 2) - this.#outCount;
  }

  /** Dial known peers until this side has asked for half of `degree` links. */
  #fill(): void {
    const c = this.#c;
    let want = this.#outWanted();
    if (want <= 0) return;
    for (const p of this.#peers.values()) {
      if (p.connecting !== undefined && c.now - p.connecting < CONNECT_TIMEOUT_MS) want--;
    }
    if (want <= 0) return;
    const eligible = (id: PeerId) => {
      const p = this.#peers.get(id);
      if (p === undefined) return true;
      if (p.linked || p.suspect !== undefined || p.connecting !== undefined) return false;
      return p.pruned === undefined || c.now - p.pruned >= PRUNE_BACKOFF_MS;
    };
    for (const id of this.#known.pick(want, c.random, eligible)) this.connect(id);
  }

  /** The periodic tick: heartbeats, silent links, suspects, links wanted, gossip. */
  tick(): void {
    const c = this.#c;
    const now = c.now;
    const { silentMs, heartbeatMs, confirmMs } = c.cfg;
    // A tick this late means this peer itself was frozen (a long pause, a stopped process):
    // the silence it would see is its own, so it judges nobody by it this time.
    const overdue = this.#lastTick > 0 ? now - this.#lastTick - this.#tickEvery : 0;
    const late = overdue > silentMs / 2;
    this.#lastTick = now;
    const lateBy = Math.min(Math.max(0, overdue - LAG_IGNORED_MS), silentMs);
    this.#lag = Math.max(lateBy, this.#lag * LAG_DECAY);
    const slack = LAG_SLACK * this.#lag;
    this.flushAcks(true);
    // A quiet peer heartbeats slowly, and says so first (the others judge silence by it).
    const quiet = this.#hooks.quiet();
    const every = quiet ? heartbeatMs * QUIET_SLOWER : heartbeatMs;
    const announce = every !== this.#announced;
    this.#announced = every;
    const lost: PeerId[] = [];
    for (const [id, p] of this.#peers) {
      if (p.linked) {
        if (late) p.heard = Math.max(p.heard, now - heartbeatMs);
        if (p.pruning !== undefined && now - p.pruning >= CONNECT_TIMEOUT_MS) {
          c.out.push({ type: "disconnect", peer: id }); // asked to close it, and did not
          this.#unlink(id, p);
        } else if (now - p.heard >= Math.max(silentMs, p.every * SILENT_BEATS) + slack) {
          c.out.push({ type: "disconnect", peer: id });
          this.#unlink(id, p);
          this.#suspect(id, p, "silent");
        } else if (announce || now - p.sent >= every) {
          this.#emit(id, p, { t: "ping", every }, false);
        }
      } else if (p.suspect !== undefined) {
        if (late) p.probed = Math.max(p.probed, now - confirmMs / 2);
        if (now - p.probed < confirmMs + slack) continue;
        if (p.vouched >= p.probed) {
          // Others still hear it: keep trying, and ask again.
          this.#probe(id, p);
          this.connect(id, p);
        } else {
          lost.push(id);
        }
      } else if (p.session?.urgent || this.#hooks.needs(id)) {
        this.connect(id, p);
      }
    }
    for (const id of lost) {
      const p = this.#peers.get(id)!;
      const why = p.why === "silent"
        ? `silent ${seconds(now - p.heard)} s`
        : `${p.why}, unreachable ${seconds(now - p.suspect!)} s`;
      this.declareLost(id, why);
      if (c.left) return;
    }
    if (this.#linked.size - this.#pruning() > c.cfg.maxDegree) this.#pruneOne();
    this.#fill();
    this.#retryFound();
    const shuffleMs = quiet ? c.cfg.shuffleMs * QUIET_SLOWER : c.cfg.shuffleMs;
    if (now - this.#lastShuffle >= shuffleMs && this.#linked.size > 0) {
      this.#lastShuffle = now;
      const [to] = c.pick(this.links, 1);
      this.#emit(to, this.#peers.get(to)!, this.#peersMessage(to, false), true);
    }
    if (!c.origin && this.#everLinked && this.#linked.size === 0 && !this.#anyHope()) {
      c.leave(false, "lost its links to every peer of the grid");
      return;
    }
    this.#heartbeat(late, quiet, slack);
    if (c.left) return;
    // (A quiet tick need not keep up with heartbeats of five seconds: every two will do.)
    this.#tickEvery = quiet ? c.cfg.tickMs * 8 : c.cfg.tickMs;
    c.arm("tick", this.#tickEvery);
  }

  /**
   * The origin's heartbeat: the origin sends one every `beatMs` (2.5 times that while quiet;
   * each says its pace) and every peer passes each new one to its other links, so it reaches the whole grid however far from
   * the origin. A peer that hears none for `originSilentMs` (or three beats) is cut off from
   * the job (its part of the grid lost every way to the origin), and leaves; its work runs
   * again on the origin's side.
   */
  #heartbeat(late: boolean, quiet: boolean, slack: number): void {
    const c = this.#c;
    const now = c.now;
    if (c.origin) {
      // Quiet, it beats at 2.5 times the interval, not 10: a part of the grid cut off must
      // still find out within seconds (three beats).
      const every = quiet ? c.cfg.beatMs * 2.5 : c.cfg.beatMs;
      if (now - this.#beatAt < every && every === this.#beatEvery) return;
      this.#beat++;
      this.#beatAt = now;
      this.#beatEvery = every;
      this.broadcast({ t: "beat", n: this.#beat, every });
      return;
    }
    // Peers waiting for a job (found over mDNS before any origin) have no origin to miss.
    if (!this.#everLinked || (this.#beat === 0 && this.#originId === undefined)) return;
    if (this.#beatAt === 0 || late) this.#beatAt = Math.max(this.#beatAt, now - c.cfg.beatMs);
    const limit = Math.max(c.cfg.originSilentMs, this.#beatEvery * SILENT_BEATS) + slack;
    if (now - this.#beatAt >= limit) {
      c.leave(
        false,
        `no word from the origin for ${Math.round(now - this.#beatAt)} ms: this peer is cut off ` +
          "from the job",
      );
    }
  }

  /** Links this side asked the peer to close, not closed yet. */
  #pruning(): number {
    let n = 0;
    for (const p of this.#linked.values()) if (p.pruning !== undefined) n++;
    return n;
  }

  /** Whether a link may still come: a dial in flight, or a suspect not yet decided. */
  #anyHope(): boolean {
    for (const p of this.#peers.values()) {
      if (p.connecting !== undefined || p.suspect !== undefined) return true;
    }
    return false;
  }

  /** Close one link that carries nothing unfinished (over `maxDegree`). */
  #pruneOne(): void {
    for (const id of this.#c.pick(this.links, this.#linked.size)) {
      const p = this.#peers.get(id)!;
      if (p.pruning !== undefined || p.origin || p.session?.urgent || this.#hooks.busy(id)) {
        continue;
      }
      this.#prune(id, p);
      return;
    }
  }
}

/** `ms` in seconds, with one decimal. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** Whether `m` carries a large payload (acknowledged at once, see `Links.accept`). */
function largeMessage(m: CoreMessage): boolean {
  switch (m.t) {
    case "tasks": {
      let n = 0;
      for (const b of m.blocks) n += b.data.byteLength;
      return n >= LARGE_MESSAGE;
    }
    case "results":
    case "relay":
      return m.r.data.byteLength >= LARGE_MESSAGE;
    case "const":
      return m.entries.some(([, v]) => v.byteLength >= LARGE_MESSAGE);
    default:
      return false;
  }
}
