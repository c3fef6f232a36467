/**
 * The state machine of a peer (`src/core/state.ts`), driven event by event with no network and
 * no executor: each case is a sequence of events and the actions expected.
 */
import { describe, expect, test } from "bun:test";
import type { Action, CoreConfig, Event, ExecutorView } from "../../src/core/events.ts";
import type { CoreMessage } from "../../src/core/messages.ts";
import { MAIN_SEQ_BASE, type ToWorker } from "../../src/executor/protocol.ts";
import { RELAY_MS } from "../../src/core/routes.ts";
import { LAZY_GOSSIP_MS, PeerState } from "../../src/core/state.ts";
import { ResultBuilder } from "../../src/results/batch.ts";
import { BlockBuilder, type TaskBlock } from "../../src/scheduler/block.ts";

/** The executor's cells as plain fields. */
class FakeExecutor implements ExecutorView {
  claim = 0;
  isBusy = false;
  claimed(): number {
    return this.claim;
  }
  busy(): boolean {
    return this.isBusy;
  }
  revoke(from: number): boolean {
    if (this.claim !== from) return false;
    this.claim = -1 - from;
    return true;
  }
}

type Sent = { to: string; m: CoreMessage; lazy: boolean };

/** A state machine under test, with its clock and the actions it took. */
class Harness {
  readonly x = new FakeExecutor();
  readonly s: PeerState;
  now = 1000;
  log: Action[] = [];

  constructor(id: string, origin = false, config: Partial<CoreConfig> = {}) {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    this.s = new PeerState({ id, origin, addrs: [`/mem/${id}`], random, ...config }, this.x);
  }

  /** Handle `e` (after `dt` ms) and return its actions; `flush` also runs the turn's end. */
  on(e: Event, dt = 0): Action[] {
    this.now += dt;
    const out = this.s.handle(e, this.now);
    this.log.push(...out);
    return out;
  }

  /** Handle `e`, then fire every zero-delay timer it armed (the end of the turn). */
  turn(e: Event, dt = 0): Action[] {
    const out = this.on(e, dt);
    for (let i = 0; i < out.length; i++) {
      const a = out[i];
      if (a.type === "timer" && a.after === 0) {
        out.push(...this.on({ type: "timer", name: a.name }));
      }
    }
    return out;
  }

  link(peer: string, load = 0, origin = false): Action[] {
    return this.turn({ type: "linkUp", peer, origin, addrs: [`/mem/${peer}`], load });
  }

  msg(from: string, message: CoreMessage, dt = 0): Action[] {
    return this.turn({ type: "message", from, message }, dt);
  }

  ready(): Action[] {
    return this.turn({ type: "ready" });
  }

  batch(b: Partial<Extract<Event, { type: "batch" }>["batch"]>, dt = 0): Action[] {
    return this.turn({
      type: "batch",
      batch: {
        t: "batch",
        submit: null,
        done: null,
        cancel: [],
        hungry: false,
        runs: 0,
        ran: 0,
        ranMs: 0,
        ...b,
      },
    }, dt);
  }

  tick(dt: number): Action[] {
    return this.turn({ type: "timer", name: "tick" }, dt);
  }
}

/** Ticks `every` ms apart for `ms`, and what they did. */
function ticksEvery(h: Harness, every: number, ms: number): Action[] {
  const out: Action[] = [];
  for (let t = 0; t < ms; t += every) out.push(...h.tick(every));
  return out;
}

function sent(actions: Action[], t?: CoreMessage["t"], to?: string): Sent[] {
  const out: Sent[] = [];
  for (const a of actions) {
    if (a.type !== "send") continue;
    if (t !== undefined && a.message.t !== t) continue;
    if (to !== undefined && a.to !== to) continue;
    out.push({ to: a.to, m: a.message, lazy: a.lazy });
  }
  return out;
}

function posted(actions: Action[], t: string) {
  return actions.flatMap((a) => a.type === "post" && a.message.t === t ? [a.message] : []);
}

function of<T extends Action["type"]>(actions: Action[], type: T) {
  return actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
}

/** A block of tasks `seqs` owned by `owner` (arguments: the seq as one byte). */
function block(owner: string, seqs: number[], name = "f"): TaskBlock {
  const b = new BlockBuilder(owner);
  for (const s of seqs) b.add(s, name, Uint8Array.of(s));
  return b.finish();
}

function results(keys: number[], ok = 1): ReturnType<ResultBuilder["finish"]> {
  const r = new ResultBuilder();
  for (const k of keys) r.add(k, ok as 0 | 1, Uint8Array.of(k + 100));
  return r.finish();
}

const seqsOf = (blocks: TaskBlock[]) => blocks.flatMap((b) => [...b.seqs].filter((s) => s >= 0));

