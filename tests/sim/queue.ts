/**
 * The simulator's event queue: a binary heap ordered by time, then by insertion, so events at
 * the same instant run in the order they were scheduled (what makes a run replay exactly).
 *
 * @module
 */

interface Entry<T> {
  at: number;
  seq: number;
  item: T;
}

/** A min-heap of items by (time, insertion order). */
export class EventQueue<T> {
  #heap: Entry<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** The time of the earliest item, or Infinity. */
  peekTime(): number {
    return this.#heap.length > 0 ? this.#heap[0].at : Infinity;
  }

  push(at: number, item: T): void {
    const h = this.#heap;
    const e = { at, seq: this.#seq++, item };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(e, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }

  /** The earliest item and its time, or undefined. */
  pop(): Entry<T> | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r], h[l]) ? r : l;
        if (!less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
