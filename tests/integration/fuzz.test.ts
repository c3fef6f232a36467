/**
 * Fuzz of a live peer over real libp2p: processes holding the grid key (so past Noise) open a
 * stream to the origin of a 2-peer grid for each of FRAMES random and mutated frames
 * (tests/fuzz/frames.ts). Every one must be turned away — closed as hostile, or refused — with
 * one line each in the peer's log, and the grid must then run a job on both peers, exactly.
 * Frames past the handshake are fuzzed in memory (tests/unit/fuzz.test.ts): a stranger that
 * says hello with the right app hash becomes a member, which the live grid should not have.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { multiaddr } from "@multiformats/multiaddr";
import fc from "fast-check";
import type { Connection, Stream } from "@libp2p/interface";
import type { Libp2p } from "libp2p";
import { configuredKey } from "../../src/launcher/secret.ts";
import { PROTOCOL } from "../../src/mesh/frames.ts";
import { createNode, stopNode } from "../../src/mesh/node.ts";
import { badFrame } from "../fuzz/frames.ts";
import { FIXTURES, lastJson, noneLeft, scratch, start } from "./_harness.ts";

const FIXTURE = join(FIXTURES, "api-fixture.ts");
/** Frames in all, over SENDERS processes' worth of connections (each its own peer id). */
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SENDERS = 4;
const MAX_FRAME = 1024 * 1024;
const { dir, secret, cleanup } = scratch("fuzz", "b1");

afterAll(cleanup);

/** Send `frame` on a new stream, and wait until the peer has closed it. */
/**
 * A connection to `addr`: a handshake can time out on a machine busy starting the grid (seen
 * once in CI under other load), so it is tried three times.
 */
async function dialed(node: Libp2p, addr: string): Promise<Connection> {
  for (let attempt = 1;; attempt++) {
    try {
      return await node.dial(multiaddr(addr));
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

async function sendOne(connection: Connection, frame: Uint8Array): Promise<void> {
  // Optimistic: the protocol and the frame leave together, without waiting for a round trip.
  const stream: Stream = await connection.newStream(PROTOCOL, { negotiateFully: false });
  const closed = new Promise<void>((resolve) => {
    stream.addEventListener("close", () => resolve(), { once: true });
    stream.addEventListener("remoteCloseWrite", () => resolve(), { once: true });
  });
  stream.send(frame);
  await closed;
  stream.abort(new Error("done"));
}

describe("fuzz: a live peer", () => {
  test(
    `${
      FRAMES.toLocaleString("en")
    } random and mutated frames: each turned away once; the grid works`,
    async () => {
      const marker = join(dir, "fuzzed");
      const origin = start([
        "-v",
        "-n",
        "2",
        "--secret-file",
        secret,
        "--max-frame",
        "1M",
        FIXTURE,
        "fuzzTarget",
        marker,
        "200",
      ]);
      const [, addr] = await origin.waitFor(/listening on (\/ip4\/\S+\/p2p\/\S+)/);
      const key = configuredKey(secret)!;
      const senders = await Promise.all(
        Array.from({ length: SENDERS }, () => createNode({ key, listen: [] })),
      );
      const sent = new Map<string, number>();
      try {
        await Promise.all(senders.map(async (node, s) => {
          const id = node.peerId.toString();
          const connection = await dialed(node, addr);
          const frames = fc.sample(badFrame(id, MAX_FRAME), {
            numRuns: FRAMES / SENDERS,
            seed: 7 + s,
          });
          for (const frame of frames) await sendOne(connection, frame);
          sent.set(id, frames.length);
        }));
      } finally {
        await Promise.all(senders.map((node) => stopNode(node)));
      }
      writeFileSync(marker, "");
      expect(await origin.exited).toBe(0);
      // The grid still works, on both peers.
      expect(lastJson(origin.stdout)).toEqual({ exact: true, peers: 2 });
      // Each frame was turned away once: closed as hostile, or refused (a hello gone wrong).
      for (const [id, n] of sent) {
        const lines = origin.stderr.split("\n").filter((l) =>
          l.includes(`Closing link to ${id}: `) || l.includes(`Refused peer ${id}: `) ||
          l.includes(`Peer ${id} refused this peer`)
        );
        expect(lines.length).toBe(n);
      }
      expect(origin.stderr).toContain("exceeds the limit of 1048576"); // --max-frame 1M
      expect(origin.stderr).not.toMatch(/uncaught|panic|Segmentation|RangeError: Maximum/i);
      expect(await noneLeft(origin.tag)).toEqual([]);
    },
    600_000,
  );
});