/** A peer `id` whose executor submitted `seqs` and is busy (nothing handed is stealable). */
function withQueued(id: string, seqs: number[], origin = true): Harness {
  const h = new Harness(id, origin);
  h.ready();
  h.batch({ submit: block("", seqs), hungry: false, runs: 0 });
  return h;
}

describe("stealing", () => {
  test("an idle peer asks a linked peer that has work, and only one at a time", () => {
    const h = new Harness("A");
    h.ready();
    expect(sent(h.link("B", 0), "steal")).toEqual([]); // nothing to steal: sleep
    expect(sent(h.msg("B", { t: "load", n: 4 }), "steal")).toEqual([{
      to: "B",
      m: { t: "steal" },
      lazy: false,
    }]);
    expect(sent(h.msg("B", { t: "load", n: 8 }), "steal")).toEqual([]); // already asking
  });

  test("work after none is news at once to peers with none; others hear it lazily", () => {
    const h = new Harness("A", true);
    h.ready();
    h.link("B", 0); // idle, as far as A knows
    h.link("C", 5); // has work of its own
    expect(sent(h.log, "load")).toEqual([]); // nothing to tell: the handshake said 0
    h.x.isBusy = true;
    const out = h.batch({ submit: block("", [1, 2, 3, 4]), hungry: false, runs: 0 });
    // B now; C may wait for other messages (nothing went lately, so no throttle yet).
    expect(sent(out, "load")).toEqual([
      { to: "B", m: { t: "load", n: 4 }, lazy: false },
      { to: "C", m: { t: "load", n: 4 }, lazy: true },
    ]);
    // A change that is not news, within LAZY_GOSSIP_MS of the last, waits for the throttle.
    const soon = h.batch({ submit: block("", [5, 6, 7, 8]), hungry: false, runs: 0 }, 1);
    expect(sent(soon, "load")).toEqual([]);
    expect(of(soon, "timer").find((t) => t.name === "gossip")?.after).toBe(LAZY_GOSSIP_MS - 1);
    const later = h.turn({ type: "timer", name: "gossip" }, LAZY_GOSSIP_MS - 1);
    expect(sent(later, "load")).toEqual([
      { to: "B", m: { t: "load", n: 8 }, lazy: true },
      { to: "C", m: { t: "load", n: 8 }, lazy: true },
    ]);
  });

  test("a victim gives the oldest half of its queue and lends its own tasks", () => {
    const h = withQueued("O", [1, 2, 3, 4, 5]);
    h.link("T");
    const out = h.msg("T", { t: "steal" });
    const [reply] = sent(out, "tasks", "T");
    const m = reply.m as Extract<CoreMessage, { t: "tasks" }>;
    expect(seqsOf(m.blocks)).toEqual([1, 2, 3]);
    expect(m.load).toBe(2);
    expect(h.s.queued).toBe(2);
    expect(h.s.debug().lent).toEqual({ T: 3 });
    // On the wire, a block carries nothing local to the peer.
    expect("via" in m.blocks[0]).toBe(false);
  });

  test("a thief runs what it got, newest first, and sends results to the owner", () => {
    const h = new Harness("T");
    h.ready();
    h.link("O", 3);
    h.msg("O", { t: "tasks", blocks: [block("O", [1, 2, 3])], load: 0 });
    const runs = posted(h.log, "run");
    expect(runs.length).toBe(1);
    const run = runs[0] as Extract<typeof runs[0], { t: "run" }>;
    expect(seqsOf(run.blocks)).toEqual([3]); // the newest; batches start at one task, then grow
    const out = h.batch({ done: results([run.idx0]), hungry: true, runs: 1, ran: 1, ranMs: 1 });
    const [res] = sent(out, "results", "O");
    expect([...(res.m as Extract<CoreMessage, { t: "results" }>).r.keys]).toEqual([3]);
    expect(sent(out, "done")).toEqual([]); // it came from its owner: nobody else to tell
  });

  test("an owner settles results once; a duplicate is ignored", () => {
    const h = withQueued("O", [1, 2]);
    h.link("T");
    h.msg("T", { t: "steal" });
    const first = h.msg("T", { t: "results", r: results([1]) });
    expect(posted(first, "resolve").length).toBe(1);
    const again = h.msg("T", { t: "results", r: results([1]) });
    expect(posted(again, "resolve")).toEqual([]);
  });
});

