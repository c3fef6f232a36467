/**
 * The executor worker of a peer: imports the entry module (which fills the task registry),
 * runs the tasks the mesh thread hands it, owns the futures of the tasks submitted here, and
 * runs `main` on the origin. It holds at most the batch it is running and the next one (asked
 * for when half of the current one has started); a task deep in a synchronous loop still
 * strands nothing, because the mesh thread can revoke whatever is not started yet.
 *
 * Like a SCOOP worker, a peer computes one task at a time: it starts the next task only when
 * the running ones have finished or are blocked waiting on futures (the wait hook of
 * `Future` tells it, an `AsyncLocalStorage` slot says which task is waiting). So a task that
 * awaits its children lets its peer run them (no deadlock in deep trees), while tasks that
 * sleep or do I/O keep their peer busy and the rest of the work spreads to idle peers.
 *
 * On the origin the same code runs twice: as the task executor, and as main's thread, which
 * runs `main` and no task (see `executor/protocol.ts`), so that no task can freeze main.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import process from "node:process";
import { decodeValue, encodeValue } from "../codec/mod.ts";
import { GridError, WorkerExitError } from "../errors.ts";
import { type Backend, setBackend } from "../futures/backend.ts";
import { setCallbackErrorReporter } from "../futures/callback-errors.ts";
import { _setWaitHook, Future, ORIGINAL } from "../futures/future.ts";
import { configureLog, logger } from "../log.ts";
import { constFailed, context, setSize, setStarted, storeConst } from "./context.ts";
import { decodeFailure, encodeFailure } from "./failure.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { BUSY_SLOT, isMainSeq, MAIN_SEQ_BASE } from "./protocol.ts";
import { payloadOf, type ResultBatch, resultBuffers, ResultBuilder } from "../results/batch.ts";
import { callOf, lookup, registerModule, type TaskFn } from "./registry.ts";
import { configureSources, receiveSource, SOURCE_PREFIX } from "./source.ts";
import {
  argsOf,
  blockBuffers,
  BlockBuilder,
  isShared,
  type TaskBlock,
} from "../scheduler/block.ts";
import { SeqMap } from "./seq-map.ts";
import { ProgressCounter } from "./progress.ts";
import { TreeRecorder } from "./tree.ts";
import { UnknownTaskError } from "../errors.ts";

declare const self: {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
};

const log = logger("executor");
const EMPTY = new Uint8Array(0);
/** Submits are posted early once this many pile up in one tick (keeps messages bounded). */
const SUBMIT_CHUNK = 8192;

let claim: Int32Array;
let entryExports: Record<string, unknown> = {};
let closed = false;
/** This worker is main's thread: it runs `main` and submits, and never runs a task. */
let mainThread = false;
/** Counts of main's tasks, on main's thread (see `progress.ts`). */
let mainCounts: ProgressCounter | undefined;
/** The task tree, recorded only while the origin's dashboard watches (see `tree.ts`). */
let tree: TreeRecorder | undefined;
let lastSeq = 0;
/** Futures of the tasks submitted here that are not done, by id. */
const pending = new SeqMap<Future<unknown>>();

// What goes out with the next batch message.
// Submitted arguments go to shared memory: the mesh thread keeps them, and hands them back to
// this executor (or sends them to a thief) without a copy.
const submitBuf = new BlockBuilder("", true);
const doneBuf = new ResultBuilder(true);
let cancelBuf: number[] = [];
let flushScheduled = false;

/** A running task (or `main`): how many pending futures it waits on. */
interface Slot {
  waits: number;
  done: boolean;
  /** Milliseconds it held the slot (not blocked on futures), and since when it holds it now. */
  held: number;
  since: number;
  /** Listens on every future the task waits on (one function per task, not per future). */
  listener?: () => void;
  /** Done callbacks of this task, each wrapped once to run in its context (see onWait). */
  wrappers?: Map<unknown, (f: Future<unknown>) => void>;
  /** The task's name (unset for `main`), for messages. */
  task?: string;
  /** The task as `owner:seq`, set only while the tree is recorded (see `tree.ts`). */
  node?: string;
}
const slots = new AsyncLocalStorage<Slot>();
/** Tasks may start while fewer than this many run without being blocked on futures. */
const ACTIVE_LIMIT = 1;
/** Running tasks that are not blocked on futures. */
let active = 0;

