import { describe, expect, test } from "bun:test";
import { decodeFrame, encodeFrame } from "../../src/codec/mod.ts";
import { ProtocolError } from "../../src/errors.ts";
import { SeqMap } from "../../src/executor/seq-map.ts";
import {
  type CoreMessage as Message,
  validateMessage as validate,
} from "../../src/core/messages.ts";
import { payloadOf, resultBuffers, ResultBuilder } from "../../src/results/batch.ts";
import { HANDED, LENT, NONE, QUEUED, ResultTable } from "../../src/results/table.ts";
import {
  argsOf,
  blockBuffers,
  BlockBuilder,
  freshBytes,
  isShared,
  recordOf,
  SHARED_MIN_BYTES,
  sliceBlock,
  type TaskBlock,
} from "../../src/scheduler/block.ts";
import { TaskDeque } from "../../src/scheduler/deque.ts";

/** A block of `owner` with the given seqs; task `s` has name "t<s % 2>" and args [s, s]. */
function block(owner: string, seqs: number[]): TaskBlock {
  const b = new BlockBuilder(owner);
  for (const s of seqs) b.add(s, `t${s % 2}`, new Uint8Array([s, s]));
  return b.finish();
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** The newest live task's seq, taken the way the executor gets it. */
const pop = (d: TaskDeque) => d.take(1)[0]?.seqs[0];
const liveSeqs = (bs: TaskBlock[]) => bs.flatMap((b) => [...b.seqs].filter((s) => s >= 0));

describe("task blocks", () => {
  test("a built block holds every task by column", () => {
    const b = block("me", [4, 5, 6]);
    expect(b.names).toEqual(["t0", "t1"]);
    expect([...b.kinds]).toEqual([0, 1, 0]);
    expect([...b.ends]).toEqual([2, 4, 6]);
    expect(recordOf(b, 1)).toEqual({ owner: "me", seq: 5, name: "t1", args: argsOf(b, 1) });
    expect([...argsOf(b, 2)]).toEqual([6, 6]);
  });

  test("a slice is an independent, compact copy", () => {
    const b = block("me", [1, 2, 3, 4]);
    const s = sliceBlock(b, 1, 3);
    expect([...s.seqs]).toEqual([2, 3]);
    expect([...s.ends]).toEqual([2, 4]);
    expect([...argsOf(s, 1)]).toEqual([3, 3]);
    expect(s.data.byteLength).toBe(4);
    b.seqs[1] = -1;
    expect(s.seqs[0]).toBe(2);
    expect(sliceBlock(b, 2, 2).seqs.length).toBe(0);
  });

  test("a slice of a block whose data is a Node Buffer is still a copy", () => {
    const b = block("me", [1, 2, 3]);
    const onWire = { ...b, data: Buffer.from(b.data.buffer, 0, b.data.byteLength) };
    const s = sliceBlock(onWire, 1, 3);
    expect(s.data.buffer).not.toBe(onWire.data.buffer);
    expect(s.data.byteLength).toBe(s.data.buffer.byteLength);
  });

  test("large arguments go to shared memory, and slices share them instead of copying", () => {
    const big = new Uint8Array(SHARED_MIN_BYTES).fill(7);
    const b = new BlockBuilder("me", true);
    b.add(1, "f", big);
    b.add(2, "f", new Uint8Array([1, 2]));
    const built = b.finish();
    expect(isShared(built.data)).toBe(true);
    const s = sliceBlock(built, 1, 2);
    expect(s.data.buffer).toBe(built.data.buffer); // shared, not copied
    expect([...argsOf(s, 0)]).toEqual([1, 2]);
    expect(s.seqs.buffer).not.toBe(built.seqs.buffer); // the other columns are copies
    // Only what is not shared is transferred to another thread.
    expect(blockBuffers(s)).toEqual([s.seqs.buffer, s.kinds.buffer, s.ends.buffer]);
    // Small arguments stay in ordinary memory, even when asked to share.
    const small = new BlockBuilder("me", true);
    small.add(1, "f", new Uint8Array([1]));
    expect(isShared(small.finish().data)).toBe(false);
    expect(isShared(freshBytes(SHARED_MIN_BYTES - 1, true))).toBe(false);
  });

  test("a lone result in shared memory is passed on as it is, and not transferred", () => {
    const payload = freshBytes(SHARED_MIN_BYTES, true);
    const r = new ResultBuilder();
    r.add(5, 1, payload);
    const batch = r.finish();
    expect(batch.data).toBe(payload);
    expect(resultBuffers(batch)).not.toContain(payload.buffer);
    // An ordinary one is joined into a buffer of its own, which is transferred.
    r.add(6, 1, new Uint8Array(10));
    const plain = r.finish();
    expect(resultBuffers(plain)).toContain(plain.data.buffer);
  });
});

describe("TaskDeque", () => {
  test("the executor takes the newest, thieves the oldest", () => {
    const d = new TaskDeque();
    d.push(block("a", range(0, 5)));
    d.push(block("a", range(5, 10)));
    expect(d.length).toBe(10);
    expect(pop(d)).toBe(9);
    expect(liveSeqs(d.shift(3))).toEqual([0, 1, 2]);
    expect(d.length).toBe(6);
    expect(liveSeqs(d.shift(4))).toEqual([3, 4, 5, 6]); // across two blocks
    expect(liveSeqs(d.drain())).toEqual([7, 8]);
    expect(pop(d)).toBeUndefined();
    expect(d.shift(5)).toEqual([]);
    expect(d.length).toBe(0);
  });

  test("keeps order over many interleaved pushes, pops and steals", () => {
    const d = new TaskDeque();
    const model: number[] = [];
    let next = 0;
    for (let round = 0; round < 300; round++) {
      const seqs = range(next, next += 1 + (round % 7));
      d.push(block("a", seqs));
      model.push(...seqs);
      if (round % 3 !== 0) d.unshift(block("a", [next]), 1), model.unshift(next++);
      expect(pop(d)).toBe(model.pop());
      expect(liveSeqs(d.shift(2))).toEqual(model.splice(0, 2));
      expect(d.length).toBe(model.length);
    }
    expect(liveSeqs(d.drain())).toEqual(model);
  });

  test("tasks that stop being live are skipped at both ends and counted out", () => {
    const gone = new Set([0, 5]);
    const d = new TaskDeque((b, i) => b.seqs[i] >= 0 && !gone.has(b.seqs[i]));
    d.push(block("a", range(0, 6)));
    d.forget(2); // told that 0 and 5 went
    expect(d.length).toBe(4);
    expect(pop(d)).toBe(4);
    const stolen = d.shift(2);
    expect([...stolen[0].seqs]).toEqual([-1, 1, 2]); // the dead one travels as -1
    expect(d.length).toBe(1);
    expect(liveSeqs(d.drain())).toEqual([3]);
  });

  test("drop removes an owner's cancelled tasks in place, and only that owner's", () => {
    const d = new TaskDeque();
    d.push(block("a", [1, 2, 3]));
    d.push(block("b", [1, 2, 3]));
    expect(d.drop("a", new Set([2, 3, 9]))).toBe(2);
    expect(d.drop("a", new Set([2]))).toBe(0); // already gone
    expect(d.length).toBe(4);
    const rest = d.drain();
    expect(rest.map((b) => [b.owner, ...liveSeqs([b])])).toEqual([["a", 1], ["b", 1, 2, 3]]);
  });

  test("take gives the newest live tasks, each copy to be run from its end", () => {
    const gone = new Set([8]);
    const d = new TaskDeque((b, i) => b.seqs[i] >= 0 && !gone.has(b.seqs[i]));
    d.push(block("a", range(0, 5)));
    d.push(block("b", range(5, 10)));
    d.forget();
    const got = d.take(6);
    expect(got.map((b) => [b.owner, ...b.seqs])).toEqual([["b", 5, 6, 7, 9], ["a", 3, 4]]);
    expect([...argsOf(got[0], 3)]).toEqual([9, 9]);
    expect(d.length).toBe(3);
    expect(liveSeqs(d.drain())).toEqual([0, 1, 2]);
  });

  test("a count that drifted heals once the deque runs empty", () => {
    const gone = new Set<number>();
    const d = new TaskDeque((b, i) => !gone.has(b.seqs[i]));
    d.push(block("a", [1, 2]));
    gone.add(2); // stopped being live, and nobody said so
    expect(liveSeqs(d.take(5))).toEqual([1]);
    expect(d.length).toBe(0);
  });

  test("empty blocks are ignored", () => {
    const d = new TaskDeque();
    d.push(block("a", []));
    d.unshift(block("a", []));
    expect(d.length).toBe(0);
    expect(pop(d)).toBeUndefined();
  });
});

describe("ResultTable", () => {
  test("tracks each owned task from queued to settled, once", () => {
    const t = new ResultTable();
    t.add(7);
    expect(t.code(7)).toBe(QUEUED);
    expect(t.move(7, HANDED)).toBe(true);
    expect(t.code(7)).toBe(HANDED);
    expect(t.settle(7)).toBe(HANDED);
    expect(t.settle(7)).toBe(NONE); // a duplicate result
    expect(t.move(7, QUEUED)).toBe(false);
    expect(t.code(123456)).toBe(NONE);
    expect(t.size).toBe(0);
  });

  test("frees what settled: a long stream keeps the table small", () => {
    const t = new ResultTable();
    for (let s = 1; s <= 100_000; s++) {
      t.add(s);
      if (s > 10) t.settle(s - 10);
    }
    expect(t.size).toBe(10);
    for (let s = 99_991; s <= 100_000; s++) expect(t.code(s)).toBe(QUEUED);
  });

  test("lent tasks name their holder and come back if it dies", () => {
    const t = new ResultTable();
    for (let s = 1; s <= 6; s++) t.add(s);
    const lent = block("me", [1, 2, 3, 4]);
    lent.seqs[3] = -1; // not sent (was cancelled)
    t.lend("thief", lent);
    expect(t.code(2)).toBeGreaterThanOrEqual(LENT);
    expect(t.holderOf(t.code(2))).toBe("thief");
    expect(t.lentCount("thief")).toBe(3);
    expect(t.code(4)).toBe(QUEUED);
    t.settle(1); // its result arrived
    expect(t.move(3, QUEUED)).toBe(true); // stolen back from the thief's own thief
    const back = t.reclaim("thief");
    expect(liveSeqs(back)).toEqual([2]);
    expect([...argsOf(back[0], 0)]).toEqual([2, 2]);
    expect(t.code(2)).toBe(QUEUED);
    expect(t.lentCount("thief")).toBe(0);
    expect(t.reclaim("thief")).toEqual([]);
    expect(t.reclaim("stranger")).toEqual([]);
  });

  test("lent blocks are dropped as their tasks settle", () => {
    const t = new ResultTable();
    for (let s = 1; s <= 1000; s++) t.add(s);
    for (let s = 1; s <= 1000; s += 10) t.lend("thief", block("me", range(s, s + 10)));
    expect(t.lentCount("thief")).toBe(1000);
    for (let s = 1; s <= 995; s++) t.settle(s);
    expect(t.lentCount("thief")).toBe(5);
    expect(liveSeqs(t.reclaim("thief"))).toEqual([996, 997, 998, 999, 1000]);
  });
});

describe("ResultTable holder codes", () => {
  test("codes no task carries any more are given to new thieves", () => {
    const t = new ResultTable();
    const n = 70_000; // more thieves than 16-bit codes
    for (let s = 1; s <= n; s++) t.add(s);
    t.lend("keeper", block("me", [1]));
    for (let s = 2; s <= n; s++) {
      t.lend(`thief${s}`, block("me", [s]));
      expect(t.holderOf(t.code(s))).toBe(`thief${s}`);
      t.settle(s); // its result came: the code is free again
    }
    expect(t.holderOf(t.code(1))).toBe("keeper"); // never given away while in use
    expect(liveSeqs(t.reclaim("keeper"))).toEqual([1]);
  });

  test("with every code in use, lending refuses and changes nothing", () => {
    const t = new ResultTable();
    const codes = 0xffff - LENT + 1;
    for (let s = 1; s <= codes + 1; s++) t.add(s);
    for (let s = 1; s <= codes; s++) expect(t.lend(`thief${s}`, block("me", [s]))).toBe(true);
    expect(t.lend("one too many", block("me", [codes + 1]))).toBe(false);
    expect(t.code(codes + 1)).toBe(QUEUED);
    t.settle(1); // frees thief1's code
    expect(t.lend("one too many", block("me", [codes + 1]))).toBe(true);
    expect(t.holderOf(t.code(codes + 1))).toBe("one too many");
  });

  test("lending nothing leaves nothing behind", () => {
    const t = new ResultTable();
    t.lend("thief", block("me", [5])); // 5 was never submitted here
    expect(t.lentCount("thief")).toBe(0);
    expect(t.reclaim("thief")).toEqual([]);
  });
});

describe("SeqMap", () => {
  test("behaves as a map and frees finished pages", () => {
    const m = new SeqMap<string>();
    for (let i = 0; i < 10_000; i++) m.set(i, `v${i}`);
    m.set(5, "again");
    expect(m.size).toBe(10_000);
    expect(m.get(5)).toBe("again");
    expect(m.delete(5)).toBe(true);
    expect(m.delete(5)).toBe(false);
    expect(m.get(5)).toBeUndefined();
    for (let i = 0; i < 9_990; i++) m.delete(i);
    expect(m.size).toBe(10);
    expect([...m.values()].sort()).toEqual(range(9_990, 10_000).map((i) => `v${i}`).sort());
    expect(m.get(2 ** 40)).toBeUndefined();
  });
});

describe("the tasks message", () => {
  const roundTrip = (blocks: unknown[]) =>
    validate(decodeFrame(encodeFrame([{ t: "tasks", blocks, load: 1 }]))[0]);

  test("blocks cross the wire with their typed columns", () => {
    const b = block("peer-a", [3, 4, 5]);
    b.seqs[1] = -1;
    const m = roundTrip([b, sliceBlock(b, 2, 3)]) as Extract<Message, { t: "tasks" }>;
    const [got, tail] = m.blocks;
    expect(got.seqs).toBeInstanceOf(Float64Array);
    expect([...got.seqs]).toEqual([3, -1, 5]);
    expect([...got.kinds]).toEqual([...b.kinds]);
    expect(got.names).toEqual(["t1", "t0"]);
    expect([...argsOf(got, 2)]).toEqual([5, 5]);
    expect([...tail.seqs]).toEqual([5]);
  });

  const good = () => ({ ...block("p", [1, 2]) }) as Record<string, unknown>;
  test.each([
    ["not an object", () => 42],
    ["owner missing", () => ({ ...good(), owner: undefined })],
    ["names not strings", () => ({ ...good(), names: [1] })],
    ["seqs not whole float64s", () => ({ ...good(), seqs: new Uint8Array(9) })],
    ["kinds of the wrong length", () => ({ ...good(), kinds: new Uint16Array(3) })],
    ["ends of the wrong length", () => ({ ...good(), ends: new Uint32Array(1) })],
    ["a negative seq", () => ({ ...good(), seqs: new Float64Array([1, -2]) })],
    ["a fractional seq", () => ({ ...good(), seqs: new Float64Array([1.5, 2]) })],
    ["a name index out of range", () => ({ ...good(), kinds: new Uint16Array([0, 9]) })],
    ["args past the data", () => ({ ...good(), ends: new Uint32Array([2, 99]) })],
    ["args ends going back", () => ({ ...good(), ends: new Uint32Array([3, 2]) })],
    ["data not bytes", () => ({ ...good(), data: "x" })],
  ])("refuses a block with %s", (_, make) => {
    const raw = make();
    expect(() => roundTrip([raw])).toThrow(ProtocolError);
  });
});

describe("the results message", () => {
  const roundTrip = (r: unknown) =>
    validate(decodeFrame(encodeFrame([{ t: "results", r }]))[0]) as Extract<
      Message,
      { t: "results" }
    >;
  const good = () => {
    const b = new ResultBuilder();
    b.add(7, 1, new Uint8Array([1, 2, 3]));
    b.add(9, 0, new Uint8Array(0));
    b.add(8, 1, new Uint8Array([4]));
    return b.finish();
  };

  test("a batch crosses the wire with its typed columns", () => {
    const { r } = roundTrip(good());
    expect(r.keys).toBeInstanceOf(Float64Array);
    expect([...r.keys]).toEqual([7, 9, 8]);
    expect([...r.oks]).toEqual([1, 0, 1]);
    expect([...payloadOf(r, 0)]).toEqual([1, 2, 3]);
    expect(payloadOf(r, 1).byteLength).toBe(0);
    expect([...payloadOf(r, 2)]).toEqual([4]);
  });

  test("a builder starts empty again after finish", () => {
    const b = new ResultBuilder();
    b.add(1, 1, new Uint8Array([5]));
    b.finish();
    expect(b.length).toBe(0);
    expect(b.finish().keys.length).toBe(0);
  });

  test.each([
    ["not an object", () => "x"],
    ["keys not whole float64s", () => ({ ...good(), keys: new Uint8Array(5) })],
    ["oks of the wrong length", () => ({ ...good(), oks: new Uint8Array(1) })],
    ["an ok that is not 0 or 1", () => ({ ...good(), oks: new Uint8Array([1, 2, 1]) })],
    ["a negative seq", () => ({ ...good(), keys: new Float64Array([7, -1, 8]) })],
    ["a payload past the data", () => ({ ...good(), ends: new Uint32Array([3, 3, 9]) })],
    ["data not bytes", () => ({ ...good(), data: [1, 2, 3, 4] })],
  ])("refuses a batch with %s", (_, make) => {
    expect(() => roundTrip(make())).toThrow(ProtocolError);
  });
});