describe("main's thread (origin)", () => {
  test("main's tasks run here reach main's thread with their results; the executor's do not", () => {
    const m = MAIN_SEQ_BASE + 1;
    const h = new Harness("O", true);
    h.ready(); // the executor is hungry
    // main's thread submits (it runs no task: it says runs -1, and is never hungry).
    const out = h.batch({ submit: block("", [m]), hungry: false, runs: -1 });
    const run = posted(out, "run")[0] as Extract<ToWorker, { t: "run" }>;
    expect(seqsOf(run.blocks)).toEqual([m]);
    // main's thread hears that its task started, as from a peer that took it.
    const [started] = posted(out, "resolve") as Extract<ToWorker, { t: "resolve" }>[];
    expect(started).toMatchObject({ r: null, started: [m] });
    const done = h.batch({ done: results([run.idx0]), hungry: true, runs: 1, ran: 1, ranMs: 1 });
    const [res] = posted(done, "resolve") as Extract<ToWorker, { t: "resolve" }>[];
    expect([...res.r!.keys]).toEqual([m]);
    expect([...res.r!.data]).toEqual([run.idx0 + 100]); // the payload the executor reported
    // The executor's own task: it settles the future itself, so nothing goes back.
    const out2 = h.batch({ submit: block("", [1]), hungry: true, runs: 1 });
    const run2 = posted(out2, "run")[0] as Extract<ToWorker, { t: "run" }>;
    expect(seqsOf(run2.blocks)).toEqual([1]);
    expect(posted(out2, "resolve")).toEqual([]);
    const done2 = h.batch({ done: results([run2.idx0]), hungry: true, runs: 2, ran: 1, ranMs: 1 });
    expect(posted(done2, "resolve")).toEqual([]);
  });

  test("a batch from main's thread says nothing of the executor's hunger", () => {
    const h = new Harness("O", true);
    h.ready(); // the executor is hungry; nothing to run yet
    h.batch({ hungry: true, runs: 0 });
    const out = h.batch({ submit: block("", [MAIN_SEQ_BASE + 1]), hungry: false, runs: -1 });
    expect(posted(out, "run").length).toBe(1); // handed at once: the hunger still stands
  });
});

describe("revocation", () => {
  test("tasks handed to an executor stuck in a long task go to a thief", () => {
    const h = new Harness("O", true);
    h.ready();
    const out = h.batch({ submit: block("", [1, 2]), hungry: true, runs: 0 });
    const run = posted(out, "run")[0] as Extract<ReturnType<typeof posted>[0], { t: "run" }>;
    expect(seqsOf(run.blocks)).toEqual([2]);
    // The executor started 2 and asked for more ahead of time (and got 1), then got stuck.
    h.batch({ hungry: true, runs: 1 });
    expect(h.s.queued).toBe(0);
    h.x.claim = run.idx0 + 1;
    h.x.isBusy = true;
    expect(h.s.load).toBe(1); // the handed task not started counts as stealable
    h.link("T");
    const steal = h.msg("T", { t: "steal" });
    expect(posted(steal, "revoked")).toEqual([{ t: "revoked", from: 1, to: 1 }]);
    expect(h.x.claim).toBe(-2); // no claim succeeds until the executor reads "revoked"
    const [reply] = sent(steal, "tasks", "T");
    expect(seqsOf((reply.m as Extract<CoreMessage, { t: "tasks" }>).blocks)).toEqual([1]);
    expect(h.s.debug().lent).toEqual({ T: 1 });
  });

  test("a free executor is left alone: what it holds it starts at once", () => {
    const h = new Harness("O", true);
    h.ready();
    h.batch({ submit: block("", [1]), hungry: true, runs: 0 });
    h.link("T");
    const steal = h.msg("T", { t: "steal" });
    expect(posted(steal, "revoked")).toEqual([]);
    expect(seqsOf((sent(steal, "tasks")[0].m as Extract<CoreMessage, { t: "tasks" }>).blocks))
      .toEqual([]);
  });
});

