import { describe, expect, test } from "bun:test";
import { pickVictim, stealCount, worthGossiping } from "../../src/scheduler/policy.ts";

describe("steal policy", () => {
  test("never picks a peer with nothing to steal", () => {
    const loads = new Map([["a", 0], ["b", 5], ["c", 0]]);
    for (const r of [0, 0.3, 0.99]) expect(pickVictim(loads, () => r)).toBe("b");
    expect(pickVictim(new Map([["a", 0]]))).toBeUndefined();
    expect(pickVictim(new Map())).toBeUndefined();
  });

  test("is biased toward loaded peers in proportion to their load", () => {
    const loads = new Map([["light", 1], ["heavy", 3]]);
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let heavy = 0;
    for (let i = 0; i < 4000; i++) if (pickVictim(loads, random) === "heavy") heavy++;
    expect(heavy / 4000).toBeGreaterThan(0.7);
    expect(heavy / 4000).toBeLessThan(0.8);
  });

  test.each([[0, 0], [1, 1], [2, 1], [3, 2], [10, 5], [11, 6]])(
    "steals half, rounded up: %d queued → %d",
    (queued, taken) => expect(stealCount(queued)).toBe(taken),
  );

  test.each([
    [0, 0, false],
    [3, 3, false],
    [0, 1, true],
    [5, 0, true],
    [4, 7, false],
    [4, 8, true],
    [8, 4, true],
    [8, 5, false],
  ])("gossip from %d to %d: %p", (sent, now, worth) => {
    expect(worthGossiping(sent, now)).toBe(worth);
  });
});

describe("pickVictim with a minimum load", () => {
  test("peers below the minimum are never picked", () => {
    const loads = new Map([["a", 1], ["b", 3]]);
    for (const r of [0, 0.3, 0.99]) expect(pickVictim(loads, () => r, 2)).toBe("b");
    expect(pickVictim(new Map([["a", 1]]), () => 0.5, 2)).toBeUndefined();
  });
});
