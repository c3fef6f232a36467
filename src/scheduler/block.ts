/**
 * Task blocks: tasks of one owner stored by column. A million queued tasks cost a few typed
 * arrays and one buffer of encoded arguments, not a million objects: this is how the deque,
 * the result table and the wire hold tasks (the executor submits them this way too).
 *
 * @module
 */

/** Tasks of one owner, by column. Entry `i` of every column describes task `i`. */
export interface TaskBlock {
  /** Peer id of the owner (who submitted the tasks and awaits their results). */
  readonly owner: string;
  /** The owner's sequence number of each task; -1 marks a task dropped (cancelled) since. */
  readonly seqs: Float64Array;
  /** The distinct task names of the block. */
  readonly names: readonly string[];
  /** Index into `names` of each task's name. */
  readonly kinds: Uint16Array;
  /** Encoded argument lists, back to back. */
  readonly data: Uint8Array;
  /** End of each task's arguments in `data`; a task's start is the previous end, or 0. */
  readonly ends: Uint32Array;
  /**
   * The peer these tasks came from, when it is not their owner's executor here: whom to tell
   * when they finish (see `core/custody.ts`). Local to a peer: never sent.
   */
  readonly via?: string;
}

/** One task of a block, taken out of it: what the mesh thread hands its executor. */
export interface TaskRecord {
  readonly owner: string;
  readonly seq: number;
  readonly name: string;
  /** Encoded argument list. */
  readonly args: Uint8Array;
}

/** The encoded arguments of task `i` (a view, not a copy). */
export function argsOf(block: TaskBlock, i: number): Uint8Array {
  return block.data.subarray(i === 0 ? 0 : block.ends[i - 1], block.ends[i]);
}

/** Task `i` of a block as a record. */
export function recordOf(block: TaskBlock, i: number): TaskRecord {
  return {
    owner: block.owner,
    seq: block.seqs[i],
    name: block.names[block.kinds[i]],
    args: argsOf(block, i),
  };
}

/** Whether `view` lives in shared memory (which threads share rather than copy). */
export function isShared(view: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== "undefined" && view.buffer instanceof SharedArrayBuffer;
}

/**
 * A copy of tasks `[lo, hi)` of a block: compact, independent of the original (which may be
 * changed or dropped afterwards). Arguments in shared memory are shared, not copied: they are
 * never changed in place, and another thread can read them where they are.
 */
export function sliceBlock(block: TaskBlock, lo: number, hi: number): TaskBlock {
  const view = viewBlock(block, lo, hi); // its `ends` is already a copy
  return {
    ...view,
    seqs: view.seqs.slice(),
    kinds: view.kinds.slice(),
    // Not `view.data.slice()`: on a Node Buffer (what the wire decoder gives) that is a view.
    data: isShared(view.data) ? view.data : Uint8Array.prototype.slice.call(view.data),
  };
}

/**
 * Byte strings gathered one by one into one buffer and their end offsets: the `data` and
 * `ends` columns of a task block or a result batch.
 */
export class ByteColumn {
  #chunks: Uint8Array[] = [];
  #ends: number[] = [];
  #bytes = 0;

  /** Append one byte string (kept as given until `finish`). */
  add(bytes: Uint8Array): void {
    if (bytes.byteLength > 0) this.#chunks.push(bytes);
    this.#bytes += bytes.byteLength;
    this.#ends.push(this.#bytes);
  }