describe("losing a peer", () => {
  /** O lent 1..3 to T; T's link breaks; nobody vouches for it. */
  function lentAndLost() {
    const h = withQueued("O", [1, 2, 3, 4, 5, 6]);
    h.link("T");
    h.link("W");
    h.msg("T", { t: "steal" });
    h.on({ type: "linkDown", peer: "T", reason: "connection reset" });
    return h;
  }

  test("a broken link makes a suspect: a dial to it, and probes to the other links", () => {
    const h = withQueued("O", [1, 2]);
    h.link("T");
    h.link("W");
    const out = h.on({ type: "linkDown", peer: "T", reason: "reset" });
    expect(of(out, "connect").map((a) => a.peer)).toEqual(["T"]);
    expect(sent(out, "probe")).toEqual([{ to: "W", m: { t: "probe", peer: "T" }, lazy: false }]);
  });

  test("unheard past confirmMs, it is declared lost: its tasks are queued again here", () => {
    const h = lentAndLost();
    expect(h.s.queued).toBe(3);
    const out = h.tick(1100);
    expect(h.s.isLost("T")).toBe(true);
    expect(h.s.queued).toBe(6);
    expect(h.s.debug().lent).toEqual({});
    expect(sent(out, "lost", "W")).toEqual([{
      to: "W",
      m: { t: "lost", peers: ["T"] },
      lazy: false,
    }]);
    expect(of(out, "member").map((a) => a.change)).toEqual([
      { kind: "lost", peer: "T", size: 2, requeued: 3, why: "connection reset, unreachable 1.1 s" },
    ]);
  });

  test("a neighbour that still hears it keeps it alive", () => {
    const h = lentAndLost();
    h.msg("W", { t: "vouch", peer: "T" }, 10);
    h.tick(1100);
    expect(h.s.isLost("T")).toBe(false);
    expect(h.s.queued).toBe(3);
  });

  test("a link closed on purpose (prune) is no failure", () => {
    const h = withQueued("O", [1, 2]);
    h.link("T");
    h.msg("T", { t: "prune" });
    const out = h.on({ type: "linkDown", peer: "T" });
    expect(of(out, "connect")).toEqual([]);
    h.tick(5000);
    expect(h.s.isLost("T")).toBe(false);
  });

  test("a silent link is taken as broken (a hang is found by heartbeats)", () => {
    const h = withQueued("O", [1]);
    h.link("T");
    const ticks = (ms: number) => ticksEvery(h, 250, ms);
    expect(sent(ticks(750), "ping", "T").length).toBeGreaterThan(0);
    expect(of(ticks(1250), "disconnect").map((a) => a.peer)).toEqual(["T"]);
    ticks(1000);
    expect(h.s.isLost("T")).toBe(true);
  });

  test("on a host short of CPU (this peer's own ticks come late) silence is judged with slack", () => {
    const h = withQueued("O", [1]);
    h.link("T");
    // Every tick 400 ms late: the host is loaded, and T, silent, may only be slow.
    const ticks = (ms: number) => ticksEvery(h, 650, ms);
    expect(of(ticks(1950), "disconnect")).toEqual([]);
    // Still silent long after: taken as broken, then lost.
    expect(of(ticks(6500), "disconnect").map((a) => a.peer)).toEqual(["T"]);
    ticks(6500);
    expect(h.s.isLost("T")).toBe(true);
  });

  test("a quiet peer that gets work ticks at full pace at once (a hang is not found seconds late)", () => {
    const h = new Harness("T");
    h.ready();
    h.link("O");
    const quiet = h.tick(250); // nothing to do: the next tick comes at the quiet pace
    expect(of(quiet, "timer").filter((a) => a.name === "tick")).toEqual([
      { type: "timer", name: "tick", after: 2000 },
    ]);
    const out = h.msg("O", { t: "tasks", blocks: [block("O", [1])], load: 0 }, 10);
    expect(sent(out, "ping", "O")).toEqual([{
      to: "O",
      m: { t: "ping", every: 500 },
      lazy: false,
    }]);
    expect(of(out, "timer").filter((a) => a.name === "tick")).toEqual([
      { type: "timer", name: "tick", after: 250 },
    ]);
  });

  test("a peer declared lost that comes back is told so, and not linked", () => {
    const h = lentAndLost();
    h.tick(1100);
    const out = h.link("T");
    expect(sent(out, "lost", "T")).toEqual([{
      to: "T",
      m: { t: "lost", peers: ["T"] },
      lazy: false,
    }]);
    expect(of(out, "disconnect").map((a) => a.peer)).toEqual(["T"]);
    expect(h.s.links).not.toContain("T");
  });

  test("told it was declared lost, a peer leaves", () => {
    const h = new Harness("T");
    h.ready();
    h.link("O", 0, true);
    const out = h.msg("O", { t: "lost", peers: ["T"] });
    expect(of(out, "leave")).toEqual([{
      type: "leave",
      ok: false,
      error: "the grid declared this peer lost (it was unreachable); its work runs elsewhere",
    }]);
  });

  test("losing the origin ends the job on every peer", () => {
    const h = new Harness("T");
    h.ready();
    h.link("O", 0, true);
    h.on({ type: "linkDown", peer: "O" });
    const out = h.tick(1100);
    expect(of(out, "leave")).toEqual([{
      type: "leave",
      ok: false,
      error: "the origin O left the grid",
    }]);
  });
});

