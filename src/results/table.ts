/**
 * The result table of a peer: every task this peer owns (submitted here) that has no result
 * yet, with its description and who holds it. A result settles an entry once; later copies
 * are ignored. Entries are freed as soon as they settle, so memory follows what is in flight,
 * not what has ever run. When a holder dies its tasks can be queued again from here.
 *
 * @module
 */
import type { TaskRecord } from "../scheduler/deque.ts";

/**
 * An owned task with no result yet: its record, whose `holder` is the peer id holding the task,
 * or undefined while it is here (queued or running). No wrapper object: a million tasks in
 * flight cost a million records, not two million objects.
 */
export type Owned = TaskRecord;

/** Owned tasks awaiting their results. */
export class ResultTable {
  #entries = new Map<number, Owned>();

  /** Tasks awaiting results. */
  get size(): number {
    return this.#entries.size;
  }

  /** Record a task submitted here. */
  add(record: TaskRecord): void {
    this.#entries.set(record.seq, record);
  }

  /** The entry for `seq`, if it is still awaited. */
  get(seq: number): Owned | undefined {
    return this.#entries.get(seq);
  }

  /**
   * Settle `seq`: true the first time, false for a duplicate or a cancelled task.
   */
  settle(seq: number): boolean {
    return this.#entries.delete(seq);
  }

  /** Take back every task held by `peer` (it left): their records, to be queued again. */
  reclaim(peer: string): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const owned of this.#entries.values()) {
      if (owned.holder === peer) {
        owned.holder = undefined;
        out.push(owned);
      }
    }
    return out;
  }
}
