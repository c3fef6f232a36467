/**
 * Custody of tasks a peer passed on without owning them. A task travels from its owner to a
 * thief, which may be robbed in turn: each peer on the way that gives a task away keeps it
 * here, with the peer it came from (`via`), until the taker reports it finished (a `done`, or
 * the result itself relayed back). If the taker is lost, its tasks are queued again here, so
 * nothing it held is lost however far it travelled; the owner's own lending is kept by the
 * result table (`results/table.ts`), which this mirrors for tasks owned elsewhere.
 *
 * Only tasks that moved twice or more are kept here, so a grid of two peers never uses it.
 *
 * @module
 */
import { BlockBuilder, type TaskBlock } from "../scheduler/block.ts";
import type { PeerId } from "./messages.ts";

/** One task given away: where it is in the block kept, and whom it came from. */
export interface CustodyEntry {
  block: TaskBlock;
  i: number;
  via: PeerId | undefined;
  /**
   * An earlier giving of the same task to the same taker. A task can come round again (stolen
   * along a cycle of peers) and be given to the same taker twice; its result comes back along
   * the same way reversed, so the latest giving is answered first.
   */
  older: CustodyEntry | undefined;
}

/** Entries of one taker: by owner, then seq. */
type ByTask = Map<PeerId, Map<number, CustodyEntry>>;

/** Tasks given to thieves that this peer does not own (see the module doc). */
export class Custody {
  #byTaker = new Map<PeerId, ByTask>();
  #size = 0;

  /** Tasks kept, over every taker. */
  get size(): number {
    return this.#size;
  }

  /** Whether `taker` holds any task given by this peer. */
  holds(taker: PeerId): boolean {
    return this.#byTaker.has(taker);
  }

  /** Record that the live tasks of `block` (seq -1 skipped) went to `taker`. */
  give(taker: PeerId, block: TaskBlock): void {
    let m = this.#byTaker.get(taker);
    if (m === undefined) this.#byTaker.set(taker, m = new Map());
    let bySeq = m.get(block.owner);
    if (bySeq === undefined) m.set(block.owner, bySeq = new Map());
    for (let i = 0; i < block.seqs.length; i++) {
      const seq = block.seqs[i];
      if (seq < 0) continue;
      bySeq.set(seq, { block, i, via: block.via, older: bySeq.get(seq) });
      this.#size++;
    }
    if (bySeq.size === 0) m.delete(block.owner);
    if (m.size === 0) this.#byTaker.delete(taker);
  }

  /** `taker` finished (or gave back) a task: forget it, returning its entry if it was kept. */
  take(taker: PeerId, owner: PeerId, seq: number): CustodyEntry | undefined {
    const m = this.#byTaker.get(taker);
    const bySeq = m?.get(owner);
    const e = bySeq?.get(seq);
    if (e === undefined) return undefined;
    this.#size--;
    if (e.older !== undefined) bySeq!.set(seq, e.older);
    else {
      bySeq!.delete(seq);
      if (bySeq!.size === 0) {
        m!.delete(owner);
        if (m!.size === 0) this.#byTaker.delete(taker);
      }
    }
    return e;
  }

  /**
   * `taker` was lost: every task it still holds, as blocks (one per owner and origin) to queue
   * again, each with the `via` it had here.
   */
  reclaim(taker: PeerId): TaskBlock[] {
    const m = this.#byTaker.get(taker);
    if (m === undefined) return [];
    this.#byTaker.delete(taker);
    const builders = new Map<string, BlockBuilder>();
    for (const bySeq of m.values()) {
      for (const newest of bySeq.values()) {
        // Given to it twice (it came round): the oldest giving is the one answered for here.
        let e = newest;
        this.#size--;
        while (e.older !== undefined) {
          e = e.older;
          this.#size--;
        }
        const { block, i, via } = e;
        const k = `${block.owner}\0${via ?? ""}`;
        let b = builders.get(k);
        if (b === undefined) builders.set(k, b = new BlockBuilder(block.owner, false, via));
        b.addFrom(block, i);
      }
    }
    return [...builders.values()].map((b) => b.finish());
  }

  /** The takers keeping task `seq` of `owner` here (for debugging). */
  takersOf(owner: PeerId, seq: number): PeerId[] {
    const out: PeerId[] = [];
    for (const [taker, m] of this.#byTaker) if (m.get(owner)?.has(seq)) out.push(taker);
    return out;
  }

  /** The owner cancelled `seqs`: forget them, returning which taker held which. */
  cancel(owner: PeerId, seqs: readonly number[]): Map<PeerId, number[]> {
    const out = new Map<PeerId, number[]>();
    for (const [taker, m] of this.#byTaker) {
      const bySeq = m.get(owner);
      if (bySeq === undefined) continue;
      for (const seq of seqs) {
        let e = bySeq.get(seq);
        if (e === undefined) continue;
        bySeq.delete(seq);
        for (; e !== undefined; e = e.older) this.#size--;
        let l = out.get(taker);
        if (l === undefined) out.set(taker, l = []);
        l.push(seq);
      }
      if (bySeq.size === 0) m.delete(owner);
      if (m.size === 0) this.#byTaker.delete(taker);
    }
    return out;
  }

  /** `owner` was lost: nobody awaits its tasks any more. */
  dropOwner(owner: PeerId): void {
    for (const [taker, m] of this.#byTaker) {
      const bySeq = m.get(owner);
      if (bySeq === undefined) continue;
      for (let e of bySeq.values()) {
        for (; e !== undefined; e = e.older!) this.#size--;
      }
      m.delete(owner);
      if (m.size === 0) this.#byTaker.delete(taker);
    }
  }
}