describe("result routing", () => {
  /** M got O's tasks 1, 2 from O and gave them to T: M keeps them (custody). */
  function middle() {
    const h = new Harness("M");
    h.ready();
    h.link("O", 2);
    h.msg("O", { t: "tasks", blocks: [block("O", [1, 2])], load: 0 });
    // M's executor took task 2 (newest first); T steals the rest.
    h.link("T");
    h.msg("T", { t: "steal" });
    return h;
  }

  test("a task that moved twice is kept by the peer in the middle", () => {
    const h = middle();
    expect(h.s.inFlight.custody).toBe(1);
  });

  test("a runner with no link to the owner sends the result back the way it came", () => {
    const h = new Harness("T");
    h.ready();
    h.link("M", 1);
    h.msg("M", { t: "tasks", blocks: [block("O", [1])], load: 0 });
    const run = posted(h.log, "run")[0] as Extract<ReturnType<typeof posted>[0], { t: "run" }>;
    const out = h.batch({ done: results([run.idx0]), hungry: true, runs: 1 });
    const [relay] = sent(out, "relay", "M");
    expect((relay.m as Extract<CoreMessage, { t: "relay" }>).owner).toBe("O");
  });

  test("the middle passes a relayed result on to the owner and forgets the task", () => {
    const h = middle();
    const r = new ResultBuilder();
    r.add(1, 1, Uint8Array.of(7));
    const out = h.msg("T", { t: "relay", owner: "O", r: r.finish() });
    const [res] = sent(out, "results", "O");
    expect([...(res.m as Extract<CoreMessage, { t: "results" }>).r.keys]).toEqual([1]);
    expect(h.s.inFlight.custody).toBe(0);
  });

  /** M got O's tasks from U and has no link to O; T took two of them from M. */
  function relayingMiddle(...others: string[]) {
    const h = new Harness("M");
    h.ready();
    h.link("U", 5);
    for (const id of others) h.link(id);
    h.msg("U", { t: "tasks", blocks: [block("O", [1, 2, 3, 4, 5])], load: 0 });
    h.link("T");
    h.msg("T", { t: "steal" });
    return h;
  }

  test("a middle sends a peer one relay per RELAY_MS (the first at once) with all that came", () => {
    const h = relayingMiddle();
    const first = h.msg("T", { t: "relay", owner: "O", r: results([1]) });
    const keysOf = (s: Sent[]) =>
      s.map((x) => [...(x.m as Extract<CoreMessage, { t: "relay" }>).r.keys]);
    expect(keysOf(sent(first, "relay", "U"))).toEqual([[1]]);
    const second = h.msg("T", { t: "relay", owner: "O", r: results([2]) }, 1);
    expect(sent(second, "relay")).toEqual([]);
    expect(of(second, "timer").find((t) => t.name === "relay")?.after).toBe(RELAY_MS - 1);
    const due = h.turn({ type: "timer", name: "relay" }, RELAY_MS - 1);
    expect(keysOf(sent(due, "relay", "U"))).toEqual([[2]]);
    expect(h.s.inFlight.custody).toBe(0);
  });

  test("relays held for a peer that is lost go to the owner another way", () => {
    const h = relayingMiddle("X");
    h.msg("T", { t: "relay", owner: "O", r: results([1]) });
    h.msg("T", { t: "relay", owner: "O", r: results([2]) }, 1); // held back
    const out = h.msg("X", { t: "lost", peers: ["U"] });
    expect(h.s.inFlight.held).toBe(1);
    expect(of(out, "connect").map((a) => a.peer)).toContain("O");
    const up = h.link("O");
    expect([...(sent(up, "results", "O")[0].m as Extract<CoreMessage, { t: "results" }>).r.keys])
      .toContain(2);
  });

  test("a runner linked to the owner sends it straight there, then tells the middle", () => {
    const h = new Harness("T");
    h.ready();
    h.link("O");
    h.link("M", 1);
    h.msg("M", { t: "tasks", blocks: [block("O", [1])], load: 0 });
    const run = posted(h.log, "run")[0] as Extract<ReturnType<typeof posted>[0], { t: "run" }>;
    const out = h.batch({ done: results([run.idx0]), hungry: true, runs: 1 });
    expect(sent(out, "results", "O").length).toBe(1);
    // The middle is told only once the owner has the result (a runner lost before that leaves
    // the task to run again from the middle).
    expect(sent(out, "done")).toEqual([]);
    const acked = h.msg("O", { t: "ack", got: 1 });
    expect(sent(acked, "done", "M")).toEqual([{
      to: "M",
      m: { t: "done", owner: "O", seqs: [1] },
      lazy: true,
    }]);
  });

  test("an owner that takes its own task back ends the keeping along the way", () => {
    // O lent 1 to A, A gave it to B; O steals it back from B.
    const o = withQueued("O", [1, 2]);
    o.link("A");
    o.msg("A", { t: "steal" });
    o.link("B");
    const back = o.msg("B", { t: "tasks", blocks: [block("O", [1])], load: 0 });
    expect(sent(back, "done", "B")).toEqual([{
      to: "B",
      m: { t: "done", owner: "O", seqs: [1] },
      lazy: true,
    }]);
    // B, told, passes the word to A, which gave it the task.
    const b = new Harness("B");
    b.ready();
    b.link("A", 1);
    b.msg("A", { t: "tasks", blocks: [block("O", [1, 3])], load: 0 }); // runs 3, queues 1
    b.link("O");
    b.msg("O", { t: "steal" });
    expect(b.s.inFlight.custody).toBe(1);
    const told = b.msg("O", { t: "done", owner: "O", seqs: [1] });
    expect(sent(told, "done", "A")).toEqual([{
      to: "A",
      m: { t: "done", owner: "O", seqs: [1] },
      lazy: true,
    }]);
    expect(b.s.inFlight.custody).toBe(0);
  });

  test("the middle queues again what a lost runner held", () => {
    const h = middle();
    h.on({ type: "linkDown", peer: "T" });
    h.tick(1100);
    expect(h.s.isLost("T")).toBe(true);
    expect(h.s.inFlight.custody).toBe(0);
    expect(h.s.queued + (h.s.debug().handed as number)).toBe(2);
  });

  /** T runs O's task 1 that came from M; M is lost before it ends; T is not linked to O. */
  function orphanResult() {
    const h = new Harness("T");
    h.ready();
    h.link("M", 1);
    h.link("X");
    h.msg("M", { t: "tasks", blocks: [block("O", [1])], load: 0 });
    const run = posted(h.log, "run")[0] as Extract<ReturnType<typeof posted>[0], { t: "run" }>;
    h.msg("X", { t: "lost", peers: ["M"] });
    return { h, out: h.batch({ done: results([run.idx0]), hungry: true, runs: 1 }) };
  }

  test("no way to the owner: the result is held, a link asked for, and sent once it is up", () => {
    const { h, out } = orphanResult();
    expect(sent(out, "results")).toEqual([]);
    expect(sent(out, "relay")).toEqual([]);
    expect(of(out, "connect").map((a) => a.peer)).toEqual(["O"]);
    expect(h.s.inFlight.held).toBe(1);
    const up = h.link("O");
    expect(sent(up, "results", "O").length).toBe(1);
    expect(h.s.inFlight.held).toBe(0);
  });

  test("a held result is dropped only when its owner is lost", () => {
    const { h } = orphanResult();
    h.tick(250);
    expect(h.s.inFlight.held).toBe(1);
    h.msg("X", { t: "lost", peers: ["O"] });
    expect(h.s.inFlight.held).toBe(0);
  });
});

