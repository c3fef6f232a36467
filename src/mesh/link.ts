/**
 * A link: the one long-lived libp2p stream between two peers, carrying length-prefixed frames.
 * Every message queued in one tick goes out as one frame in one `send()` (batching is what
 * makes libp2p fast: see LIBP2P-NOTES). A frame is a 4-byte big-endian length and the
 * frame-codec encoding of an array of messages.
 *
 * @module
 */
import type { Stream } from "@libp2p/interface";
import { decodeFrame, encodeFrameParts } from "../codec/mod.ts";
import { ProtocolError } from "../errors.ts";
import { logger } from "../log.ts";
import { freshBytes } from "../scheduler/block.ts";

const log = logger("link");
/** Frames larger than this leave in slices of this size, one per turn of the event loop. */
const SEND_SLICE = 256 * 1024;
/** Frames at least this large are assembled as their bytes arrive (see `#assembling`). */
const ASSEMBLE_MIN = 256 * 1024;

/**
 * How long a lazy message (see {@link Link.send}) waits for another message to leave with. Lazy
 * messages are status a peer needs soon but not at once; most ride along with results or steal
 * requests, and a quiet link sends them after this.
 */
export const LAZY_MS = 20;

/**
 * Largest frame a peer may send, in bytes, unless told otherwise (`--max-frame`). Larger
 * frames close the link.
 */
export const DEFAULT_MAX_FRAME = 512 * 1024 * 1024;

/** Frames this process sent and received on its links, for `SCOOP_STATS`. */
export const frameCounts = { sent: 0, received: 0 };

/** The bytes of a frame's pieces. */
function frameLength(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.byteLength;
  return n;
}

/** What a link reports to its owner. */
export interface LinkHandlers {
  /** A batch of messages arrived (already decoded; not yet validated). */
  onMessages(link: Link, messages: unknown[]): void;
  /** The link closed; `error` says why when it was not a clean close. */
  onClose(link: Link, error?: Error): void;
}

/** One framed, batched, bidirectional channel to a remote peer. */
export class Link {
  /** The remote peer's id. */
  readonly remote: string;
  #stream: Stream;
  #handlers: LinkHandlers;
  #maxFrame: number;
  #outbox: unknown[] = [];
  #flushScheduled = false;
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  #waitingDrain = false;
  /** The pieces of the frame being sent in slices, and how much of the first is out. */
  #pieces: Uint8Array[] = [];
  #sendingAt = 0;
  #closed = false;
  // Receive buffer: chunks not yet consumed as whole frames.
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /**
   * A large frame being assembled as its bytes arrive: copying each part on arrival overlaps
   * the copy (and the first touch of fresh memory, the costly part) with the transfer, instead
   * of doing it all after the last byte.
   */
  #assembling: { frame: Uint8Array; filled: number } | undefined;
  #reported = false;
  /** Chunks of bytes received so far. */
  #received = 0;

  constructor(
    remote: string,
    stream: Stream,
    handlers: LinkHandlers,
    maxFrame = DEFAULT_MAX_FRAME,
  ) {
    this.remote = remote;
    this.#stream = stream;
    this.#handlers = handlers;
    this.#maxFrame = maxFrame;
    stream.addEventListener("message", (evt) => {
      const data = evt.data;
      if (data instanceof Uint8Array) this.#receive(data);
      else for (const chunk of data) this.#receive(chunk); // its parts: no copy to join them
    });
    stream.addEventListener("close", (evt) => {
      this.#finish(evt.error);
    }, { once: true });
  }

  /**
   * Chunks of bytes received so far: while it grows, the peer is heard, even when a large frame
   * keeps whole messages from arriving for a while.
   */
  get received(): number {
    return this.#received;
  }

