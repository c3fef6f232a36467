/**
 * The task deque of a peer: its own executor takes the newest tasks (depth first), thieves
 * take the oldest (the biggest subtrees, in one batch). It holds whole {@link TaskBlock}s, each
 * with the range of its tasks still queued, so a submitted batch of any size stays one entry.
 *
 * A task can stop being live while it is queued (its owner cancelled it, or it got a result
 * elsewhere); the deque is told (`forget`, `drop`) and skips it when it reaches it, never
 * searching for it.
 *
 * @module
 */
import { BlockBuilder, sliceBlock, type TaskBlock, viewBlock } from "./block.ts";

/**
 * Tasks `[lo, hi)` of a block leaving the deque, without copying their arguments: the block
 * itself when that is all of it, else views of it. Nobody changes a range once it is out (the
 * deque marks dropped tasks only in the ranges it still holds), and whoever sends it on copies
 * it then (the frame encoder, or `sliceBlock` before a transfer to the executor).
 */
function part(block: TaskBlock, lo: number, hi: number): TaskBlock {
  return lo === 0 && hi === block.seqs.length ? block : viewBlock(block, lo, hi);
}

/** A block and the range `[lo, hi)` of its tasks still in the deque. */
interface Segment {
  block: TaskBlock;
  lo: number;
  hi: number;
}

/** Whether task `i` of `block` should still run (see the module doc). */
export type LiveTest = (block: TaskBlock, i: number) => boolean;

/** Double-ended queue of task blocks. */
export class TaskDeque {
  #segs: Segment[] = []; // oldest first; #head is the first one in use
  #head = 0;
  #live = 0;
  #isLive: LiveTest;

  /**
   * @param isLive whether a queued task should still run; by default, any whose seq is not -1.
   */
  constructor(isLive: LiveTest = (b, i) => b.seqs[i] >= 0) {
    this.#isLive = isLive;
  }

  /** Tasks that are queued and live. */
  get length(): number {
    return this.#live;
  }

  /** Add a block at the newest end; `live` is how many of its tasks are live (default all). */
  push(block: TaskBlock, live = block.seqs.length): void {
    if (block.seqs.length === 0) return;
    this.#segs.push({ block, lo: 0, hi: block.seqs.length });
    this.#live += live;
  }

  /** Add a block at the oldest end (first to be stolen). */
  unshift(block: TaskBlock, live = block.seqs.length): void {
    if (block.seqs.length === 0) return;
    const seg = { block, lo: 0, hi: block.seqs.length };
    if (this.#head > 0) this.#segs[--this.#head] = seg;
    else this.#segs.unshift(seg);
    this.#live += live;
  }

  /**
   * Take up to `n` of the newest live tasks, for this peer's executor: only live tasks, one
   * block (see `part`) per block they came from, newest block first. The executor runs each copy
   * from its last task to its first, so the newest task runs first (depth first).
   */
  take(n: number): TaskBlock[] {
    const out: TaskBlock[] = [];
    let taken = 0;
    while (taken < n && this.#segs.length > this.#head) {
      const seg = this.#segs[this.#segs.length - 1];
      const to = seg.hi;
      let dead = 0;
      while (seg.hi > seg.lo && taken < n) {
        if (this.#isLive(seg.block, --seg.hi)) taken++;
        else dead++;
      }
      if (dead === 0) out.push(part(seg.block, seg.hi, to));
      else if (to - seg.hi > dead) {
        const b = new BlockBuilder(seg.block.owner, false, seg.block.via);
        for (let i = seg.hi; i < to; i++) if (this.#isLive(seg.block, i)) b.addFrom(seg.block, i);
        out.push(b.finish());
      }
      if (seg.hi === seg.lo) this.#dropLast();
    }
    this.#tookOut(taken);
    return out;
  }

  /**
   * Take up to `n` of the oldest live tasks, oldest first, one block (see `part`) per block
   * they came from. A range with tasks no longer live is copied instead, those having seq -1.
   */
  shift(n: number): TaskBlock[] {
    const out: TaskBlock[] = [];
    let taken = 0;
    while (taken < n && this.#segs.length > this.#head) {
      const seg = this.#segs[this.#head];
      const from = seg.lo;
      const dead: number[] = [];
      while (seg.lo < seg.hi && taken < n) {
        if (this.#isLive(seg.block, seg.lo)) taken++;
        else dead.push(seg.lo - from);
        seg.lo++;
      }
      if (dead.length === 0 && seg.lo > from) out.push(part(seg.block, from, seg.lo));
      else if (dead.length < seg.lo - from) {
        const copy = sliceBlock(seg.block, from, seg.lo);
        for (const i of dead) copy.seqs[i] = -1;
        out.push(copy);
      }
      if (seg.lo === seg.hi) this.#dropFirst();
    }
    this.#tookOut(taken);
    return out;
  }

  /** Count `taken` live tasks out. */
  #tookOut(taken: number): void {
    this.#live -= taken;
    // Nothing left: a count that drifted (a task that stopped being live without `forget`)
    // heals here instead of advertising work that is not there.
    if (this.#segs.length === this.#head) this.#live = 0;
  }

  /** Everything left, oldest first (see `shift`). */
  drain(): TaskBlock[] {
    return this.shift(Infinity);
  }

  /** A queued live task stopped being live (the live test now says so): count it out. */
  forget(count = 1): void {
    this.#live -= count;
  }

  /**
   * Drop the queued tasks of `owner` whose seq is in `seqs` (their owner cancelled them), or
   * all of them (their owner was lost): mark them -1 in place. Returns how many were found.
   * O(queued), for a rare event.
   */
  drop(owner: string, seqs?: ReadonlySet<number>): number {
    let found = 0;
    for (let s = this.#head; s < this.#segs.length; s++) {
      const { block, lo, hi } = this.#segs[s];
      if (block.owner !== owner) continue;
      for (let i = lo; i < hi; i++) {
        if ((seqs === undefined || seqs.has(block.seqs[i])) && this.#isLive(block, i)) {
          block.seqs[i] = -1;
          found++;
        }
      }
    }
    this.#live -= found;
    return found;
  }

  /** Whether tasks that came from peer `via` are queued (O(blocks queued)). */
  holdsFrom(via: string): boolean {
    for (let s = this.#head; s < this.#segs.length; s++) {
      const { block, lo, hi } = this.#segs[s];
      if (block.via === via && hi > lo) return true;
    }
    return false;
  }

  /** Whether task `seq` of `owner` is queued and live (for debugging: O(queued)). */
  has(owner: string, seq: number): boolean {
    for (let s = this.#head; s < this.#segs.length; s++) {
      const { block, lo, hi } = this.#segs[s];
      if (block.owner !== owner) continue;
      for (let i = lo; i < hi; i++) {
        if (block.seqs[i] === seq && this.#isLive(block, i)) return true;
      }
    }
    return false;
  }

  #dropLast(): void {
    this.#segs.pop();
    if (this.#segs.length === this.#head) this.#reset();
  }

  #dropFirst(): void {
    this.#segs[this.#head++] = undefined as unknown as Segment;
    if (this.#segs.length === this.#head) this.#reset();
    else if (this.#head > 1024 && this.#head * 2 > this.#segs.length) {
      this.#segs = this.#segs.slice(this.#head);
      this.#head = 0;
    }
  }

  #reset(): void {
    this.#segs = [];
    this.#head = 0;
  }
}