describe("cancellation", () => {
  test("the owner tells the peer holding a cancelled task; that peer drops it or passes it on", () => {
    const o = withQueued("O", [1, 2, 3, 4]);
    o.link("M");
    o.msg("M", { t: "steal" }); // lent 1, 2 to M
    const out = o.batch({ cancel: [1, 3] });
    // 3 was still queued here: dropped; 1 is at M: M is told.
    expect(sent(out, "cancel")).toEqual([{
      to: "M",
      m: { t: "cancel", owner: "O", seqs: [1] },
      lazy: false,
    }]);
    expect(o.s.queued).toBe(1);

    const m = new Harness("M");
    m.ready();
    m.link("O", 2);
    m.msg("O", { t: "tasks", blocks: [block("O", [1, 2])], load: 0 }); // runs 2, queues 1
    m.link("T");
    m.msg("T", { t: "steal" }); // 1 goes on to T
    const passed = m.msg("O", { t: "cancel", owner: "O", seqs: [1] });
    expect(sent(passed, "cancel", "T")).toEqual([{
      to: "T",
      m: { t: "cancel", owner: "O", seqs: [1] },
      lazy: false,
    }]);
    expect(m.s.inFlight.custody).toBe(0);
  });
});

describe("sessions", () => {
  test("reliable messages sent while the link is down go out after the peer's resume", () => {
    const h = withQueued("O", [1, 2, 3, 4]);
    h.link("T");
    h.msg("T", { t: "steal" });
    h.on({ type: "linkDown", peer: "T" });
    // T, as suspect, asks again for a steal: the reply waits in the session.
    h.msg("W", { t: "ping" }); // (unknown peer: ignored)
    const up = h.link("T");
    expect(sent(up, "resume", "T")).toEqual([{ to: "T", m: { t: "resume", got: 1 }, lazy: false }]);
    expect(sent(up, "tasks")).toEqual([]); // the tasks reply is unacknowledged: wait for resume
    const resumed = h.msg("T", { t: "resume", got: 0 });
    expect(sent(resumed, "tasks", "T").length).toBe(1);
  });

  test("what the peer acknowledged is not sent again", () => {
    const h = withQueued("O", [1, 2, 3, 4]);
    h.link("T");
    h.msg("T", { t: "steal" });
    h.msg("T", { t: "ack", got: 1 });
    h.on({ type: "linkDown", peer: "T" });
    const up = h.link("T");
    expect(sent(up, "tasks")).toEqual([]);
    expect(sent(h.msg("T", { t: "resume", got: 1 }), "tasks")).toEqual([]);
  });

  test("an acknowledgement rides with the next message out", () => {
    const h = withQueued("O", [1, 2]);
    h.link("T");
    const out = h.msg("T", { t: "steal" });
    expect(sent(out).map((s) => s.m.t)).toEqual(["tasks", "ack"]);
    expect(sent(out, "ack", "T")).toEqual([{ to: "T", m: { t: "ack", got: 1 }, lazy: true }]);
  });

  test("with nothing going back, it waits for the tick, or for 64 messages owed", () => {
    const h = withQueued("O", [1, 2]);
    h.link("T");
    const r = results([]);
    expect(sent(h.msg("T", { t: "results", r }), "ack")).toEqual([]);
    expect(sent(h.tick(250), "ack", "T")).toEqual([{
      to: "T",
      m: { t: "ack", got: 1 },
      lazy: true,
    }]);
    let acks: Sent[] = [];
    for (let i = 0; i < 64; i++) acks = acks.concat(sent(h.msg("T", { t: "results", r }), "ack"));
    expect(acks).toEqual([{ to: "T", m: { t: "ack", got: 65 }, lazy: true }]);
  });
});

