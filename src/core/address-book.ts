/**
 * The peers a peer knows of, with the addresses they can be dialled at: every live peer heard
 * of, from its own link or from gossip. It answers random samples in time independent of its
 * size (an array of ids beside the map), which a thousand-peer grid asks for on every tick.
 *
 * @module
 */
import type { PeerAddrs, PeerId } from "./messages.ts";

/** Known peers and their addresses (see the module doc). */
export class AddressBook {
  #addrs = new Map<PeerId, { addrs: string[]; at: number }>();
  #ids: PeerId[] = [];

  get size(): number {
    return this.#ids.length;
  }

  has(id: PeerId): boolean {
    return this.#addrs.has(id);
  }

  /** The addresses of `id` (empty when unknown or never told). */
  get(id: PeerId): string[] {
    return this.#addrs.get(id)?.addrs ?? [];
  }

  /** Remember `id`; addresses replace the ones known unless empty. Returns whether it is new. */
  add(id: PeerId, addrs: string[]): boolean {
    const e = this.#addrs.get(id);
    if (e !== undefined) {
      if (addrs.length > 0) e.addrs = addrs;
      return false;
    }
    this.#addrs.set(id, { addrs, at: this.#ids.length });
    this.#ids.push(id);
    return true;
  }

  /** Forget `id` (it was lost). */
  delete(id: PeerId): void {
    const e = this.#addrs.get(id);
    if (e === undefined) return;
    this.#addrs.delete(id);
    const last = this.#ids.pop()!;
    if (last !== id) {
      this.#ids[e.at] = last;
      this.#addrs.get(last)!.at = e.at;
    }
  }

  /** Every known id (a copy). */
  ids(): PeerId[] {
    return this.#ids.slice();
  }

  /**
   * Up to `n` distinct known peers at random, none of them `except` and each passing `keep`;
   * at most `tries` draws (so its cost does not grow with the book).
   */
  pick(
    n: number,
    random: () => number,
    keep: (id: PeerId) => boolean = () => true,
    tries = n * 4,
  ): PeerId[] {
    const ids = this.#ids;
    if (ids.length <= tries) {
      // Small book: shuffle the eligible ones (exact, no repeats).
      const ok = ids.filter(keep);
      for (let i = 0; i < Math.min(n, ok.length); i++) {
        const j = i + Math.floor(random() * (ok.length - i));
        [ok[i], ok[j]] = [ok[j], ok[i]];
      }
      return ok.slice(0, n);
    }
    const out = new Set<PeerId>();
    for (let t = 0; t < tries && out.size < n; t++) {
      const id = ids[Math.floor(random() * ids.length)];
      if (!out.has(id) && keep(id)) out.add(id);
    }
    return [...out];
  }

  /** Up to `n` known peers with their addresses, at random, for gossip. */
  sample(n: number, random: () => number, except: PeerId): PeerAddrs[] {
    return this.pick(n, random, (id) => id !== except).map((id) => [id, this.get(id)]);
  }
}
