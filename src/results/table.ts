/**
 * The result table of a peer: where each task it owns (submitted here) that has no result yet
 * is, as one 16-bit code per task in pages of 4,096 sequence numbers. A page is freed once
 * every task in it has settled, so memory follows what is in flight, not what has ever run:
 * a million tasks in flight cost 2 MB here.
 *
 * Tasks lent to a thief are also kept, as the compact blocks that were sent, so that they can
 * be queued again if the thief leaves the grid (nothing is lost when a peer dies). Those blocks
 * are dropped as their tasks settle.
 *
 * @module
 */
import { BlockBuilder, type TaskBlock } from "../scheduler/block.ts";

/** No result awaited (never submitted, settled, or cancelled). */
export const NONE = 0;
/** In this peer's deque. */
export const QUEUED = 1;
/** Handed to this peer's executor. */
export const HANDED = 2;
/** Codes from here on name the peer holding the task (lent to a thief; see `holderOf`). */
export const LENT = 3;
const MAX_CODE = 0xffff;

const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;

interface Page {
  codes: Uint16Array;
  live: number;
}

/** Blocks lent to one thief, while some of their tasks are still out there. */
interface Lent {
  blocks: TaskBlock[];
  /** Tasks whose code is this thief's. */
  out: number;
  /** Task slots in `blocks`, and settled since the last sweep (see `#leave`). */
  slots: number;
  sinceSweep: number;
}

/** Owned tasks awaiting their results (see the module doc). */
export class ResultTable {
  #pages = new Map<number, Page>();
  #size = 0;
  #holders: string[] = [];
  #holderCodes = new Map<string, number>();
  #lent = new Map<number, Lent>();

  /** Tasks awaiting results. */
  get size(): number {
    return this.#size;
  }

  /** Record a task submitted here (it is queued). */
  add(seq: number): void {
    const key = Math.floor(seq / PAGE);
    let page = this.#pages.get(key);
    if (page === undefined) this.#pages.set(key, page = { codes: new Uint16Array(PAGE), live: 0 });
    const i = seq - key * PAGE;
    if (page.codes[i] !== NONE) return;
    page.codes[i] = QUEUED;
    page.live++;
    this.#size++;
  }

  /** Where `seq` is: NONE, QUEUED, HANDED, or a holder code (see `holderOf`). */
  code(seq: number): number {
    const key = Math.floor(seq / PAGE);
    return this.#pages.get(key)?.codes[seq - key * PAGE] ?? NONE;
  }

  /** The peer a holder code names. */
  holderOf(code: number): string | undefined {
    return code >= LENT ? this.#holders[code - LENT] : undefined;
  }

  /**
   * Move an awaited task to QUEUED or HANDED. Returns false (and does nothing) if it is not
   * awaited.
   */
  move(seq: number, to: typeof QUEUED | typeof HANDED): boolean {
    return this.#set(seq, to) !== NONE;
  }

  /**
   * Settle `seq`: returns where it was (NONE for a duplicate result or a cancelled task, which
   * should then be ignored).
   */
  settle(seq: number): number {
    return this.#set(seq, NONE);
  }

  /**
   * Record that the tasks of `block` (all owned here and QUEUED; -1 entries skipped) are sent
   * to the thief `holder`. The block is kept until they settle. Returns false, changing
   * nothing, if no holder code is free (65,533 thieves holding tasks at once): keep them.
   */
  lend(holder: string, block: TaskBlock): boolean {
    const code = this.#codeFor(holder);
    if (code === undefined) return false;
    let n = 0;
    for (const seq of block.seqs) {
      if (seq >= 0 && this.code(seq) === QUEUED) {
        this.#set(seq, code);
        n++;
      }
    }
    if (n === 0) return true;
    let lent = this.#lent.get(code);
    if (lent === undefined) {
      this.#lent.set(code, lent = { blocks: [], out: 0, slots: 0, sinceSweep: 0 });
    }
    lent.blocks.push(block);
    lent.out += n;
    lent.slots += block.seqs.length;
    return true;
  }

  /**
   * Take back every task `holder` still holds (it left the grid): compact blocks of them, now
   * QUEUED again, to be put back in the deque.
   */
  reclaim(holder: string): TaskBlock[] {
    const code = this.#holderCodes.get(holder);
    const lent = code === undefined ? undefined : this.#lent.get(code);
    if (lent === undefined) return [];
    const out: TaskBlock[] = [];
    for (const block of lent.blocks) {
      const b = new BlockBuilder(block.owner);
      for (let i = 0; i < block.seqs.length; i++) {
        if (block.seqs[i] >= 0 && this.code(block.seqs[i]) === code) {
          this.#set(block.seqs[i], QUEUED);
          b.addFrom(block, i);
        }
      }
      if (b.length > 0) out.push(b.finish());
    }
    this.#lent.delete(code!);
    return out;
  }

  /** The seqs awaiting results (for debugging: O(pages)). */
  unsettled(): number[] {
    const out: number[] = [];
    for (const [key, page] of this.#pages) {
      for (let i = 0; i < PAGE; i++) if (page.codes[i] !== NONE) out.push(key * PAGE + i);
    }
    return out;
  }

  /** Tasks lent out and not settled, by holder (for tests and stats). */
  lentCount(holder: string): number {
    const code = this.#holderCodes.get(holder);
    return code === undefined ? 0 : this.#lent.get(code)?.out ?? 0;
  }

  /**
   * The code of `holder`, given on first use. When all 65,533 are taken, one that no task
   * carries any more (it has no lent entry) is given again; undefined if every code is carried
   * by some task (that many thieves at once).
   */
  #codeFor(holder: string): number | undefined {
    let code = this.#holderCodes.get(holder);
    if (code !== undefined) return code;
    if (LENT + this.#holders.length <= MAX_CODE) {
      code = LENT + this.#holders.length;
      this.#holders.push(holder);
    } else {
      for (let c = LENT; c <= MAX_CODE && code === undefined; c++) if (!this.#lent.has(c)) code = c;
      if (code === undefined) return undefined;
      this.#holderCodes.delete(this.#holders[code - LENT]);
      this.#holders[code - LENT] = holder;
    }
    this.#holderCodes.set(holder, code);
    return code;
  }

  /** Set the code of an awaited task; returns its previous code (NONE: not awaited, no-op). */
  #set(seq: number, to: number): number {
    const key = Math.floor(seq / PAGE);
    const page = this.#pages.get(key);
    if (page === undefined) return NONE;
    const i = seq - key * PAGE;
    const from = page.codes[i];
    if (from === NONE || from === to) return from;
    page.codes[i] = to;
    if (from >= LENT) this.#leave(from);
    if (to === NONE) {
      this.#size--;
      if (--page.live === 0) this.#pages.delete(key);
    }
    return from;
  }

  /**
   * A task lent under `code` settled or came back. Lent blocks are swept (those with no task
   * out any more are dropped) once as many tasks left as the blocks hold slots, so sweeping
   * costs O(1) per task.
   */
  #leave(code: number): void {
    const lent = this.#lent.get(code)!;
    if (--lent.out === 0) {
      this.#lent.delete(code);
      return;
    }
    if (++lent.sinceSweep * 2 < lent.slots) return;
    lent.blocks = lent.blocks.filter((b) => b.seqs.some((s) => s >= 0 && this.code(s) === code));
    lent.slots = lent.blocks.reduce((n, b) => n + b.seqs.length, 0);
    lent.sinceSweep = 0;
  }
}