describe("constants", () => {
  test("a broadcast completes once every link acknowledged; late joiners get them on link", () => {
    const h = new Harness("O", true);
    h.ready();
    h.link("A");
    h.link("B");
    const entries: [string, Uint8Array][] = [["k", Uint8Array.of(1)]];
    const out = h.turn({ type: "setConst", id: 9, entries });
    const waves = sent(out, "const");
    expect(waves.map((w) => w.to).sort()).toEqual(["A", "B"]);
    const wave = (waves[0].m as Extract<CoreMessage, { t: "const" }>).wave!;
    expect(posted(h.msg("A", { t: "constAck", wave }), "constDone")).toEqual([]);
    expect(posted(h.msg("B", { t: "constAck", wave }), "constDone")).toEqual([{
      t: "constDone",
      id: 9,
    }]);
    const late = h.link("C");
    expect(sent(late, "const", "C")).toEqual([{
      to: "C",
      m: { t: "const", entries },
      lazy: false,
    }]);
  });

  test("a peer passes a wave on and acknowledges once its own links have", () => {
    const h = new Harness("A");
    h.ready();
    h.link("O", 0, true);
    h.link("B");
    const entries: [string, Uint8Array][] = [["k", Uint8Array.of(1)]];
    const out = h.msg("O", { t: "const", wave: "O/1", entries });
    expect(posted(out, "const")).toEqual([{ t: "const", name: "k", value: entries[0][1] }]);
    expect(sent(out, "const", "B").length).toBe(1);
    expect(sent(out, "constAck")).toEqual([]);
    const acked = h.msg("B", { t: "constAck", wave: "O/1" });
    expect(sent(acked, "constAck", "O")).toEqual([{
      to: "O",
      m: { t: "constAck", wave: "O/1" },
      lazy: false,
    }]);
    // Seen already: acknowledged at once, not passed on again.
    expect(sent(h.msg("B", { t: "const", wave: "O/1", entries }), "constAck", "B").length).toBe(1);
  });

  test("a lost peer no longer holds a broadcast up", () => {
    const h = new Harness("O", true);
    h.ready();
    h.link("A");
    h.link("B");
    const out = h.turn({ type: "setConst", id: 1, entries: [["k", Uint8Array.of(1)]] });
    const wave = (sent(out, "const")[0].m as Extract<CoreMessage, { t: "const" }>).wave!;
    h.msg("A", { t: "constAck", wave });
    h.on({ type: "linkDown", peer: "B" });
    const lost = h.tick(1100);
    expect(posted(lost, "constDone")).toEqual([{ t: "constDone", id: 1 }]);
  });
});

