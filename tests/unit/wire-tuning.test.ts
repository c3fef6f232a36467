import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Connection, Stream } from "@libp2p/interface";
import type { Libp2p } from "libp2p";
import { createNode, stopNode } from "../../src/mesh/node.ts";
import { batchWindowUpdates, joinSocketWrites } from "../../src/mesh/wire-tuning.ts";

/**
 * The two write-path changes, on two real libp2p nodes of this process over loopback TCP (the
 * same stack as the mesh: TCP, Noise, Yamux). They patch library classes for the whole process;
 * every link of every other test uses them too.
 */
const PROTOCOL = "/scoop-test/wire/1";
const FRAME_WINDOW_UPDATE = 1; // yamux FrameType.WindowUpdate

let a: Libp2p;
let b: Libp2p;
let sender: Stream;
let receiver: Stream;
let connection: Connection;
const received: Uint8Array[] = [];
let receivedBytes = 0;
/** Window-update frames the receiving side sent (its stream's frames, by type). */
let windowUpdates = 0;
let onReceive = () => {};

beforeAll(async () => {
  const key = new Uint8Array(32).fill(7);
  [a, b] = await Promise.all([createNode({ key }), createNode({ key })]);
  const accepted = Promise.withResolvers<Stream>();
  await b.handle(PROTOCOL, (stream) => accepted.resolve(stream));
  connection = await a.dial(b.getMultiaddrs()[0]);
  sender = await connection.newStream(PROTOCOL);
  sender.send(new Uint8Array([1])); // opens the stream on the other side
  receiver = await accepted.promise;
  receiver.addEventListener("message", (evt) => {
    const data = evt.data;
    const chunk = data instanceof Uint8Array ? data : data.subarray();
    received.push(chunk);
    receivedBytes += chunk.byteLength;
    onReceive();
  });
  // Count the frames of the receiving stream by type (an instance field: this stream only).
  const r = receiver as unknown as { sendFrame: (h: { type: number }, d?: unknown) => unknown };
  const sendFrame = r.sendFrame;
  r.sendFrame = (header, data) => {
    if (header.type === FRAME_WINDOW_UPDATE) windowUpdates++;
    return sendFrame(header, data);
  };
});

afterAll(async () => {
  await Promise.all([stopNode(a), stopNode(b)]);
});

/** Resolves once `n` bytes in all have arrived (the first, opening byte included). */
function receivedAtLeast(n: number): Promise<void> {
  return new Promise((resolve) => {
    onReceive = () => {
      if (receivedBytes >= n) resolve();
    };
    onReceive();
  });
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("libp2p's write path, tuned", () => {
  test("both changes recognise the classes of the libp2p in use", () => {
    expect(batchWindowUpdates(receiver)).toBe(true);
    expect(batchWindowUpdates(sender)).toBe(true);
    expect(joinSocketWrites(connection)).toBe(true);
  });

  test("small frames share window updates, and each leaves in one socket write", async () => {
    const socket = (connection as unknown as { maConn: { socket: { write: unknown } } }).maConn
      .socket as { write: (...args: unknown[]) => boolean };
    const write = socket.write;
    let writes = 0;
    socket.write = function (this: unknown, ...args: unknown[]) {
      writes++;
      return write.apply(this, args);
    };
    try {
      const before = windowUpdates;
      const start = receivedBytes;
      // 100 frames of 100 bytes, each in a turn of its own (no two in one write).
      for (let i = 0; i < 100; i++) {
        sender.send(new Uint8Array(100).fill(i));
        await nextTurn();
      }
      await receivedAtLeast(start + 100 * 100);
      // Unchanged, the receiver answers each frame with a window update, and each frame takes
      // two writes (Noise's length, then the ciphertext).
      expect(windowUpdates - before).toBe(0);
      // (Unchanged it takes 200; the margin is for a stray control frame, such as a keepalive.)
      expect(writes).toBeLessThan(150);
      expect(writes).toBeGreaterThanOrEqual(1);
    } finally {
      socket.write = write;
    }
  });

  test("a bulk transfer far beyond the window arrives whole and in order", async () => {
    const before = windowUpdates;
    const start = receivedBytes;
    const from = received.length;
    const size = 6 * 1024 * 1024; // 24 initial windows
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i++) big[i] = (i * 31 + 7) & 0xff;
    // In slices as a link sends them, each after the stream has room for it.
    for (let at = 0; at < size; at += 256 * 1024) {
      if (!sender.send(big.subarray(at, at + 256 * 1024))) await sender.onDrain();
    }
    await receivedAtLeast(start + size);
    const got = new Uint8Array(size);
    let off = 0;
    for (const chunk of received.slice(from)) {
      got.set(chunk, off);
      off += chunk.byteLength;
    }
    expect(off).toBe(size);
    expect(Buffer.compare(got, big)).toBe(0);
    // The window was opened again (the sender stops after 256 KB without an update); yamux
    // grows it as it goes, so a few updates suffice.
    expect(windowUpdates - before).toBeGreaterThanOrEqual(1);
  });
});