function onWait<C>(future: Future<unknown>, callback?: C): C | undefined {
  const slot = slots.getStore();
  if (slot === undefined || slot.done) return undefined;
  if (slot.waits++ === 0) {
    slot.held += performance.now() - slot.since;
    active--;
    progress();
    if (active < limit()) scheduleFlush(); // starts queued tasks, or asks for more
  }
  const listener = slot.listener ??= () => {
    if (--slot.waits === 0 && !slot.done) {
      slot.since = performance.now();
      active++;
      publishBusy();
    }
  };
  if (typeof callback !== "function") {
    future._listen(listener);
    return undefined;
  }
  // The callback runs in this task's context: futures it waits on next are this task's too
  // (mapReduce, wait and asCompleted continue from done callbacks, not from promises). One
  // replacement per task and callback, which also does the slot's bookkeeping: a map of a
  // million calls adds one function, not a million.
  const wrappers = slot.wrappers ??= new Map();
  let wrapped = wrappers.get(callback);
  if (wrapped === undefined) {
    wrapped = (f: Future<unknown>) => {
      listener();
      slots.run(slot, callback as (f: unknown) => void, f);
    };
    (wrapped as unknown as { [ORIGINAL]: unknown })[ORIGINAL] = callback;
    wrappers.set(callback, wrapped);
  }
  return wrapped as C;
}

/**
 * The safety net of the one-active-task rule. Whether a suspended task waits on futures is
 * inferred (see `onWait`); if that inference is ever wrong, a peer could wait forever for a
 * task it will not start. So when the executor has made no progress (no task started, finished
 * or blocked) for WATCHDOG_MS while a task holds the slot, it lets one more task start.
 */
const WATCHDOG_MS = 250;
let allowance = 0;
let progressMark = 0;
let watchdog: ReturnType<typeof setTimeout> | undefined;

function limit(): number {
  return ACTIVE_LIMIT + allowance;
}

/** Tell the mesh thread whether this executor could start a handed task right now. */
function publishBusy(): void {
  Atomics.store(claim, BUSY_SLOT, active >= limit() ? 1 : 0);
}

function progress(): void {
  progressMark++;
  publishBusy();
  if (active <= 0) allowance = 0;
  if (active >= limit() && watchdog === undefined) {
    const mark = progressMark;
    watchdog = setTimeout(() => {
      watchdog = undefined;
      if (mark !== progressMark || active < limit()) return progress();
      allowance++;
      publishBusy();
      log.debug(
        `no progress for ${WATCHDOG_MS} ms while ${active} task(s) hold the slot: one more may start`,
      );
      scheduleFlush();
    }, WATCHDOG_MS);
  }
}

/** Leave the slot of a task that settled. */
function release(slot: Slot): void {
  slot.done = true;
  if (slot.waits === 0) {
    active--;
    slot.held += performance.now() - slot.since;
  }
  progress();
}

/** A "run" message being worked through: `pos` tasks of `n` started; next is `blocks[b][i]`. */
interface Run {
  idx0: number;
  blocks: TaskBlock[];
  n: number;
  pos: number;
  b: number;
  i: number;
}
/** Handed runs with tasks not started yet, oldest first. */
let runs: Run[] = [];

function addRun(idx0: number, all: TaskBlock[]): void {
  const blocks = all.filter((block) => block.seqs.length > 0);
  const n = blocks.reduce((sum, block) => sum + block.seqs.length, 0);
  if (n > 0) runs.push({ idx0, blocks, n, pos: 0, b: 0, i: blocks[0].seqs.length - 1 });
}

/** Forget every handed task from run index `from` on (revoked by the mesh thread). */
function dropFrom(from: number): void {
  runs = runs.filter((run) => {
    run.n = Math.min(run.n, from - run.idx0);
    return run.pos < run.n;
  });
}

function post(message: FromWorker): void {
  self.postMessage(message);
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  startQueued();
  postBatch(false);
}

/**
 * Post what piled up (submits, results, cancels) with whether this executor wants tasks.
 * @param more ask for the next batch although handed tasks are left (see startQueued).
 */
function postBatch(more: boolean): void {
  const hungry = !mainThread && (more || (runs.length === 0 && active < limit()));
  let done = null;
  const transfer: ArrayBuffer[] = [];
  if (doneBuf.length > 0) {
    done = doneBuf.finish();
    transfer.push(...resultBuffers(done));
  }
  let submit = null;
  if (submitBuf.length > 0) {
    submit = submitBuf.finish();
    transfer.push(...blockBuffers(submit));
  }
  self.postMessage(
    {
      t: "batch",
      submit,
      done,
      cancel: cancelBuf,
      hungry,
      runs: mainThread ? -1 : runsSeen,
      ran,
      ranMs,
    },
    transfer,
  );
  ran = 0;
  ranMs = 0;
  cancelBuf = [];
}