describe("membership", () => {
  test("a new link gets a resume, a sample of known peers, and the size grows", () => {
    const h = new Harness("O", true);
    h.ready();
    h.link("A");
    const out = h.link("B");
    expect(sent(out, "resume", "B").length).toBe(1);
    const [peers] = sent(out, "peers", "B");
    expect((peers.m as Extract<CoreMessage, { t: "peers" }>).peers.map(([id]) => id)).toEqual([
      "O",
      "A",
    ]);
    expect(of(out, "size")).toEqual([{ type: "size", n: 3 }]);
  });

  test("a peer dials half its degree from what it learns, and no more", () => {
    const h = new Harness("A", false, { degree: 4 });
    h.ready();
    h.link("O", 0, true);
    const out = h.msg("O", {
      t: "peers",
      peers: [["O", []], ["B", ["/mem/B"]], ["C", ["/mem/C"]], ["D", ["/mem/D"]]],
      reply: true,
    });
    expect(of(out, "connect").length).toBe(2);
    expect(h.s.size).toBe(5);
  });

  test("past maxDegree, a newcomer is pointed elsewhere, and closes its link", () => {
    const h = new Harness("O", true, { maxDegree: 2 });
    h.ready();
    h.link("A");
    h.link("B");
    const out = h.link("C");
    expect(sent(out, "peers", "C").length).toBe(1);
    expect(sent(out, "prune", "C").length).toBe(1);
    expect(of(out, "disconnect")).toEqual([]); // the newcomer closes it
    const down = h.on({ type: "linkDown", peer: "C" });
    expect(of(down, "connect")).toEqual([]); // no failure: it was asked to
    expect(h.s.links.sort()).toEqual(["A", "B"]);
    h.tick(5000);
    expect(h.s.isLost("C")).toBe(false);
  });

  test("a peer asked to close a link first delivers what it must there", () => {
    const h = new Harness("T");
    h.ready();
    h.link("M", 1);
    h.link("X");
    h.msg("M", { t: "tasks", blocks: [block("O", [1])], load: 0 });
    const run = posted(h.log, "run")[0] as Extract<ReturnType<typeof posted>[0], { t: "run" }>;
    h.msg("X", { t: "lost", peers: ["M"] });
    h.batch({ done: results([run.idx0]), hungry: true, runs: 1 });
    const up = h.link("O"); // dialled to bring the result
    expect(sent(up, "results", "O").length).toBe(1);
    // O has links enough, and asks T to close: T waits until O has the result.
    expect(of(h.msg("O", { t: "prune" }), "disconnect")).toEqual([]);
    expect(of(h.msg("O", { t: "ack", got: 1 }), "disconnect").map((a) => a.peer)).toEqual(["O"]);
    expect(h.s.links).not.toContain("O");
  });

  test("the job's end spreads: stop goes to every other link, then the peer leaves", () => {
    const h = new Harness("A");
    h.ready();
    h.link("O", 0, true);
    h.link("B");
    h.link("C");
    const out = h.msg("O", { t: "stop" });
    expect(sent(out, "stop").map((s) => s.to).sort()).toEqual(["B", "C"]);
    expect(of(out, "leave")).toEqual([{ type: "leave", ok: true }]);
    expect(h.on({ type: "timer", name: "tick" })).toEqual([]); // it handles nothing more
  });
});

describe("membership changes", () => {
  test("a peer is told of once as joined: linked, or first gossiped and linked later", () => {
    const h = new Harness("O", true);
    const linked = h.link("A");
    const gossip = h.msg("A", {
      t: "peers",
      peers: [["A", ["/mem/A"]], ["B", ["/mem/B"]]],
      reply: true,
    });
    const later = h.link("B");
    expect([linked, gossip, later].map((out) => of(out, "member").map((a) => a.change))).toEqual([
      [{ kind: "joined", peer: "A", addrs: ["/mem/A"], size: 2 }],
      [{ kind: "joined", peer: "B", addrs: ["/mem/B"], size: 3 }],
      [],
    ]);
  });

  test("a peer that says bye has left: its tasks run here at once, and the word says it left", () => {
    const h = withQueued("O", [1, 2, 3, 4, 5, 6]);
    h.link("T");
    h.link("W");
    h.msg("T", { t: "steal" });
    const out = h.msg("T", { t: "bye" });
    expect({
      changes: of(out, "member").map((a) => a.change),
      queued: h.s.queued,
      word: sent(out, "lost").map((x) => x.m),
      lost: h.s.isLost("T"),
    }).toEqual({
      changes: [{ kind: "left", peer: "T", size: 2, requeued: 3 }],
      queued: 6,
      word: [{ t: "lost", peers: [], left: ["T"] }],
      lost: true,
    });
  });

  test("the word of a peer gone is told of as it says: left, or lost (by whose word)", () => {
    const h = new Harness("O", true);
    h.link("W");
    h.msg("W", { t: "peers", peers: [["A", ["/mem/A"]], ["B", ["/mem/B"]]], reply: true });
    const out = h.msg("W", { t: "lost", peers: ["A"], left: ["B"] });
    expect(of(out, "member").map((a) => a.change)).toEqual([
      { kind: "lost", peer: "A", size: 3, requeued: 0, why: "", from: "W" },
      { kind: "left", peer: "B", size: 2, requeued: 0 },
    ]);
  });

  test("a silent peer is lost with how long it was silent", () => {
    const h = withQueued("O", [1, 2]);
    h.link("T");
    h.link("W");
    const out = ticksEvery(h, 250, 4000);
    expect(of(out, "member").map((a) => a.change)).toEqual([
      { kind: "lost", peer: "T", size: 2, requeued: 0, why: "silent 2.3 s" },
      { kind: "lost", peer: "W", size: 1, requeued: 0, why: "silent 2.3 s" },
    ]);
  });

  test("bye: this peer tells its links and leaves", () => {
    const h = new Harness("A");
    h.link("O", 0, true);
    h.link("B");
    const out = h.on({ type: "bye" });
    expect({ to: sent(out, "bye").map((x) => x.to), leave: of(out, "leave") }).toEqual({
      to: ["O", "B"],
      leave: [{ type: "leave", ok: true }],
    });
  });
});