  /** True once the link is closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queue a message; it leaves with the others of this tick. A `lazy` one does not make a frame
   * of its own: it leaves with the next message that does, or after {@link LAZY_MS}. Every
   * frame costs both peers a wake-up, an encryption and a decryption, taken from the executors
   * on a busy host.
   */
  send(message: unknown, lazy = false): void {
    if (this.#closed) return;
    this.#outbox.push(message);
    if (this.#flushScheduled || this.#waitingDrain) return;
    if (!lazy) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    } else if (this.#lazyTimer === undefined) {
      this.#lazyTimer = setTimeout(() => {
        this.#lazyTimer = undefined;
        this.#flush();
      }, LAZY_MS);
    }
  }

  /** Send what is queued now, then close the stream for writing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Everything queued goes out now, slices and all: the stream buffers what it cannot send.
    this.#waitingDrain = false;
    for (;;) {
      try {
        for (const [i, piece] of this.#pieces.entries()) {
          this.#stream.send(i === 0 ? piece.subarray(this.#sendingAt) : piece);
        }
      } catch {
        break;
      }
      this.#pieces = [];
      this.#sendingAt = 0;
      if (this.#outbox.length === 0) break;
      this.#flush();
      this.#waitingDrain = false;
    }
    this.#closed = true;
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    try {
      await this.#stream.close();
    } catch {
      this.#stream.abort(new Error("link closed"));
    }
  }

  /** Drop the link at once (a hostile or broken peer). */
  abort(error: Error): void {
    if (this.#closed) return;
    this.#stream.abort(error);
    this.#finish(error);
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed || this.#waitingDrain) return;
    if (this.#pieces.length === 0) {
      if (this.#outbox.length === 0) return;
      if (this.#lazyTimer !== undefined) {
        clearTimeout(this.#lazyTimer);
        this.#lazyTimer = undefined;
      }
      let batch = this.#outbox;
      this.#outbox = [];
      frameCounts.sent++;
      // Large byte strings come as pieces of their own, sent from where they are (no copy).
      let pieces = encodeFrameParts(batch);
      let length = frameLength(pieces);
      // Messages that piled up (lazy ones, or behind a large frame) may add up to more than a
      // peer accepts in one frame: send the first half now, the rest in the frames after.
      while (length > this.#maxFrame && batch.length > 1) {
        const half = batch.length >> 1;
        this.#outbox = [...batch.slice(half), ...this.#outbox];
        batch = batch.slice(0, half);
        pieces = encodeFrameParts(batch);
        length = frameLength(pieces);
      }
      // The length prefix and the small pieces that lead (the whole of a small frame, or the
      // head of one with parts) go in one send; a large piece is sent from where it is.
      let lead = 0;
      let leadBytes = 4;
      while (lead < pieces.length && leadBytes + pieces[lead].byteLength <= SEND_SLICE) {
        leadBytes += pieces[lead++].byteLength;
      }
      const first = new Uint8Array(leadBytes);
      new DataView(first.buffer).setUint32(0, length);
      for (let i = 0, at = 4; i < lead; at += pieces[i++].byteLength) first.set(pieces[i], at);
      this.#pieces = [first, ...pieces.slice(lead)];
      this.#sendingAt = 0;
    }
    // A large frame goes out in slices, each one after the stream has drained the previous:
    // Noise encrypts what is sent synchronously, and slicing lets the receiver decrypt one
    // slice while the next is encrypted, instead of waiting for the whole frame.
    while (this.#pieces.length > 0) {
      const piece = this.#pieces[0];
      const slice = piece.subarray(this.#sendingAt, this.#sendingAt + SEND_SLICE);
      this.#sendingAt += slice.byteLength;
      if (this.#sendingAt >= piece.byteLength) {
        this.#pieces.shift();
        this.#sendingAt = 0;
      }
      let ok: boolean;
      try {
        ok = this.#stream.send(slice);
      } catch (err) {
        this.#finish(err as Error);
        return;
      }
      if (!ok) {
        this.#waitingDrain = true;
        this.#stream.onDrain().then(() => {
          this.#waitingDrain = false;
          this.#flush();
        }, (err) => this.#finish(err));
        return;
      }
      if (this.#pieces.length > 0) {
        // Let the event loop breathe (and the receiver start decrypting) between slices.
        this.#waitingDrain = true;
        setImmediate(() => {
          this.#waitingDrain = false;
          this.#flush();
        });
        return;
      }
    }
    if (this.#outbox.length > 0) this.#flush();
  }

  #receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#received++;
    const a = this.#assembling;
    if (a !== undefined) {
      const part = chunk.subarray(0, a.frame.byteLength - a.filled);
      a.frame.set(part, a.filled);
      a.filled += part.byteLength;
      if (a.filled < a.frame.byteLength) return;
      this.#assembling = undefined;
      if (!this.#deliver(a.frame)) return;
      chunk = chunk.subarray(part.byteLength);
      if (chunk.byteLength === 0) return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    while (this.#buffered >= 4) {
      const head = this.#peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (len > this.#maxFrame) {
        this.#hostile(
          `frame of ${len} bytes exceeds the limit of ${this.#maxFrame} ` +
            `(every peer of a grid needs the same --max-frame)`,
        );
        return;
      }
      if (this.#buffered < 4 + len) {
        if (len >= ASSEMBLE_MIN) {
          // Start assembling: what has come so far now, the rest as it comes.
          this.#consume(4);
          const frame = freshBytes(len, true);
          const filled = this.#buffered;
          this.#copyInto(frame, filled);
          this.#consume(filled);
          this.#assembling = { frame, filled };
        }
        return;
      }
      this.#consume(4);
      if (!this.#deliver(this.#take(len))) return;
    }
  }

  /** Decode one frame and hand its messages on; false when it closed the link. */
  #deliver(body: Uint8Array): boolean {
    frameCounts.received++;
    let messages: unknown[];
    try {
      messages = decodeFrame(body);
    } catch (err) {
      this.#hostile((err as Error).message);
      return false;
    }
    if (messages.length === 0) {
      // A peer never sends one: nothing to flush makes no frame.
      this.#hostile("a frame with no messages");
      return false;
    }
    try {
      this.#handlers.onMessages(this, messages);
    } catch (err) {
      // A message that fails validation is hostile or from a broken peer: drop the link,
      // never the process.
      this.#hostile((err as Error).message);
      return false;
    }
    return !this.#closed;
  }

  #hostile(reason: string): void {
    const error = new ProtocolError(`Closing link to ${this.remote}: ${reason}`);
    log.warn(error.message);
    this.abort(error);
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.byteLength >= n) return first;
    return this.#concat(n, false);
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.byteLength >= n) {
      const out = first.subarray(0, n);
      this.#consume(n);
      return out;
    }
    return this.#concat(n, true);
  }

  #concat(n: number, consume: boolean): Uint8Array {
    // A whole large frame goes to shared memory: the tasks and results in it reach the
    // executor without another copy (see `sliceBlock`).
    const out = freshBytes(n, consume);
    this.#copyInto(out, n);
    if (consume) this.#consume(n);
    return out;
  }

  /** Copy the first `n` buffered bytes to the start of `out`. */
  #copyInto(out: Uint8Array, n: number): void {
    let off = 0;
    for (const c of this.#chunks) {
      const part = c.subarray(0, n - off);
      out.set(part, off);
      off += part.byteLength;
      if (off === n) break;
    }
  }

  #consume(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const first = this.#chunks[0];
      if (first.byteLength <= n) {
        n -= first.byteLength;
        this.#chunks.shift();
      } else {
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }

  #finish(error?: Error): void {
    this.#closed = true;
    this.#pieces = [];
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    this.#chunks = [];
    this.#buffered = 0;
    this.#assembling = undefined;
    this.#outbox = [];
    if (this.#reported) return;
    this.#reported = true;
    this.#handlers.onClose(this, error);
  }
}
