/**
 * Results by column: what a finished run reports, what travels to a task's owner, and what the
 * owner's mesh thread hands its executor. A batch of a thousand results is four buffers, not a
 * thousand tuples and a thousand byte views.
 *
 * @module
 */
import { ByteColumn, transferable } from "../scheduler/block.ts";

/** Results by column. Entry `i` of every column describes result `i`. */
export interface ResultBatch {
  /** What each result is for: the task's seq (to its owner), or its run index (from a worker). */
  readonly keys: Float64Array;
  /** 1 for a value, 0 for an error. */
  readonly oks: Uint8Array;
  /** Encoded payloads, back to back. */
  readonly data: Uint8Array;
  /** End of each payload in `data`; a payload's start is the previous end, or 0. */
  readonly ends: Uint32Array;
}

/** The encoded payload of result `i` (a view, not a copy). */
export function payloadOf(batch: ResultBatch, i: number): Uint8Array {
  return batch.data.subarray(i === 0 ? 0 : batch.ends[i - 1], batch.ends[i]);
}

/** The buffers of a batch built here, to transfer it to another thread (shared ones are not). */
export function resultBuffers(batch: ResultBatch): ArrayBuffer[] {
  return transferable([batch.keys, batch.oks, batch.data, batch.ends]);
}

/** Builds a batch result by result. */
export class ResultBuilder {
  #keys: number[] = [];
  #oks: number[] = [];
  #payloads = new ByteColumn();
  readonly #shared: boolean;

  /** @param shared join large payloads into shared memory (see `ByteColumn.finish`). */
  constructor(shared = false) {
    this.#shared = shared;
  }

  /** Results added since the last `finish`. */
  get length(): number {
    return this.#keys.length;
  }

  /** Append one result. */
  add(key: number, ok: 0 | 1, payload: Uint8Array): void {
    this.#keys.push(key);
    this.#oks.push(ok);
    this.#payloads.add(payload);
  }

  /**
   * The batch of every result added, and start empty again.
   * @param share a lone payload may be used as `data` without a copy (for the wire, which
   *   copies anyway; never for a batch whose buffers are to be transferred).
   */
  finish(share = false): ResultBatch {
    const batch = {
      keys: Float64Array.from(this.#keys),
      oks: Uint8Array.from(this.#oks),
      ...this.#payloads.finish(share, this.#shared),
    };
    this.#keys = [];
    this.#oks = [];
    return batch;
  }
}
