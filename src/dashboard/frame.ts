/**
 * A peer's telemetry frame for the origin's dashboard, and its check. Each peer sends one at
 * most every `TELEMETRY_MIN_MS` (core/dashboard.ts) while a dashboard is open: where it runs,
 * its load, its counters since it started (so a lost frame loses nothing but a sample), and
 * what its threads recorded of the task tree since its last frame (`executor/tree.ts`).
 *
 * Frames come from the network: {@link readFrame} refuses any that is not exactly this shape,
 * within these bounds, with a reason the origin logs in one line.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { MAX_TREE_EDGES, MAX_TREE_RUNS, type TreeEdge } from "../executor/tree.ts";

/** Counters of a peer since it started (see `PeerStats`). */
export interface FrameCounters {
  /** Tasks its executor finished, and how many of those threw. */
  finished: number;
  failed: number;
  /** Steal requests it sent, and how many brought tasks. */
  steals: number;
  stealHits: number;
  /** Tasks it queued again because a peer that held them was lost. */
  requeued: number;
}

/** One peer's telemetry frame (see the module doc); a type, so that it is a plain record. */
export type TelemetryFrame = {
  /** The host it runs on, its runtime (`bun 1.4.5`) and process id. */
  host: string;
  runtime: string;
  pid: number;
  /** Tasks a thief could take from it now (its gossiped load). */
  load: number;
  counters: FrameCounters;
  /** Submits of its threads since the last frame: `[parent, seq, name]`, seq of this peer. */
  edges: TreeEdge[];
  /** Tasks that started on it since the last frame, as `owner:seq`. */
  ran: string[];
  /** Submits left out of `edges` (past each thread's bound) since the last frame. */
  more: number;
};

/** Threads of a peer that record the tree: its executor, and main's thread on the origin. */
const THREADS = 2;
const MAX_TEXT = 256;
const COUNTERS = ["finished", "failed", "steals", "stealHits", "requeued"] as const;

function fail(what: string): never {
  throw new ProtocolError(`Malformed telemetry: ${what}`);
}

function count(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(`${field} must be a non-negative integer`);
  }
  return v;
}

function text(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length > MAX_TEXT) {
    fail(`${field} must be a string of at most ${MAX_TEXT} characters`);
  }
  return v;
}

function list(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length > max) {
    fail(`${field} must be a list of at most ${max} entries`);
  }
  return v;
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(`${field} must be an object`);
  }
  return v as Record<string, unknown>;
}

/**
 * Check a frame from the network and return it typed (a copy of only its known fields).
 * @throws {ProtocolError} it is not a {@link TelemetryFrame}, or past a bound
 */
export function readFrame(raw: unknown): TelemetryFrame {
  const f = record(raw, "frame");
  const c = record(f.counters, "counters");
  const counters = {} as FrameCounters;
  for (const key of COUNTERS) counters[key] = count(c[key], `counters.${key}`);
  return {
    host: text(f.host, "host"),
    runtime: text(f.runtime, "runtime"),
    pid: count(f.pid, "pid"),
    load: count(f.load, "load"),
    counters,
    edges: list(f.edges, "edges", THREADS * MAX_TREE_EDGES).map((e, i) => {
      const [parent, seq, name] = list(e, `edges[${i}]`, 3);
      return [text(parent, "edge parent"), count(seq, "edge seq"), text(name, "edge name")];
    }),
    ran: list(f.ran, "ran", THREADS * MAX_TREE_RUNS).map((r) => text(r, "ran entry")),
    more: count(f.more, "more"),
  };
}