const backend: Backend = {
  submit<T>(fn: (...args: never[]) => T | Promise<T>, args: unknown[]) {
    if (closed) throw new GridError("Cannot submit a task: this peer has shut down its futures");
    const [name, call] = callOf(fn, args);
    const bytes = encodeValue(call, "args");
    const seq = ++lastSeq;
    const future = new Future<Awaited<T>>(seq, onCancel as (f: Future<Awaited<T>>) => void);
    pending.set(seq, future as Future<unknown>);
    mainCounts?.submitted();
    if (tree !== undefined) tree.submitted(slots.getStore()?.node ?? "", seq, name);
    // Large arguments, encoded into shared memory, leave in blocks of their own: joined with
    // others they would be copied.
    const large = isShared(bytes);
    if (large && submitBuf.length > 0) postBatch(false);
    submitBuf.add(seq, name, bytes);
    if (large) postBatch(false);
    else if (submitBuf.length >= SUBMIT_CHUNK) flush();
    else scheduleFlush();
    return future;
  },
  shutdown() {
    if (!closed) {
      closed = true;
      for (const f of [...pending.values()]) f.cancel();
      post({ t: "shutdown" });
    }
    return Promise.resolve();
  },
};

function onCancel(future: Future<unknown>): void {
  pending.delete(future.id);
  mainCounts?.settled(false);
  cancelBuf.push(future.id);
  scheduleFlush();
}

function settle(future: Future<unknown>, ok: 0 | 1, payload: Uint8Array): void {
  mainCounts?.settled(ok === 1);
  // A result this peer cannot read (a function it cannot resolve) fails its future, not the
  // others of the batch.
  let value: unknown;
  try {
    value = ok ? decodeValue(payload) : decodeFailure(payload);
  } catch (err) {
    future._reject(err);
    return;
  }
  if (ok) future._resolve(value);
  else future._reject(value);
}

/** Start handed tasks in order while a slot is free and the mesh thread has not revoked them. */
function drain(): void {
  startQueued();
  scheduleFlush();
}

/** "run" messages received (see the `runs` field of batch messages). */
let runsSeen = 0;
/** Set once the next batch was asked for ahead of time; cleared when a batch arrives. */
let prefetched = false;

function startQueued(): void {
  while (runs.length > 0 && active < limit()) {
    const run = runs[0];
    const idx = run.idx0 + run.pos;
    if (Atomics.compareExchange(claim, 0, idx, idx + 1) !== idx) break; // revoked
    const block = run.blocks[run.b];
    const i = run.i;
    if (++run.pos === run.n) runs.shift();
    else if (run.i > 0) run.i--;
    else run.i = run.blocks[++run.b].seqs.length - 1;
    // Half of the last batch started: ask for the next one now, so that it arrives while
    // this one computes instead of after; waking the mesh thread can take milliseconds on a
    // loaded host (a long task strands nothing: unstarted tasks are revoked).
    if (!prefetched && (runs.length === 0 || (runs.length === 1 && run.pos * 2 >= run.n))) {
      prefetched = true;
      postBatch(true);
    }
    start(block, i, idx);
  }
}

/**
 * Tasks finished since the last batch message, and how long they held the slot (computing,
 * or waiting on anything but futures): what the mesh thread sizes batches by.
 */
let ran = 0;
let ranMs = 0;

/** Release a task's slot and count it in `ran`. */
function releaseTask(slot: Slot): void {
  release(slot);
  ran++;
  ranMs += slot.held;
}

