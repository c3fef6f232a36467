/**
 * A simulated executor: the model of `src/executor/worker.ts` that the simulator runs beside
 * each peer's real state machine. It speaks the same protocol (`ToWorker` in, `batch` reports
 * out), keeps the same rules — one task computes at a time, a task waiting on futures frees
 * the slot, handed tasks are claimed one by one through the claim cell the state machine can
 * revoke, the next batch is asked for once half of one has started — and runs tasks written
 * as generators over simulated time (see `workloads.ts`).
 *
 * @module
 */
import { decodeValue, encodeValue } from "../../src/codec/mod.ts";
import type { ExecutorBatch, ExecutorView } from "../../src/core/events.ts";
import { isMainSeq, MAIN_SEQ_BASE, type ToWorker } from "../../src/executor/protocol.ts";
import { payloadOf, ResultBuilder } from "../../src/results/batch.ts";
import { argsOf, BlockBuilder, type TaskBlock } from "../../src/scheduler/block.ts";

/** One step of a simulated task. */
export type Step =
  /** Compute for this many ms (the executor can do nothing else meanwhile). */
  | { compute: number }
  /** Submit a task: the step's value is the future's id. */
  | { submit: string; args: unknown[] }
  /** Wait for these futures: the step's value is their values (or the first error thrown). */
  | { wait: number[] }
  /** Broadcast constants; the step ends once every current peer has them. */
  | { setConst: Record<string, unknown> }
  /** The value of a constant, once it is here. */
  | { getConst: string };

/** A simulated task (or `main`): a generator of steps over its arguments. */
export type Program = (...args: never[]) => Generator<Step, unknown, unknown>;

/** What the executor tells the simulator. */
export interface ExecutorHost {
  /** Peer id. */
  readonly id: string;
  now(): number;
  /** Run `fn` at `at` (if the peer is still alive then; deferred while it hangs). */
  at(at: number, fn: () => void): void;
  /** Hand a batch (or a constants broadcast) to the state machine, a thread hop later. */
  toCore(m: ExecutorBatch | { t: "setConst"; id: number; entries: [string, Uint8Array][] }): void;
  /** A task started (for the re-execution invariant). */
  started(owner: string, seq: number): void;
  /**
   * A future owned here got an outcome. A second one (a task run again after a loss, both runs
   * finishing) is ignored, as `Future` does; `first` is the outcome it kept, to compare.
   */
  settled(seq: number, outcome: unknown, first?: unknown): void;
}

interface Future {
  seq: number;
  done: boolean;
  ok: boolean;
  value: unknown;
  waiters: Task[];
}

interface Task {
  gen: Generator<Step, unknown, unknown>;
  /** Futures still awaited. */
  waits: number;
  waitingOn: number[] | undefined;
  /** Run index and owner's future; `main` has idx -1. */
  idx: number;
  local: Future | undefined;
  heldSince: number;
  held: number;
  onDone?: (ok: boolean, value: unknown) => void;
}

interface Run {
  idx0: number;
  blocks: TaskBlock[];
  n: number;
  pos: number;
  b: number;
  i: number;
}

const EMPTY = new Uint8Array(0);
/** Time a message takes between the mesh thread and the executor thread. */
const HOP_MS = 0.02;

/** A task that throws this fails with its name and message, like a real error across peers. */
export class SimError extends Error {}

/** The simulated executor of one peer (see the module doc). */
export class SimExecutor implements ExecutorView {
  #host: ExecutorHost;
  #programs: Record<string, Program>;
  #claim = 0;
  #computing = false;
  #active = 0;
  #runs: Run[] = [];
  #runsSeen = 0;
  #prefetched = false;
  #pending = new Map<number, Future>();
  #lastSeq = 0;
  #lastMainSeq = MAIN_SEQ_BASE;
  #submitBuf = new BlockBuilder("");
  #doneBuf = new ResultBuilder();
  #cancelBuf: number[] = [];
  #ran = 0;
  #ranMs = 0;
  #flushArmed = false;
  #inbox: ToWorker[] = [];
  #runnable: { task: Task; input: unknown; error?: unknown }[] = [];
  #consts = new Map<string, unknown>();
  #constWaiters = new Map<string, Task[]>();
  #constDone = new Map<number, Task>();
  #nextConstId = 0;
  /** Tasks finished here, for statistics. */
  tasksRun = 0;
  /** When the first task from a run started (for join metrics). */
  firstTaskAt: number | undefined;

