import { describe, expect, test } from "bun:test";
import type { Stream } from "@libp2p/interface";
import { Uint8ArrayList } from "uint8arraylist";
import { Link } from "../../src/mesh/link.ts";
import { handshakeOf, PROTOCOL_VERSION } from "../../src/mesh/frames.ts";
import type { CoreMessage as Message } from "../../src/core/messages.ts";

/**
 * Two ends of an in-memory byte pipe with the part of libp2p's Stream a Link uses: what one end
 * sends arrives at the other as a "message" event on a later turn, as over a socket. (The mesh
 * itself is tested over real libp2p in tests/integration; this is the framing alone.)
 */
function pipe(split = false): [Stream, Stream, { sends: number }] {
  const counter = { sends: 0 };
  const make = () => {
    const target = new EventTarget() as EventTarget & Record<string, unknown>;
    return target;
  };
  const a = make();
  const b = make();
  const wire = (from: typeof a, to: typeof a) => {
    from.send = (bytes: Uint8Array) => {
      counter.sends++;
      const copy = bytes.slice();
      setTimeout(() => {
        const evt = new Event("message") as Event & { data: Uint8Array | Uint8ArrayList };
        // As libp2p may deliver it: a list of parts, cut anywhere (here: every 3 bytes).
        evt.data = copy;
        if (split) {
          const list = new Uint8ArrayList();
          for (let i = 0; i < copy.byteLength; i += 3) list.append(copy.subarray(i, i + 3));
          evt.data = list;
        }
        to.dispatchEvent(evt);
      }, 0);
      return true;
    };
    from.onDrain = () => Promise.resolve();
    from.close = () => Promise.resolve();
    from.abort = () => {};
  };
  wire(a, b);
  wire(b, a);
  return [a as unknown as Stream, b as unknown as Stream, counter];
}

