/**
 * A session: reliable, ordered delivery of messages to one peer over links that may break and
 * form again. Within one link the transport is reliable and ordered (TCP); only a link that
 * breaks loses what was in flight. So both sides count the reliable messages (see
 * `messages.ts`) they receive, acknowledge the count now and then, and keep what they sent
 * until it is acknowledged; on a new link each side first says how many it has received
 * (`resume`), and the other sends again what came after. A session ends only when its peer is
 * lost or leaves.
 *
 * @module
 */
import type { CoreMessage } from "./messages.ts";

/** Reliable delivery to one peer (see the module doc). */
export class Session {
  /** Reliable messages sent or queued, not acknowledged, oldest first. */
  #unacked: CoreMessage[] = [];
  /** How many reliable messages the peer has acknowledged (the index of `#unacked[0]`). */
  #base = 0;
  /** Whether messages go out as they are sent (a link is up and in step). */
  #ready = false;
  /** Reliable messages received from the peer. */
  received = 0;
  /** The count last acknowledged to the peer. */
  acked = 0;

  /** Reliable messages ever sent (or queued): the number of the last one. */
  get sent(): number {
    return this.#base + this.#unacked.length;
  }

  /** Reliable messages the peer has acknowledged: those numbered up to this arrived. */
  get delivered(): number {
    return this.#base;
  }

  /** Reliable messages not acknowledged (sent or waiting for a link). */
  get pending(): number {
    return this.#unacked.length;
  }

  /**
   * Whether anything unacknowledged needs the peer: every message but a steal request (which
   * only asks, and is answered whenever a link forms again).
   */
  get urgent(): boolean {
    for (const m of this.#unacked) if (m.t !== "steal") return true;
    return false;
  }

  /** Whether the peer is owed an acknowledgement. */
  get owesAck(): boolean {
    return this.received > this.acked;
  }

  /**
   * Record a reliable message to the peer: returns true when it should go out now, false when
   * it waits for a link (it goes out with {@link resume}).
   */
  send(message: CoreMessage): boolean {
    this.#unacked.push(message);
    return this.#ready;
  }

  /**
   * A new link is up: returns whether messages may go out at once. They may when nothing is
   * unacknowledged (whatever was sent arrived); otherwise the peer's `resume` decides what to
   * send again.
   */
  linkUp(): boolean {
    this.#ready = this.#unacked.length === 0;
    return this.#ready;
  }

  /** The link broke: messages wait for the next one. */
  linkDown(): void {
    this.#ready = false;
  }

  /** The peer acknowledged `got` messages: forget those. */
  ack(got: number): void {
    const n = got - this.#base;
    if (n <= 0) return;
    if (n >= this.#unacked.length) this.#unacked = [];
    else this.#unacked.splice(0, n);
    this.#base += n;
  }

  /**
   * The peer's `resume` on a new link: forget what it has, and return what to send now (every
   * message it lacks, in order) unless they already went out on this link.
   */
  resume(got: number): CoreMessage[] {
    this.ack(got);
    if (this.#ready) return [];
    this.#ready = true;
    return this.#unacked.slice();
  }
}
