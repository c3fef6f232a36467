import { describe, expect, test } from "bun:test";
import { TaskDeque, type TaskRecord } from "../../src/scheduler/deque.ts";
import { pickVictim, stealCount, worthGossiping } from "../../src/scheduler/policy.ts";

const rec = (seq: number): TaskRecord => ({ owner: "me", seq, name: "t", args: new Uint8Array() });
const seqs = (rs: (TaskRecord | undefined)[]) => rs.map((r) => r?.seq);

describe("TaskDeque", () => {
  test("the worker takes the newest, thieves the oldest", () => {
    const d = new TaskDeque();
    for (let i = 0; i < 10; i++) d.push(rec(i));
    expect(d.length).toBe(10);
    expect(d.pop()?.seq).toBe(9);
    expect(seqs(d.shift(3))).toEqual([0, 1, 2]);
    expect(d.length).toBe(6);
    expect(seqs(d.drain())).toEqual([3, 4, 5, 6, 7, 8]);
    expect(d.pop()).toBeUndefined();
    expect(d.shift(5)).toEqual([]);
  });

  test("grows past its initial capacity and keeps order across wrap-around", () => {
    const d = new TaskDeque();
    let next = 0;
    const model: number[] = [];
    // Interleave pushes, pops and steals so head wraps around many times.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 7; i++) {
        d.push(rec(next));
        model.push(next++);
      }
      expect(d.pop()?.seq).toBe(model.pop());
      const stolen = d.shift(3);
      expect(seqs(stolen)).toEqual(model.splice(0, 3));
    }
    expect(d.length).toBe(model.length);
    expect(seqs(d.drain())).toEqual(model);
  });

  test("unshift puts a task where thieves look first", () => {
    const d = new TaskDeque();
    d.push(rec(1));
    d.unshift(rec(0));
    expect(seqs(d.shift(1))).toEqual([0]);
  });

  test("killed tasks are skipped at both ends and not counted", () => {
    const d = new TaskDeque();
    const rs = Array.from({ length: 6 }, (_, i) => rec(i));
    for (const r of rs) d.push(r);
    expect(d.kill(rs[0])).toBe(true);
    expect(d.kill(rs[5])).toBe(true);
    expect(d.kill(rs[5])).toBe(false);
    expect(d.length).toBe(4);
    expect(d.pop()?.seq).toBe(4);
    expect(seqs(d.shift(2))).toEqual([1, 2]);
    expect(d.kill(rs[1])).toBe(false); // no longer queued
    expect(seqs(d.drain())).toEqual([3]);
    expect(d.length).toBe(0);
  });
});

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
