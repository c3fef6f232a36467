/**
 * Fuzz of what a linked peer may send, in memory: at least 100,000 random and mutated frames
 * (tests/fuzz/frames.ts) go through a real Link into the same validation a peer runs on every
 * message (`validateMessage`). None may throw out of the link, and each frame either delivers
 * only well-formed messages or closes its link with a ProtocolError — once, with one log line.
 * (tests/integration/fuzz.test.ts sends them to a live peer over libp2p.)
 */
import { describe, expect, test } from "bun:test";
import process from "node:process";
import type { Stream } from "@libp2p/interface";
import fc from "fast-check";
import { validateMessage } from "../../src/core/messages.ts";
import { ProtocolError } from "../../src/errors.ts";
import { configureLog } from "../../src/log.ts";
import { Link } from "../../src/mesh/link.ts";
import { badFrame, frameBody, framed, validMessages } from "../fuzz/frames.ts";

const PEER = "12D3KooWFuzzer";
const MAX_FRAME = 64 * 1024;
const RUNS = 100_000;

/** The receiving end of a stream: bytes go in by `receive`; what the link does is recorded. */
function fakeStream() {
  const target = new EventTarget() as EventTarget & Record<string, unknown>;
  const seen = { aborts: 0, closes: 0 };
  target.send = () => true;
  target.onDrain = () => Promise.resolve();
  target.close = () => {
    seen.closes++;
    return Promise.resolve();
  };
  target.abort = () => {
    seen.aborts++;
  };
  const receive = (bytes: Uint8Array) => {
    const evt = new Event("message") as Event & { data: Uint8Array };
    evt.data = bytes;
    target.dispatchEvent(evt);
  };
  return { stream: target as unknown as Stream, receive, seen };
}

/** Feed `bytes` to a fresh link that validates like a peer; what happened. */
function feed(bytes: Uint8Array) {
  const { stream, receive, seen } = fakeStream();
  const closed: (Error | undefined)[] = [];
  let delivered = 0;
  new Link(PEER, stream, {
    onMessages: (_l, messages) => {
      for (const m of messages) validateMessage(m); // throws on a malformed one: link closes
      delivered += messages.length;
    },
    onClose: (_l, error) => closed.push(error),
  }, MAX_FRAME);
  receive(bytes);
  return { closed, delivered, seen };
}

describe("fuzz: frames from a linked peer", () => {
  test("every valid message is delivered as it was sent", () => {
    for (const m of validMessages(PEER)) {
      if ((m as { t: string }).t === "hello" || (m as { t: string }).t === "refuse") continue;
      const r = feed(framed(frameBody([m])));
      expect(r).toMatchObject({ delivered: 1, closed: [] });
    }
  });

  test(
    `${
      RUNS.toLocaleString("en")
    } random and mutated frames: none throws; each bad one closes its link once`,
    () => {
      const lines: string[] = [];
      configureLog({ sink: (line) => lines.push(line) });
      let bad = 0;
      let good = 0;
      try {
        fc.assert(
          fc.property(badFrame(PEER, MAX_FRAME), (bytes) => {
            const before = lines.length;
            const r = feed(bytes); // a throw here fails the property
            if (r.closed.length === 0) {
              // Still well-formed (a mutation inside a payload, say): delivered, link open.
              good++;
              return r.delivered > 0 && r.seen.aborts === 0 && lines.length === before;
            }
            bad++;
            return r.closed.length === 1 && r.closed[0] instanceof ProtocolError &&
              r.seen.aborts === 1 && lines.length === before + 1 &&
              lines[before].includes(`Closing link to ${PEER}: `);
          }),
          { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 1) },
        );
      } finally {
        configureLog({ sink: (line) => process.stderr.write(line + "\n") });
      }
      expect(bad + good).toBe(RUNS);
      // Most mutations break the frame; the check above holds for those that do not.
      expect(bad).toBeGreaterThan(RUNS / 2);
      process.stderr.write(
        `fuzz: ${bad} bad frames closed their link, ${good} still well-formed\n`,
      );
    },
    300_000,
  );
});
