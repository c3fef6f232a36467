/**
 * Frames a hostile or broken peer could send, for the fuzz tests (`tests/unit/fuzz.test.ts`
 * through a Link in memory, `tests/integration/fuzz.test.ts` to a live peer): random bytes,
 * random MessagePack values, every message of the protocol made valid and then mutated (bits
 * flipped, bytes replaced, inserted or cut), and length prefixes past the frame limit. Each
 * generated frame is whole: its 4-byte length prefix says how many bytes follow (except the
 * oversize ones, which a peer must refuse from the prefix alone).
 */
import fc from "fast-check";
import { encodeFrame, encodeFrameParts, encodeValue } from "../../src/codec/mod.ts";
import type { CoreMessage } from "../../src/core/messages.ts";
import { PROTOCOL_VERSION } from "../../src/mesh/frames.ts";
import { ResultBuilder } from "../../src/results/batch.ts";
import { BlockBuilder } from "../../src/scheduler/block.ts";

/** `body` with its length prefix. */
export function framed(body: Uint8Array, length = body.byteLength): Uint8Array {
  const out = new Uint8Array(4 + body.byteLength);
  new DataView(out.buffer).setUint32(0, length);
  out.set(body, 4);
  return out;
}

/** The body of a frame carrying `messages`, as a peer sends it (out-of-band parts joined). */
export function frameBody(messages: unknown[]): Uint8Array {
  const parts = encodeFrameParts(messages);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A hello from `peer` for grid `grid` (with an app hash no peer has, unless given). */
export function hello(peer: string, grid = "scoop", app = "f".repeat(64)) {
  return {
    t: "hello",
    peer,
    grid,
    proto: PROTOCOL_VERSION,
    app,
    origin: false,
    addrs: ["/ip4/127.0.0.1/tcp/1"],
    load: 0,
    host: "fuzz",
    pid: 1,
  };
}

/** One valid message of every type, as they go on the wire (block columns as raw bytes). */
export function validMessages(peer: string): unknown[] {
  const tasks = new BlockBuilder(peer);
  tasks.add(1, "inc", encodeValue([1], "args"));
  tasks.add(2, "inc", encodeValue([2], "args"));
  const b = tasks.finish();
  const wireBlock = {
    owner: b.owner,
    names: b.names,
    seqs: new Uint8Array(b.seqs.buffer),
    kinds: b.kinds,
    data: b.data,
    ends: new Uint8Array(b.ends.buffer),
  };
  const rb = new ResultBuilder();
  rb.add(1, 1, encodeValue(2, "result"));
  rb.add(2, 0, encodeValue({ name: "Error", message: "no" }, "result"));
  const r = rb.finish();
  const wireResults = {
    keys: new Uint8Array(r.keys.buffer),
    oks: r.oks,
    data: r.data,
    ends: new Uint8Array(r.ends.buffer),
  };
  const messages: (CoreMessage | Record<string, unknown>)[] = [
    { t: "resume", got: 0 },
    { t: "ack", got: 3 },
    { t: "ping", every: 500 },
    { t: "load", n: 4 },
    { t: "steal" },
    { t: "tasks", blocks: [wireBlock], load: 1 },
    { t: "results", r: wireResults },
    { t: "relay", owner: peer, r: wireResults },
    { t: "done", owner: peer, seqs: [1, 2] },
    { t: "started", seqs: [1] },
    { t: "cancel", owner: peer, seqs: [2] },
    { t: "const", wave: `${peer}/1`, entries: [["k", encodeValue(5, "constant k")]] },
    { t: "constAck", wave: `${peer}/1` },
    { t: "peers", peers: [[peer, ["/ip4/127.0.0.1/tcp/1"]]], reply: false, origin: peer },
    { t: "prune" },
    { t: "probe", peer },
    { t: "vouch", peer },
    { t: "lost", peers: [peer] },
    { t: "lost", peers: [], left: [peer] },
    { t: "bye" },
    { t: "beat", n: 1, every: 2000 },
    hello(peer),
    { t: "refuse", reason: "no" },
  ];
  return messages;
}

/** One mutation of `bytes` (never in place). */
const mutation = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> => {
  const n = Math.max(1, bytes.byteLength);
  const at = fc.nat({ max: n - 1 });
  return fc.oneof(
    // flip one bit
    fc.tuple(at, fc.nat({ max: 7 })).map(([i, bit]) => {
      const out = bytes.slice();
      out[i] ^= 1 << bit;
      return out;
    }),
    // replace a byte
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
      const out = bytes.slice();
      out[i] = v;
      return out;
    }),
    // cut the end off
    at.map((i) => bytes.slice(0, i)),
    // insert random bytes
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, ins]) => {
      const out = new Uint8Array(bytes.byteLength + ins.byteLength);
      out.set(bytes.subarray(0, i));
      out.set(ins, i);
      out.set(bytes.subarray(i), i + ins.byteLength);
      return out;
    }),
    // drop a range
    fc.tuple(at, fc.nat({ max: 16 })).map(([i, k]) => {
      const j = Math.min(bytes.byteLength, i + k);
      const out = new Uint8Array(bytes.byteLength - (j - i));
      out.set(bytes.subarray(0, i));
      out.set(bytes.subarray(j), i);
      return out;
    }),
  );
};

/**
 * Bad frames, whole (length prefix included).
 * @param peer the sender's id, as its messages name it
 * @param maxFrame the receiver's frame limit (oversize prefixes go past it)
 * @param first messages that may come first in a mutated frame (a hello, on a new link)
 */
export function badFrame(
  peer: string,
  maxFrame: number,
  first: unknown[] = [],
): fc.Arbitrary<Uint8Array> {
  const valid = validMessages(peer).map((m) => frameBody([...first, m]));
  const mutated = fc.constantFrom(...valid).chain((body) =>
    fc.array(fc.constant(0), { minLength: 1, maxLength: 3 }).chain((rounds) =>
      rounds.reduce<fc.Arbitrary<Uint8Array>>((arb) => arb.chain(mutation), fc.constant(body))
    )
  );
  // A value that is not a message list (or a list of things that are not messages).
  const junkValue = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 4 }),
    fc.array(
      fc.record({
        t: fc.constantFrom("hello", "tasks", "results", "peers", "x"),
        v: fc.jsonValue(),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  ).map((v) => encodeFrame(v as unknown[]));
  const oversize = fc.tuple(
    fc.integer({ min: maxFrame + 1, max: 0xffffffff }),
    fc.uint8Array({ maxLength: 16 }),
  ).map(([length, body]) => framed(body, length));
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => framed(b)), weight: 2 },
    { arbitrary: junkValue.map((b) => framed(b)), weight: 2 },
    { arbitrary: mutated.map((b) => framed(b)), weight: 5 },
    { arbitrary: oversize, weight: 1 },
  );
}
