/**
 * Results by column: what a finished run reports, what travels to a task's owner, and what the
 * owner's mesh thread hands its executor. A batch of a thousand results is four buffers, not a
 * thousand tuples and a thousand byte views.
 *
 * @module
 */
import { joinBytes } from "../scheduler/block.ts";

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

/** The buffers of a batch built here, to transfer it to another thread. */
export function resultBuffers(batch: ResultBatch): ArrayBuffer[] {
  return [batch.keys, batch.oks, batch.data, batch.ends].map((a) => a.buffer as ArrayBuffer);
}

/** Builds a batch result by result. */
export class ResultBuilder {
  #keys: number[] = [];
  #oks: number[] = [];
  #chunks: Uint8Array[] = [];
  #ends: number[] = [];
  #bytes = 0;

  /** Results added since the last `finish`. */
  get length(): number {
    return this.#keys.length;
  }

  /** Append one result. */
  add(key: number, ok: 0 | 1, payload: Uint8Array): void {
    this.#keys.push(key);
    this.#oks.push(ok);
    if (payload.byteLength > 0) this.#chunks.push(payload);
    this.#bytes += payload.byteLength;
    this.#ends.push(this.#bytes);
  }

  /**
   * The batch of every result added, and start empty again.
   * @param share a lone payload may be used as `data` without a copy (for the wire, which
   *   copies anyway; never for a batch whose buffers are to be transferred).
   */
  finish(share = false): ResultBatch {
    const data = share && this.#chunks.length === 1
      ? this.#chunks[0]
      : joinBytes(this.#chunks, this.#bytes);
    const batch = {
      keys: Float64Array.from(this.#keys),
      oks: Uint8Array.from(this.#oks),
      data,
      ends: Uint32Array.from(this.#ends),
    };
    this.#keys = [];
    this.#oks = [];
    this.#chunks = [];
    this.#ends = [];
    this.#bytes = 0;
    return batch;
  }
}