/** Start task `i` of `block` (run index `idx`). */
function start(block: TaskBlock, i: number, idx: number): void {
  const seq = block.seqs[i];
  const name = block.names[block.kinds[i]];
  let local: Future<unknown> | undefined;
  // One of main's (origin) is main's thread's to settle: its result goes by the mesh thread.
  if (block.owner === context.peerId && !isMainSeq(seq)) {
    local = pending.get(seq);
    if (local === undefined || local.cancelled()) {
      // Cancelled while queued: nothing to run, nothing to report but the slot.
      doneBuf.add(idx, 1, EMPTY);
      return;
    }
    local._setRunning();
  }
  let value: unknown;
  const slot: Slot = { waits: 0, done: false, held: 0, since: performance.now(), task: name };
  if (tree !== undefined) {
    slot.node = `${block.owner}:${seq}`;
    tree.started(slot.node);
  }
  active++;
  progress();
  try {
    const fn: TaskFn | undefined = lookup(name);
    if (fn === undefined) throw new UnknownTaskError(name);
    Atomics.store(claim, BUSY_SLOT, 1); // inside its synchronous code until it returns
    value = slots.run(slot, fn, ...(decodeValue(argsOf(block, i)) as unknown[]));
  } catch (err) {
    releaseTask(slot);
    finish(idx, seq, local, 0, err);
    return;
  }
  if (value !== null && typeof (value as PromiseLike<unknown>)?.then === "function") {
    publishBusy(); // its synchronous part is over; it may still hold the slot
    (value as PromiseLike<unknown>).then(
      (v) => {
        releaseTask(slot);
        finish(idx, seq, local, 1, v);
      },
      (e) => {
        releaseTask(slot);
        finish(idx, seq, local, 0, e);
      },
    );
  } else {
    releaseTask(slot);
    finish(idx, seq, local, 1, value);
  }
}

function finish(
  idx: number,
  seq: number,
  local: Future<unknown> | undefined,
  ok: 0 | 1,
  v: unknown,
) {
  let payload: Uint8Array;
  if (ok) {
    try {
      payload = encodeValue(v, "result");
    } catch (err) {
      ok = 0;
      payload = encodeFailure(err, context.peerId);
    }
  } else {
    payload = encodeFailure(v, context.peerId);
  }
  if (local !== undefined) {
    pending.delete(seq);
    settle(local, ok, payload);
    doneBuf.add(idx, ok, EMPTY);
  } else {
    doneBuf.add(idx, ok, payload);
  }
  scheduleFlush();
}

function resolve(r: ResultBatch | null, started: number[]): void {
  for (const seq of started) pending.get(seq)?._setRunning();
  if (r === null) return;
  for (let i = 0; i < r.keys.length; i++) {
    const seq = r.keys[i];
    const future = pending.get(seq);
    if (future === undefined) continue; // cancelled, or a duplicate
    pending.delete(seq);
    settle(future, r.oks[i] as 0 | 1, payloadOf(r, i));
  }
}

const identified = Promise.withResolvers<void>();
let constId = 0;
const constWaiters = new Map<number, { resolve(): void; reject(e: Error): void }>();

/** What runs in this context, for messages: `main`, `task "name"`, or undefined (neither). */
function running(): string | undefined {
  const slot = slots.getStore();
  if (slot === undefined) return undefined;
  return slot.task === undefined ? "main" : `task "${slot.task}"`;
}

/**
 * Make every way for user code to end this executor throw instead: a task that calls
 * `process.exit(7)` fails with a {@link WorkerExitError}, and the executor (with every other
 * task and future it holds) runs on. Unguarded, Bun ends the thread and Deno ends it silently,
 * while the peer's mesh thread still answers its neighbours: the job would hang.
 */
function guardExit(): void {
  const refuse = (how: string) => (code?: number) => {
    const who = running() ?? "code outside any task";
    throw new WorkerExitError(
      `${who} called ${how}(${code ?? ""}) on peer ${context.peerId}: tasks and main cannot ` +
        `end a peer's executor (throw an error to fail the task; return from main to end the job)`,
      code,
    );
  };
  const g = globalThis as unknown as {
    Deno?: Record<string, unknown>;
    close?: unknown;
  };
  process.exit = refuse("process.exit") as typeof process.exit;
  if (g.Deno !== undefined) {
    try {
      Object.defineProperty(g.Deno, "exit", { value: refuse("Deno.exit"), configurable: true });
    } catch {
      // a runtime that forbids it: Deno.exit then ends the executor as before
    }
  }
  if (typeof g.close === "function") g.close = () => refuse("self.close")();
}

/**
 * An error nobody catches — thrown from a timer or callback a task left behind, or a promise
 * rejected with no handler — is logged, and the executor goes on: unguarded, either ends the
 * thread on Bun and Deno, and with it every task and future it holds.
 */
function guardStrayErrors(): void {
  const where = () => {
    const who = running();
    return who === undefined ? "" : ` (from ${who})`;
  };
  // Node's hooks: a listener keeps the thread alive on Bun and on Deno (their "error" and
  // "unhandledrejection" events, prevented, still end a Bun worker).
  process.on("uncaughtException", (err) => {
    log.error(`uncaught error${where()}; the executor goes on:`, err);
  });
  process.on("unhandledRejection", (reason) => {
    log.error(`unhandled promise rejection${where()}; the executor goes on:`, reason);
  });
}

