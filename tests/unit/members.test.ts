/** The lines that tell of peers joining, leaving, lost or refused, and which the origin shows. */
import { describe, expect, test } from "bun:test";
import type { MemberChange } from "../../src/core/events.ts";
import { describeMember, describeRefusal, hostOf, shortId } from "../../src/peer/members.ts";
import { type LauncherView, MemberNotices } from "../../src/launcher/notices.ts";

const ID = "12D3KooWQmExampleabcdef";
const OTHER = "12D3KooWAnotherOne123456";

describe("lines", () => {
  test.each<[MemberChange, Parameters<typeof describeMember>[1], string]>([
    [
      { kind: "joined", peer: ID, addrs: ["/ip4/10.0.0.2/tcp/4001"], size: 4 },
      { host: "10.0.0.2", here: "lab1" },
      "peer 12D3…abcdef joined (host 10.0.0.2, 4 peers)",
    ],
    [
      { kind: "joined", peer: ID, addrs: [], size: 2 },
      { host: "lab1", here: "lab1" },
      "peer 12D3…abcdef joined (this host, 2 peers)",
    ],
    [{ kind: "left", peer: ID, size: 1, requeued: 0 }, {}, "peer 12D3…abcdef left (1 peer)"],
    [
      { kind: "left", peer: ID, size: 3, requeued: 2 },
      {},
      "peer 12D3…abcdef left (3 peers); 2 of its tasks run elsewhere",
    ],
    [
      { kind: "lost", peer: ID, size: 3, requeued: 5, why: "silent 2.3 s" },
      {},
      "peer 12D3…abcdef lost: silent 2.3 s (3 peers); 5 of its tasks run elsewhere",
    ],
    [
      { kind: "lost", peer: ID, size: 3, requeued: 0, why: "", from: OTHER },
      {},
      "peer 12D3…abcdef lost: word from 12D3…123456 (3 peers)",
    ],
    [
      { kind: "lost", peer: ID, size: 3, requeued: 0, why: "its link closed, unreachable 0.8 s" },
      { fullIds: true },
      `peer ${ID} lost: its link closed, unreachable 0.8 s (3 peers)`,
    ],
  ])("%j", (change, options, line) => {
    expect(describeMember(change, options)).toBe(line);
  });

  test("refusals name the peer, or the address when no hello came; ids are short", () => {
    expect([
      describeRefusal({ peer: ID }, 'it belongs to grid "b", this peer to "a"'),
      describeRefusal({ ip: "127.0.0.1" }, "its handshake failed: another grid key?"),
      shortId("short"),
    ]).toEqual([
      'refused peer 12D3…abcdef: it belongs to grid "b", this peer to "a"',
      "refused a connection from 127.0.0.1: its handshake failed: another grid key?",
      "short",
    ]);
  });

  test("a peer's host: its hello's, else its first address's IP", () => {
    expect([
      hostOf(["/ip4/10.0.0.2/tcp/1"], { host: "n2", pid: 9 }),
      hostOf(["/dns4/x/tcp/1", "/ip6/::1/tcp/1"]),
      hostOf([]),
    ]).toEqual(["n2", "::1", undefined]);
  });
});

describe("what the origin shows", () => {
  function notices(view: Partial<LauncherView> = {}) {
    return new MemberNotices({
      here: "lab1",
      started: (pid) => pid === 100,
      toldExit: () => false,
      startingElsewhere: () => false,
      ...view,
    });
  }
  const joined: MemberChange = {
    kind: "joined",
    peer: ID,
    addrs: ["/ip4/10.0.0.2/tcp/1"],
    size: 3,
  };
  const lost: MemberChange = { kind: "lost", peer: ID, size: 2, requeued: 1, why: "silent 2.3 s" };

  test("joins of peers it did not start, at any time; of its own, never", () => {
    const n = notices();
    expect([
      n.line(joined, { host: "lab1", pid: 100 }),
      n.line(joined, { host: "lab1", pid: 200 }),
      n.line(joined, { host: "lab2", pid: 100 }),
      n.line(joined),
    ]).toEqual([
      undefined,
      "peer 12D3…abcdef joined (this host, 3 peers)",
      "peer 12D3…abcdef joined (host lab2, 3 peers)",
      "peer 12D3…abcdef joined (host 10.0.0.2, 3 peers)",
    ]);
  });

  test("joins from other hosts wait while the peers it started there are still coming", () => {
    const n = notices({ startingElsewhere: () => true });
    expect([n.line(joined, { host: "lab2", pid: 7 }), n.line(joined, { host: "lab1", pid: 7 })])
      .toEqual([undefined, "peer 12D3…abcdef joined (this host, 3 peers)"]);
  });

  test("one line per death: none for a peer of its own whose exit it told of", () => {
    const told = notices({ toldExit: (pid) => pid === 100 });
    expect([
      told.line(lost, { host: "lab1", pid: 100 }),
      told.line(lost, { host: "lab1", pid: 101 }),
      told.line({ kind: "left", peer: ID, size: 2, requeued: 0 }),
    ]).toEqual([
      undefined,
      "peer 12D3…abcdef lost: silent 2.3 s (2 peers); 1 of its tasks run elsewhere",
      "peer 12D3…abcdef left (2 peers)",
    ]);
  });
});
