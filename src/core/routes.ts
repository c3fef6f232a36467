/**
 * Where a peer's finished tasks' results go. A result goes straight to its owner when linked
 * to it (or when the owner is the peer the task came from); otherwise back the way the task
 * came (`relay`: that peer keeps the task, `custody.ts`, and passes the result on the same
 * way); otherwise it is held, a link to the owner asked for, and sent once one is up. It is
 * dropped only when the owner is lost.
 *
 * A runner linked to the owner tells the peer the task came from that it finished (`done`),
 * but only once the owner has acknowledged the result: a runner lost before that leaves the
 * task kept there, to run again. Everything routed in one turn leaves at its end, one message
 * per peer and kind, but relays: a peer passing results back for others sends each peer at
 * most one relay message per `RELAY_MS` (the first at once), however many results its takers
 * send it. Without that, every hop of a long way back costs a message per result, and a
 * grid's messages per peer grow with its diameter.
 *
 * @module
 */
import { payloadOf, ResultBuilder } from "../results/batch.ts";
import type { Core } from "./context.ts";
import type { Links } from "./links.ts";
import type { PeerId } from "./messages.ts";

/**
 * A relay to a peer within this many ms of the last waits for this long after it, and leaves
 * with whatever arrived meanwhile.
 */
export const RELAY_MS = 2;

/** A result waiting for a way to its owner. */
interface Held {
  seq: number;
  ok: 0 | 1;
  payload: Uint8Array;
  via: PeerId | undefined;
}

/** A done notice: `via` gave this peer task `seq` of `owner`. */
type Notice = [via: PeerId, owner: PeerId, seq: number];

/** Results and notices on their way out of one peer (see the module doc). */
export class Routes {
  readonly #c: Core;
  readonly #links: Links;
  #results = new Map<PeerId, ResultBuilder>();
  /** Relays not sent yet, by the peer they go to, then by owner. */
  #relays = new Map<PeerId, Map<PeerId, ResultBuilder>>();
  /** When a relay was last sent to each peer. */
  #relayAt = new Map<PeerId, number>();
  /** Whether a relay was routed since the last flush. */
  #relayNew = false;
  #done = new Map<PeerId, Map<PeerId, number[]>>();
  /** Done notices to send once the owner has the results sent to it this turn. */
  #doneAfter = new Map<PeerId, Notice[]>();
  /** By owner: done notices waiting for the owner to acknowledge results message `at`. */
  #awaiting = new Map<PeerId, { at: number; notices: Notice[] }[]>();
  #started = new Map<PeerId, number[]>();
  #held = new Map<PeerId, Held[]>();

  constructor(core: Core, links: Links) {
    this.#c = core;
    this.#links = links;
  }

