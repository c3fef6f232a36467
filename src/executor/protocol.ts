/**
 * Messages between a peer's mesh thread and its executor workers. The mesh thread owns the
 * task deque (so it can be stolen from while the worker computes); the workers own the
 * futures, and the task executor runs the tasks. Both sides batch: one message per tick each
 * way.
 *
 * The origin has a second worker, main's thread, which runs `main` and owns the futures it
 * submits, and runs no task: a task deep in a synchronous loop cannot hold up main's timeouts,
 * `wait`, `cancel` or `shutdown`. Its futures have sequence numbers from
 * {@link MAIN_SEQ_BASE} on, so that results find their thread by number alone.
 *
 * @module
 */
import type { ProgressMessage } from "./progress.ts";
import type { TreeMessage } from "./tree.ts";
import type { Level } from "../log.ts";
import type { ResultBatch } from "../results/batch.ts";
import type { TaskBlock } from "../scheduler/block.ts";

/** Mesh thread → worker. */
export type ToWorker =
  /**
   * Load scoop's modules now, before the entry is known (a joiner fetching the job's code):
   * the entry's import of them is then quick.
   */
  | { t: "warm" }
  | {
    t: "init";
    entry: string;
    isOrigin: boolean;
    /** This worker is main's thread (origin): it runs `main` and no task. */
    main: boolean;
    level: Level;
    /** `--log FILE`: where this thread's lines go (else stderr). */
    logFile?: string;
    /** `--no-source`: send and compile no function as source (see executor/source.ts). */
    noSource?: boolean;
    /** One Int32 slot: index of the next handed task the worker may start (see claim()). */
    claim: SharedArrayBuffer;
  }
  /** The peer's id, once its node is up (right after init; before any task). */
  | { t: "identity"; peerId: string; prefix: string }
  | { t: "main"; args: string[]; peers: number }
  /** Fewer peers than said with "main" are to come (a host's could not start). */
  | { t: "started"; n: number }
  /**
   * Tasks handed to the worker: the blocks in order, each run from its last task to its first
   * (newest first); run indices count up from `idx0` in that order.
   */
  | { t: "run"; idx0: number; blocks: TaskBlock[] }
  | { t: "revoked"; from: number; to: number }
  /** Results for futures this worker owns (keyed by seq), and seqs that started elsewhere. */
  | { t: "resolve"; r: ResultBatch | null; started: number[] }
  | { t: "const"; name: string; value: Uint8Array }
  | { t: "constDone"; id: number; error?: string }
  | { t: "size"; n: number }
  /** The origin's dashboard watches: record the task tree (see `tree.ts`). */
  | { t: "watch" };

/** Worker → mesh thread. */
export type FromWorker =
  | { t: "ready"; hasMain: boolean }
  | ProgressMessage
  | TreeMessage
  | { t: "failed"; message: string }
  | {
    t: "batch";
    /** Tasks submitted since the last batch (owner ""), or null. */
    submit: TaskBlock | null;
    /** Finished runs, keyed by run index; payloads are empty when the owner is local. */
    done: ResultBatch | null;
    cancel: number[];
    /** The worker has nothing left to start. */
    hungry: boolean;
    /**
     * How many "run" messages the worker had received when it wrote this. The mesh thread
     * believes `hungry` only if that is every run it sent: an older hunger was already fed.
     * Main's thread, which is sent no runs, says -1.
     */
    runs: number;
    /** Tasks finished since the last batch message (for sizing batches). */
    ran: number;
    /** Milliseconds those tasks held the executor (not blocked on futures). */
    ranMs: number;
  }
  /** Constants to broadcast; `id` counts up from 1 in the task executor, down from -1 in main's. */
  | { t: "setConst"; id: number; entries: [string, Uint8Array][] }
  | { t: "mainDone"; ok: 0 | 1; payload: Uint8Array }
  | { t: "shutdown" };

/**
 * Revocation, shared between the two threads through one Int32 slot `claim`:
 * the worker starts handed task `idx` only if it moves the slot from `idx` to `idx + 1`;
 * the mesh thread revokes every handed task from `cur` on by moving the slot from `cur` to
 * `-1 - cur`, after which no claim succeeds until the worker reads the "revoked" message and
 * sets the slot to the next index. This is how tasks queued behind a long synchronous task
 * are given back, so that idle peers can steal them.
 */
export const CLAIM_SLOT = 0;

/**
 * The second Int32 slot of the same buffer: 1 while the worker cannot start a handed task now
 * (it is inside a task's synchronous code, or its running tasks hold the slot), 0 otherwise.
 * The mesh thread revokes handed tasks, and counts them as stealable, only while it is 1: a
 * worker that is free will start them as soon as their message arrives, and revoking those
 * made a large task bounce between two idle peers.
 */
export const BUSY_SLOT = 1;

/**
 * Sequence numbers of the futures main's thread submits start here (2^48: a peer submitting a
 * million tasks a second takes nine years to reach it); the task executor's start at 1.
 */
export const MAIN_SEQ_BASE = 2 ** 48;

/** Whether the future numbered `seq` belongs to main's thread (see {@link MAIN_SEQ_BASE}). */
export function isMainSeq(seq: number): boolean {
  return seq >= MAIN_SEQ_BASE;
}