  constructor(host: ExecutorHost, programs: Record<string, Program>) {
    this.#host = host;
    this.#programs = programs;
  }

  // ---- ExecutorView ----

  claimed(): number {
    return this.#claim;
  }

  busy(): boolean {
    return this.#computing || this.#active >= 1;
  }

  revoke(from: number): boolean {
    if (this.#claim !== from) return false;
    this.#claim = -1 - from;
    return true;
  }

  /** Whether it runs nothing and holds nothing to run. */
  get idle(): boolean {
    return !this.#computing && this.#active === 0 && this.#runs.length === 0;
  }

  // ---- messages from the state machine ----

  receive(m: ToWorker): void {
    if (this.#computing) this.#inbox.push(m);
    else this.#handle(m);
  }

  #handle(m: ToWorker): void {
    switch (m.t) {
      case "run":
        this.#runsSeen++;
        this.#prefetched = false;
        this.#addRun(m.idx0, m.blocks);
        this.#drain();
        break;
      case "revoked":
        this.#runs = this.#runs.filter((run) => {
          run.n = Math.min(run.n, m.from - run.idx0);
          return run.pos < run.n;
        });
        this.#claim = m.to + 1;
        this.#drain();
        break;
      case "resolve":
        if (m.r !== null) {
          for (let i = 0; i < m.r.keys.length; i++) {
            const ok = m.r.oks[i] === 1;
            this.#settle(m.r.keys[i], ok, decodeOutcome(ok, payloadOf(m.r, i)));
          }
        }
        this.#loop();
        break;
      case "const": {
        this.#consts.set(m.name, decodeValue(m.value));
        for (const t of this.#constWaiters.get(m.name) ?? []) {
          this.#runnable.push({ task: t, input: this.#consts.get(m.name) });
        }
        this.#constWaiters.delete(m.name);
        this.#loop();
        break;
      }
      case "constDone": {
        const t = this.#constDone.get(m.id);
        this.#constDone.delete(m.id);
        if (t !== undefined) this.#runnable.push({ task: t, input: undefined });
        this.#loop();
        break;
      }
      default:
        break;
    }
  }

  /** Run `main` (origin): `onDone` gets its outcome. */
  runMain(program: Program, args: unknown[], onDone: (ok: boolean, value: unknown) => void) {
    const gen = (program as (...a: unknown[]) => Generator<Step, unknown, unknown>)(...args);
    const task: Task = {
      gen,
      waits: 0,
      waitingOn: undefined,
      idx: -1,
      local: undefined,
      heldSince: this.#host.now(),
      held: 0,
      onDone,
    };
    this.#active++;
    this.#runnable.push({ task, input: undefined });
    this.#loop();
  }

  // ---- running ----

  #addRun(idx0: number, all: TaskBlock[]): void {
    const blocks = all.filter((block) => block.seqs.length > 0);
    const n = blocks.reduce((sum, block) => sum + block.seqs.length, 0);
    if (n > 0) this.#runs.push({ idx0, blocks, n, pos: 0, b: 0, i: blocks[0].seqs.length - 1 });
  }

  #drain(): void {
    this.#startQueued();
    this.#scheduleFlush();
  }

  #startQueued(): void {
    while (this.#runs.length > 0 && this.#active < 1 && !this.#computing) {
      const run = this.#runs[0];
      const idx = run.idx0 + run.pos;
      if (this.#claim !== idx) break; // revoked
      this.#claim = idx + 1;
      const block = run.blocks[run.b];
      const i = run.i;
      if (++run.pos === run.n) this.#runs.shift();
      else if (run.i > 0) run.i--;
      else run.i = run.blocks[++run.b].seqs.length - 1;
      if (
        !this.#prefetched &&
        (this.#runs.length === 0 || (this.#runs.length === 1 && run.pos * 2 >= run.n))
      ) {
        this.#prefetched = true;
        this.#postBatch(true);
      }
      this.#start(block, i, idx);
    }
  }

  #start(block: TaskBlock, i: number, idx: number): void {
    const seq = block.seqs[i];
    const name = block.names[block.kinds[i]];
    let local: Future | undefined;
    // main's futures are main's thread's, settled by the core's "resolve" (as in a real peer).
    if (block.owner === this.#host.id && !isMainSeq(seq)) {
      local = this.#pending.get(seq);
      if (local === undefined) {
        this.#doneBuf.add(idx, 1, EMPTY); // cancelled while queued
        return;
      }
    }
    this.#host.started(block.owner, seq);
    this.firstTaskAt ??= this.#host.now();
    const program = this.#programs[name];
    const args = decodeValue(argsOf(block, i)) as unknown[];
    const gen = (program as (...a: unknown[]) => Generator<Step, unknown, unknown>)(...args);
    const task: Task = {
      gen,
      waits: 0,
      waitingOn: undefined,
      idx,
      local,
      heldSince: this.#host.now(),
      held: 0,
    };
    this.#active++;
    this.#runnable.push({ task, input: undefined });
    this.#loop();
  }

  /** Step runnable tasks until one computes or none is left; then serve messages, start more. */
  #loop(): void {
    while (!this.#computing && this.#runnable.length > 0) {
      const { task, input, error } = this.#runnable.shift()!;
      this.#step(task, input, error);
    }
    if (this.#computing) return;
    while (this.#inbox.length > 0 && !this.#computing) this.#handle(this.#inbox.shift()!);
    if (!this.#computing) this.#drain();
  }

  #step(task: Task, input: unknown, error?: unknown): void {
    let hasError = error !== undefined;
    for (;;) {
      let r: IteratorResult<Step, unknown>;
      try {
        r = hasError ? task.gen.throw(error) : task.gen.next(input);
      } catch (err) {
        this.#finish(task, false, err);
        return;
      }
      hasError = false;
      if (r.done) {
        this.#finish(task, true, r.value);
        return;
      }
      const s = r.value;
      if ("compute" in s) {
        this.#computing = true;
        this.#host.at(this.#host.now() + s.compute, () => {
          this.#computing = false;
          this.#runnable.unshift({ task, input: undefined });
          this.#loop();
        });
        return;
      }
      if ("submit" in s) {
        input = this.#submit(s.submit, s.args, task.idx < 0);
        continue;
      }
      if ("setConst" in s) {
        const id = ++this.#nextConstId;
        const entries: [string, Uint8Array][] = [];
        for (const [k, v] of Object.entries(s.setConst)) {
          this.#consts.set(k, v);
          entries.push([k, encodeValue(v)]);
        }
        this.#constDone.set(id, task);
        this.#host.toCore({ t: "setConst", id, entries });
        return;
      }
      if ("getConst" in s) {
        if (this.#consts.has(s.getConst)) {
          input = this.#consts.get(s.getConst);
          continue;
        }
        let l = this.#constWaiters.get(s.getConst);
        if (l === undefined) this.#constWaiters.set(s.getConst, l = []);
        l.push(task);
        return;
      }
      // wait
      const futures = s.wait.map((seq) => this.#pending.get(seq) ?? this.#gone(seq));
      const open = futures.filter((f) => !f.done);
      if (open.length === 0) {
        const failed = futures.find((f) => !f.ok);
        if (failed !== undefined) {
          error = failed.value;
          hasError = true;
        } else input = futures.map((f) => f.value);
        continue;
      }
      task.waits = open.length;
      task.waitingOn = s.wait;
      task.held += this.#host.now() - task.heldSince;
      this.#active--;
      for (const f of open) f.waiters.push(task);
      this.#scheduleFlush(); // starts queued tasks, or asks for more
      return;
    }
  }

  /** A future settled and forgotten: only its outcome is kept (see `#settle`). */
  #gone(seq: number): Future {
    const f = this.#finished.get(seq);
    if (f === undefined) throw new Error(`simulated task waits on unknown future ${seq}`);
    return f;
  }

  #finished = new Map<number, Future>();

  /** Submit a task; `main`'s futures are numbered as main's thread numbers them. */
  #submit(name: string, args: unknown[], main: boolean): number {
    const seq = main ? ++this.#lastMainSeq : ++this.#lastSeq;
    const f: Future = { seq, done: false, ok: false, value: undefined, waiters: [] };
    this.#pending.set(seq, f);
    this.#submitBuf.add(seq, name, encodeValue(args, "args"));
    this.#scheduleFlush();
    return seq;
  }

  #settle(seq: number, ok: boolean, value: unknown): void {
    const first = this.#finished.get(seq);
    if (first !== undefined) {
      this.#host.settled(seq, outcome(ok, value), outcome(first.ok, first.value));
      return;
    }
    this.#host.settled(seq, outcome(ok, value));
    const f = this.#pending.get(seq);
    if (f === undefined) return;
    this.#pending.delete(seq);
    f.done = true;
    f.ok = ok;
    f.value = value;
    this.#finished.set(seq, f);
    for (const t of f.waiters) {
      if (--t.waits > 0) continue;
      t.heldSince = this.#host.now();
      this.#active++;
      const futures = t.waitingOn!.map((s) => this.#pending.get(s) ?? this.#finished.get(s)!);
      const failed = futures.find((x) => !x.ok);
      if (failed !== undefined) {
        this.#runnable.push({ task: t, input: undefined, error: failed.value });
      } else this.#runnable.push({ task: t, input: futures.map((x) => x.value) });
    }
  }

  #finish(task: Task, ok: boolean, value: unknown): void {
    this.#active--;
    if (task.idx < 0) {
      task.onDone!(ok, value);
      this.#scheduleFlush();
      return;
    }
    task.held += this.#host.now() - task.heldSince;
    this.#ran++;
    this.#ranMs += task.held;
    this.tasksRun++;
    const payload = ok ? encodeValue(value, "result") : encodeValue(errorShape(value));
    if (task.local !== undefined) {
      this.#settle(task.local.seq, ok, decodeOutcome(ok, payload));
      this.#doneBuf.add(task.idx, ok ? 1 : 0, EMPTY);
    } else {
      this.#doneBuf.add(task.idx, ok ? 1 : 0, payload);
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushArmed) return;
    this.#flushArmed = true;
    this.#host.at(this.#host.now(), () => {
      this.#flushArmed = false;
      // A thread inside a task flushes when the task yields (see `#loop`).
      if (this.#computing) return;
      this.#startQueued();
      this.#postBatch(false);
    });
  }

  #postBatch(more: boolean): void {
    const hungry = more || (this.#runs.length === 0 && this.#active < 1);
    const batch: ExecutorBatch = {
      t: "batch",
      submit: this.#submitBuf.length > 0 ? { ...this.#submitBuf.finish() } : null,
      done: this.#doneBuf.length > 0 ? this.#doneBuf.finish() : null,
      cancel: this.#cancelBuf,
      hungry,
      runs: this.#runsSeen,
      ran: this.#ran,
      ranMs: this.#ranMs,
    };
    this.#ran = 0;
    this.#ranMs = 0;
    this.#cancelBuf = [];
    this.#host.toCore(batch);
  }
}

/** The time a message between the two threads of a peer takes. */
export const THREAD_HOP_MS = HOP_MS;

function outcome(ok: boolean, value: unknown): unknown {
  return ok ? { value } : { error: errorShape(value) };
}

function errorShape(e: unknown): { name: string; message: string } {
  const err = e as Error;
  return { name: err?.name ?? "Error", message: err?.message ?? String(e) };
}

function decodeOutcome(ok: boolean, payload: Uint8Array): unknown {
  const v = decodeValue(payload);
  if (ok) return v;
  const { name, message } = v as { name: string; message: string };
  const e = new SimError(message);
  e.name = name;
  return e;
}