  /**
   * The column of everything added, and start empty again. A lone byte string in shared memory
   * is used as `data` as it is (threads share it; it is never changed in place).
   * @param share a lone byte string may be used as `data` without a copy (for the wire, which
   *   copies anyway; never for buffers that are to be transferred).
   * @param shared join into shared memory (for a block the mesh thread will hand back to an
   *   executor, which then reads it without a copy)
   */
  finish(share = false, shared = false): { data: Uint8Array; ends: Uint32Array } {
    const lone = this.#chunks.length === 1 ? this.#chunks[0] : undefined;
    const data = lone !== undefined && (share || isShared(lone))
      ? lone
      : joinBytes(this.#chunks, this.#bytes, shared);
    const ends = Uint32Array.from(this.#ends);
    this.#chunks = [];
    this.#ends = [];
    this.#bytes = 0;
    return { data, ends };
  }
}

/**
 * Tasks `[lo, hi)` of a block as views of its columns (only `ends` is copied, rebased): for a
 * range that leaves the deque and is read, sent or copied later, never changed in place.
 */
export function viewBlock(block: TaskBlock, lo: number, hi: number): TaskBlock {
  const start = lo === 0 ? 0 : block.ends[lo - 1];
  const ends = block.ends.slice(lo, hi); // counted from `start`
  if (start !== 0) { for (let i = 0; i < ends.length; i++) ends[i] -= start; }
  return {
    owner: block.owner,
    via: block.via,
    seqs: block.seqs.subarray(lo, hi),
    names: block.names,
    kinds: block.kinds.subarray(lo, hi),
    data: block.data.subarray(start, hi === lo ? start : block.ends[hi - 1]),
    ends,
  };
}

/** Builds a block task by task (a handful at a time: revoked, reclaimed or submitted tasks). */
export class BlockBuilder {
  readonly owner: string;
  readonly via: string | undefined;
  readonly #shared: boolean;
  #seqs: number[] = [];
  #kinds: number[] = [];
  #names = new Map<string, number>();
  #args = new ByteColumn();

  /**
   * @param shared put the arguments in shared memory (see `ByteColumn.finish`)
   * @param via the peer the tasks came from (see {@link TaskBlock.via})
   */
  constructor(owner: string, shared = false, via?: string) {
    this.owner = owner;
    this.via = via;
    this.#shared = shared;
  }

  /** Tasks added so far. */
  get length(): number {
    return this.#seqs.length;
  }

  /** Append one task. */
  add(seq: number, name: string, args: Uint8Array): void {
    let kind = this.#names.get(name);
    if (kind === undefined) this.#names.set(name, kind = this.#names.size);
    this.#seqs.push(seq);
    this.#kinds.push(kind);
    this.#args.add(args);
  }

  /** Append task `i` of another block. */
  addFrom(block: TaskBlock, i: number): void {
    this.add(block.seqs[i], block.names[block.kinds[i]], argsOf(block, i));
  }

  /** The block of every task added (fresh buffers of its own), and start empty again. */
  finish(): TaskBlock {
    const block: TaskBlock = {
      owner: this.owner,
      via: this.via,
      seqs: Float64Array.from(this.#seqs),
      names: [...this.#names.keys()],
      kinds: Uint16Array.from(this.#kinds),
      ...this.#args.finish(false, this.#shared),
    };
    this.#seqs = [];
    this.#kinds = [];
    this.#names = new Map();
    return block;
  }
}

/**
 * Byte strings at least this long go to shared memory when asked (see `freshBytes`); shorter
 * ones cost less to copy than a shared buffer costs to keep (V8 rounds those up).
 */
export const SHARED_MIN_BYTES = 64 * 1024;

/** A fresh zeroed byte array of `n` bytes: in shared memory if `shared` and n is large. */
export function freshBytes(n: number, shared: boolean): Uint8Array {
  return new Uint8Array(
    shared && n >= SHARED_MIN_BYTES ? new SharedArrayBuffer(n) : new ArrayBuffer(n),
  );
}

/** `chunks` copied back to back into one fresh buffer of `total` bytes (see `freshBytes`). */
function joinBytes(chunks: readonly Uint8Array[], total: number, shared = false): Uint8Array {
  const out = freshBytes(total, shared);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** The most distinct names one block may carry (kinds are 16-bit). */
export const MAX_BLOCK_NAMES = 65_536;

/** The buffers of a block's columns, to transfer it to another thread (shared ones are not). */
export function blockBuffers(block: TaskBlock): ArrayBuffer[] {
  return transferable([block.seqs, block.kinds, block.data, block.ends]);
}

/** The buffers of `arrays` that can be transferred: every one not in shared memory. */
export function transferable(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of arrays) if (!isShared(a)) out.push(a.buffer as ArrayBuffer);
  return out;
}
