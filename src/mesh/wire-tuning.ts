/**
 * Two changes to how the libp2p stack writes small frames: fewer packets and system calls for
 * the same bytes. On a link of small frames (steals, results, load gossip) every packet costs
 * both peers a wake-up, a system call and a pass through the stack, and on a busy host that
 * time is taken from the executors. Over ten rounds of pi 20M on two peers they cut the socket
 * writes from 986 to 267 and the reads from 625 to 230 (strace; see bench/RESULTS.md).
 *
 * - **Yamux window updates for small frames, batched.** @chainsafe/libp2p-yamux (8.x) answers
 *   every data frame it receives with a window-update frame. Here a stream sends its update
 *   once 64 KB of its window are used: frames of 64 KB or more (a bulk transfer's) are
 *   acknowledged one by one as before, and grow the window as fast, while a run of small
 *   frames shares one update (a link of small frames alone keeps yamux's 256 KB window). The
 *   sender always keeps three quarters of the smallest window.
 * - **One socket write for a small encrypted chunk.** Noise hands the TCP connection each
 *   message as a 2-byte length and a ciphertext, and @libp2p/tcp (11.x) writes each part on its
 *   own: with Nagle off, two packets. Here the parts of a chunk up to 64 KB are joined and
 *   written at once; larger chunks are written as before (a copy would cost more than a write).
 *
 * Both are made once, to the prototype of the library's class (neither class is exported),
 * when the first link opens, and each is skipped, leaving the library as it is, if the object
 * does not have the shape it was written for.
 *
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";

const PATCHED = Symbol.for("scoop.wireTuning");

type Patchable = Record<string | symbol, unknown>;

/** Replace `proto[name]` once, with `make(original)`; false if `proto` has no such method. */
function patch<F extends (...args: never[]) => unknown>(
  proto: Patchable,
  name: string,
  make: (original: F) => F,
): boolean {
  // Own property only: a set inherited from a patched base class is not this class's.
  const done =
    (Object.hasOwn(proto, PATCHED) ? proto[PATCHED] : (proto[PATCHED] = new Set<string>())) as Set<
      string
    >;
  if (done.has(name)) return true;
  if (!Object.hasOwn(proto, name) || typeof proto[name] !== "function") return false;
  proto[name] = make(proto[name] as F);
  done.add(name);
  return true;
}

/** The fields of a yamux stream the batched update reads. */
interface YamuxStreamLike {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
}

/**
 * Consumed bytes worth a window update: a quarter of yamux's smallest window (256 KB), so the
 * sender always has three quarters of a window of room. A bulk transfer's frames are larger
 * than this, so they are acknowledged one by one as before, and the window grows as fast.
 */
const WINDOW_UPDATE_MIN = 64 * 1024;

/** `StreamState.Established` in @chainsafe/libp2p-yamux. */
const ESTABLISHED = 3;

/** Make the yamux streams of this process batch their window updates. */
export function batchWindowUpdates(stream: Stream): boolean {
  const s = stream as unknown as Partial<YamuxStreamLike>;
  if (
    typeof s.state !== "number" || typeof s.recvWindow !== "number" ||
    typeof s.recvWindowCapacity !== "number"
  ) return false;
  return patch<() => void>(
    Object.getPrototypeOf(stream),
    "sendWindowUpdate",
    (sendNow) =>
      function (this: YamuxStreamLike): void {
        // Opening or acknowledging a stream (other states) carries flags: always at once.
        const used = this.recvWindow - this.recvWindowCapacity;
        if (this.state === ESTABLISHED && used < WINDOW_UPDATE_MIN) return;
        sendNow.call(this);
      },
  );
}

/** A list of byte arrays, as uint8arraylist's `Uint8ArrayList` (what Noise hands down). */
interface ByteList {
  bufs: Uint8Array[];
  byteLength: number;
  subarray(): Uint8Array;
}

/** Chunks up to this size are written at once (see the module's text). */
const JOIN_MAX = 64 * 1024;

function isByteList(data: unknown): data is ByteList {
  const d = data as Partial<ByteList>;
  return Array.isArray(d?.bufs) && typeof d.byteLength === "number" &&
    typeof d.subarray === "function";
}

/** Make the TCP connections of this process write each small chunk they are given at once. */
export function joinSocketWrites(connection: Connection): boolean {
  const maConn = (connection as unknown as { maConn?: object }).maConn;
  if (maConn === undefined) return false;
  return patch<(data: unknown) => unknown>(
    Object.getPrototypeOf(maConn),
    "sendData",
    (send) =>
      function (this: unknown, data: unknown): unknown {
        // The original writes each part of the list it is given: a list of one part, one
        // write. (The same list class, so any transport's sendData reads it as before.)
        if (isByteList(data) && data.bufs.length > 1 && data.byteLength <= JOIN_MAX) {
          const List = data.constructor as new (...bufs: Uint8Array[]) => ByteList;
          return send.call(this, new List(data.subarray()));
        }
        return send.call(this, data);
      },
  );
}