/** A Link pair; `got` collects each frame's messages as they arrive at the second end. */
function links(split = false, maxFrame?: number) {
  const [sa, sb, counter] = pipe(split);
  const frames: unknown[][] = [];
  const closed: (Error | undefined)[] = [];
  const ignore = { onMessages() {}, onClose() {} };
  const a = new Link("b", sa, ignore, maxFrame);
  const b = new Link("a", sb, {
    onMessages: (_link, messages) => frames.push(messages),
    onClose: (_link, error) => closed.push(error),
  }, maxFrame);
  return { a, b, frames, counter, closed };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

const load = (n: number): Message => ({ t: "load", n });

describe("link framing", () => {
  test("messages queued in one tick leave as one frame, in order", async () => {
    const { a, frames } = links();
    a.send(load(1));
    a.send(load(2));
    await until(() => frames.length > 0);
    expect(frames).toEqual([[load(1), load(2)]]);
  });

  test("frames arriving as lists of parts cut anywhere are read whole", async () => {
    const { a, frames } = links(true);
    a.send({ t: "steal" });
    await until(() => frames.length > 0);
    a.send(load(123456789));
    a.send({ t: "refuse", reason: "x".repeat(1000) });
    await until(() => frames.length > 1);
    expect(frames).toEqual([[{ t: "steal" }], [load(123456789), {
      t: "refuse",
      reason: "x".repeat(1000),
    }]]);
  });

  test("a large frame that arrives in parts lands in shared memory, intact", async () => {
    const { a, frames } = links(true);
    const value = new Uint8Array(100_000).map((_, i) => i % 251);
    a.send({ t: "const", id: 1, name: "big", value });
    await until(() => frames.length > 0);
    const got = (frames[0][0] as { value: Uint8Array }).value;
    expect(got.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(got).equals(Buffer.from(value))).toBe(true);
  });

  test("a large frame is assembled as its parts come, then the next frame in the same part", async () => {
    // What two frames look like on the wire, as a sending Link writes them.
    const sent: Uint8Array[] = [];
    const tx = new EventTarget() as EventTarget & Record<string, unknown>;
    tx.send = (bytes: Uint8Array) => (sent.push(bytes.slice()), true);
    tx.onDrain = () => Promise.resolve();
    tx.close = () => Promise.resolve();
    tx.abort = () => {};
    const sender = new Link("b", tx as unknown as Stream, { onMessages() {}, onClose() {} });
    const value = new Uint8Array(300_000).map((_, i) => i % 253);
    sender.send({ t: "const", id: 1, name: "big", value });
    await until(() => sent.reduce((n, b) => n + b.byteLength, 0) > 300_000);
    sender.send(load(7));
    const before = sent.length;
    await until(() => sent.length > before);
    const wire = new Uint8Array(sent.reduce((n, b) => n + b.byteLength, 0));
    sent.reduce((at, b) => (wire.set(b, at), at + b.byteLength), 0);
    // Delivered as 2 bytes (half a length prefix), then parts of 4,099 bytes: one of them
    // holds the end of the large frame and the start of the small one.
    const rx = new EventTarget() as EventTarget & Record<string, unknown>;
    const frames: unknown[][] = [];
    const closed: (Error | undefined)[] = [];
    new Link("a", rx as unknown as Stream, {
      onMessages: (_link, messages) => frames.push(messages),
      onClose: (_link, error) => closed.push(error),
    });
    const deliver = (data: Uint8Array) => {
      const evt = new Event("message") as Event & { data: Uint8Array };
      evt.data = data;
      rx.dispatchEvent(evt);
    };
    deliver(wire.subarray(0, 2));
    for (let i = 2; i < wire.byteLength; i += 4099) deliver(wire.subarray(i, i + 4099));
    expect(closed).toEqual([]);
    expect(frames.length).toBe(2);
    const got = (frames[0][0] as { value: Uint8Array }).value;
    expect(got.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(got).equals(Buffer.from(value))).toBe(true);
    expect(frames[1]).toEqual([load(7)]);
  });

  test("messages that add up to more than a frame may carry leave in several frames", async () => {
    const { a, frames, closed } = links(true, 1_000_000);
    const big = (id: number) => ({ t: "const", id, name: "x", value: new Uint8Array(600_000) });
    a.send(big(1) as Message, true);
    a.send(big(2) as Message, true);
    a.send(load(3));
    await until(() => frames.flat().length === 3);
    expect(closed).toEqual([]);
    expect(frames.length).toBeGreaterThan(1);
    expect(
      frames.flat().map((m) => (m as { id?: number; n?: number }).id ?? (m as { n: number }).n),
    )
      .toEqual([1, 2, 3]);
  });

  test("a lazy message alone still arrives", async () => {
    const { a, frames } = links();
    a.send(load(7), true);
    await until(() => frames.length > 0);
    expect(frames).toEqual([[load(7)]]);
  });

  test("lazy messages ride with the next eager one, in order, in one frame", async () => {
    const { a, frames, counter } = links();
    a.send(load(1), true);
    a.send(load(2), true);
    await new Promise((r) => setImmediate(r)); // a turn passes: no frame for lazy ones
    expect(counter.sends).toBe(0);
    a.send(load(3));
    await until(() => frames.length > 0);
    expect(frames).toEqual([[load(1), load(2), load(3)]]);
    expect(counter.sends).toBe(1);
  });

  test("close sends what is queued, lazy or not", async () => {
    const { a, frames } = links();
    a.send(load(4), true);
    await a.close();
    await until(() => frames.length > 0);
    expect(frames).toEqual([[load(4)]]);
  });
});

describe("handshake", () => {
  const hello = {
    t: "hello",
    peer: "12D3KooWabc",
    grid: "scoop",
    proto: PROTOCOL_VERSION,
    app: "hash",
    origin: false,
    addrs: [],
    load: 0,
    host: "h1",
    pid: 7,
  };

  test("a hello of this version is checked whole", () => {
    expect(handshakeOf(hello)).toEqual(hello);
    expect(() => handshakeOf({ ...hello, host: 5 })).toThrow(/hello\.host must be a string/);
  });

  test("a hello of another version passes, to be refused for its version, not as malformed", () => {
    const old = { t: "hello", peer: "12D3KooWold", grid: "scoop", proto: PROTOCOL_VERSION - 1 };
    expect(handshakeOf(old)).toEqual(old);
  });
});