  /** Results held for a route. */
  get held(): number {
    let n = 0;
    for (const h of this.#held.values()) n += h.length;
    return n;
  }

  /** Whether results wait for a link to `id`. */
  awaits(id: PeerId): boolean {
    return this.#held.has(id);
  }

  /** For debugging: results held, by owner. */
  debug(): [PeerId, number][] {
    return [...this.#held].map(([o, h]) => [o, h.length]);
  }

  /** Send a result of `owner`'s task, which came from `via`, on its way (see the module doc). */
  result(owner: PeerId, via: PeerId | undefined, seq: number, ok: 0 | 1, payload: Uint8Array) {
    const links = this.#links;
    if (links.isLost(owner)) return; // nobody awaits it any more
    if (via === owner || links.isLinked(owner)) {
      let b = this.#results.get(owner);
      if (b === undefined) this.#results.set(owner, b = new ResultBuilder());
      b.add(seq, ok, payload);
      if (via !== undefined && via !== owner) {
        let l = this.#doneAfter.get(owner);
        if (l === undefined) this.#doneAfter.set(owner, l = []);
        l.push([via, owner, seq]);
      }
      return;
    }
    if (via !== undefined && links.hasSession(via)) {
      let byOwner = this.#relays.get(via);
      if (byOwner === undefined) this.#relays.set(via, byOwner = new Map());
      let b = byOwner.get(owner);
      if (b === undefined) byOwner.set(owner, b = new ResultBuilder());
      b.add(seq, ok, payload);
      this.#relayNew = true;
      return;
    }
    let h = this.#held.get(owner);
    if (h === undefined) this.#held.set(owner, h = []);
    h.push({ seq, ok, payload, via });
    this.#c.stats.held++;
    links.connect(owner);
  }

  /** Tell `to` that task `seq` of `owner`, which it gave this peer, finished. */
  done(to: PeerId, owner: PeerId, seq: number): void {
    if (this.#links.isLost(to)) return;
    let byOwner = this.#done.get(to);
    if (byOwner === undefined) this.#done.set(to, byOwner = new Map());
    let l = byOwner.get(owner);
    if (l === undefined) byOwner.set(owner, l = []);
    l.push(seq);
  }

  /** Tell `owner` that these tasks of its started here. */
  started(owner: PeerId, seqs: ArrayLike<number>): void {
    let s = this.#started.get(owner);
    if (s === undefined) this.#started.set(owner, s = []);
    for (let i = 0; i < seqs.length; i++) s.push(seqs[i]);
  }

  /** Whether anything waits to be sent at the end of the turn. */
  get pending(): boolean {
    return this.#results.size > 0 || this.#relayNew || this.#done.size > 0 ||
      this.#started.size > 0;
  }

  /**
   * Send what this turn routed: results, relays, done notices, started notices.
   * @param lazyResults results may wait for other messages to leave with (more follow soon)
   */
  flush(lazyResults: boolean): void {
    const links = this.#links;
    if (this.#results.size > 0) {
      for (const [owner, b] of this.#results) {
        links.send(owner, { t: "results", r: b.finish(true) }, lazyResults);
        const notices = this.#doneAfter.get(owner);
        if (notices === undefined) continue;
        let a = this.#awaiting.get(owner);
        if (a === undefined) this.#awaiting.set(owner, a = []);
        a.push({ at: links.sentCount(owner), notices });
      }
      this.#results.clear();
      this.#doneAfter.clear();
    }
    this.#relayNew = false;
    if (this.#relays.size > 0) {
      const now = this.#c.now;
      let wait = Infinity;
      for (const [via, byOwner] of this.#relays) {
        const due = (this.#relayAt.get(via) ?? -Infinity) + RELAY_MS;
        if (due > now) {
          wait = Math.min(wait, due - now);
          continue;
        }
        this.#relayAt.set(via, now);
        this.#relays.delete(via);
        for (const [owner, b] of byOwner) {
          this.#c.stats.relayed += b.length;
          links.send(via, { t: "relay", owner, r: b.finish(true) });
        }
      }
      if (wait < Infinity) this.#c.arm("relay", wait);
    }
    if (this.#done.size > 0) {
      for (const [to, byOwner] of this.#done) {
        for (const [owner, seqs] of byOwner) links.send(to, { t: "done", owner, seqs }, true);
      }
      this.#done.clear();
    }
    if (this.#started.size > 0) {
      for (const [owner, seqs] of this.#started) links.send(owner, { t: "started", seqs }, true);
      this.#started.clear();
    }
  }

  /** `owner` acknowledged messages up to `got`: the done notices that waited for them go. */
  delivered(owner: PeerId, got: number): void {
    const a = this.#awaiting.get(owner);
    if (a === undefined) return;
    while (a.length > 0 && a[0].at <= got) {
      for (const [via, o, seq] of a.shift()!.notices) this.done(via, o, seq);
    }
    if (a.length === 0) this.#awaiting.delete(owner);
  }

  /** A link to `id` is up: send what was held for it (as owner, or as the way back). */
  linked(id: PeerId): void {
    const own = this.#held.get(id);
    if (own !== undefined) {
      this.#held.delete(id);
      for (const e of own) this.result(id, e.via, e.seq, e.ok, e.payload);
    }
    for (const [owner, h] of this.#held) {
      if (!h.some((e) => e.via === id)) continue;
      const keep = h.filter((e) => e.via !== id);
      if (keep.length > 0) this.#held.set(owner, keep);
      else this.#held.delete(owner);
      for (const e of h) if (e.via === id) this.result(owner, e.via, e.seq, e.ok, e.payload);
    }
  }

  /**
   * `id` was lost: what was held for it is dropped; what would have gone back through it now
   * waits for a link to its owner.
   */
  lost(id: PeerId): void {
    this.#held.delete(id);
    this.#awaiting.delete(id);
    this.#relayAt.delete(id);
    for (const byOwner of this.#relays.values()) byOwner.delete(id);
    const relays = this.#relays.get(id);
    if (relays !== undefined) {
      // Results that waited to go back through `id` go another way now.
      this.#relays.delete(id);
      for (const [owner, b] of relays) {
        const r = b.finish();
        for (let i = 0; i < r.keys.length; i++) {
          this.result(owner, undefined, r.keys[i], r.oks[i] as 0 | 1, payloadOf(r, i));
        }
      }
    }
    for (const [owner, h] of this.#held) {
      for (const e of h) if (e.via === id) e.via = undefined;
      this.#links.connect(owner);
    }
  }
}
