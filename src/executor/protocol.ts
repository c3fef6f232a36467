/**
 * Messages between a peer's mesh thread and its executor worker. The mesh thread owns the
 * task deque (so it can be stolen from while the worker computes); the worker owns the
 * futures and runs the tasks. Both sides batch: one message per tick each way.
 *
 * @module
 */
import type { Level } from "../log.ts";
import type { ResultBatch } from "../results/batch.ts";
import type { TaskBlock } from "../scheduler/block.ts";

/** Mesh thread → worker. */
export type ToWorker =
  | {
    t: "init";
    entry: string;
    isOrigin: boolean;
    level: Level;
    /** One Int32 slot: index of the next handed task the worker may start (see claim()). */
    claim: SharedArrayBuffer;
  }
  /** The peer's id, once its node is up (right after init; before any task). */
  | { t: "identity"; peerId: string; prefix: string }
  | { t: "main"; args: string[]; peers: number }
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
  | { t: "size"; n: number };

/** Worker → mesh thread. */
export type FromWorker =
  | { t: "ready"; hasMain: boolean }
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
     */
    runs: number;
    /** Tasks finished since the last batch message (for sizing batches). */
    ran: number;
    /** Milliseconds those tasks held the executor (not blocked on futures). */
    ranMs: number;
  }
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