async function init(m: Extract<ToWorker, { t: "init" }>): Promise<void> {
  configureLog({ level: m.level, file: m.logFile });
  guardExit();
  guardStrayErrors();
  claim = new Int32Array(m.claim);
  context.isOrigin = m.isOrigin;
  mainThread = m.main;
  if (mainThread) lastSeq = MAIN_SEQ_BASE;
  // The launcher's progress bar counts what main submits.
  if (mainThread) mainCounts = new ProgressCounter(post);
  context.size = 1;
  context.hooks = {
    broadcastConsts(entries) {
      const id = mainThread ? --constId : ++constId;
      return new Promise<void>((resolve, reject) => {
        constWaiters.set(id, { resolve, reject });
        post({ t: "setConst", id, entries });
      });
    },
  };
  configureSources({ allowed: !m.noSource, share: shareSource });
  setBackend(backend);
  _setWaitHook(onWait);
  setCallbackErrorReporter((err, future) => {
    log.error(`A done callback of future ${future.id} threw:`, err);
  });
  try {
    entryExports = await import(m.entry) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error;
    post({ t: "failed", message: `Cannot load entry module ${m.entry}: ${e?.stack ?? e}` });
    return;
  }
  registerModule(entryExports);
  await identified.promise; // ready means: loaded, and knows who it is
  post({ t: "ready", hasMain: mainFunction() !== undefined });
}

/** A function's source goes to every peer once, as a constant (see source.ts). */
function shareSource(name: string, source: string): void {
  context.hooks!.broadcastConsts([[name, encodeValue(source)]]).catch((err: Error) => {
    log.debug(`Cannot share source ${name}: ${err.message}`);
  });
}

function mainFunction(): ((args: string[]) => unknown) | undefined {
  const exported = entryExports.main;
  return typeof exported === "function" ? exported as (args: string[]) => unknown : context.main;
}

/** Run `main` (in main's thread, which runs nothing else: it takes no slot). */
async function runMain(args: string[]): Promise<void> {
  let ok: 0 | 1 = 1;
  let payload: Uint8Array;
  // A slot only to name main in errors (see guardExit).
  const slot: Slot = { waits: 0, done: true, held: 0, since: performance.now() };
  try {
    const value = await slots.run(slot, mainFunction()!, args);
    try {
      payload = encodeValue(value, "main's result");
    } catch {
      payload = encodeValue(undefined);
    }
  } catch (err) {
    ok = 0;
    payload = encodeFailure(err, context.peerId);
  }
  mainCounts?.flush(); // the bar's last state before it stops
  post({ t: "mainDone", ok, payload });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  switch (m.t) {
    case "run":
      runsSeen++;
      prefetched = false;
      addRun(m.idx0, m.blocks);
      drain();
      break;
    case "resolve":
      resolve(m.r, m.started);
      break;
    case "revoked":
      // Drop the revoked tasks (the mesh thread requeued them) and reopen claiming.
      dropFrom(m.from);
      Atomics.store(claim, 0, m.to + 1);
      drain();
      break;
    case "const":
      try {
        if (m.name.startsWith(SOURCE_PREFIX)) receiveSource(m.name, decodeValue(m.value));
        else storeConst(m.name, decodeValue(m.value));
      } catch (err) {
        // Whoever reads it gets why, rather than waiting for it.
        log.warn(`Cannot read constant "${m.name}" here: ${(err as Error).message}`);
        constFailed(m.name, err as Error);
      }
      break;
    case "constDone": {
      const w = constWaiters.get(m.id);
      constWaiters.delete(m.id);
      if (m.error) w?.reject(new GridError(m.error));
      else w?.resolve();
      break;
    }
    case "size":
      setSize(m.n);
      break;
    case "identity":
      context.peerId = m.peerId;
      configureLog({ prefix: m.prefix });
      identified.resolve();
      break;
    case "main":
      context.started = m.peers;
      void runMain(m.args);
      break;
    case "started":
      setStarted(m.n);
      break;
    case "watch":
      tree ??= new TreeRecorder(post);
      break;
    case "init":
      init(m).catch((err) => log.error("executor start-up failed:", err));
      break;
    case "warm":
      // A failure shows again, and is reported, when the entry imports the same.
      import("../../mod.ts").catch(() => {});
      break;
  }
};
