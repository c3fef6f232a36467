/**
 * What the dashboard shows, built from the peers' telemetry frames on the origin: the peers
 * and their hosts, their load and the grid's tasks per second over the last two minutes, the
 * grid's counters, main's progress, the task tree (its first `MAX_TREE_NODES` tasks, with a
 * count of the rest), and how the job ended. It does no I/O and reads no clock (the time
 * comes with each call), so the tests drive it frame by frame; `server.ts` serves its
 * {@link DashboardModel.snapshot}.
 *
 * @module
 */
import type { Progress } from "../launcher/progress.ts";
import { type FrameCounters, readFrame, type TelemetryFrame } from "./frame.ts";

/** Samples kept for the charts: two minutes at one every 500 ms. */
export const MAX_SAMPLES = 240;
/** Tasks of the tree shown; the rest are counted. */
export const MAX_TREE_NODES = 1000;
/** A peer silent this long while the job runs is shown as quiet, in ms. */
export const QUIET_MS = 2500;

/** One peer as the page shows it. */
export interface PeerView extends FrameCounters {
  id: string;
  host: string;
  runtime: string;
  pid: number;
  origin: boolean;
  load: number;
  /** No frame for `QUIET_MS` while the job runs (it left, or hangs). */
  quiet: boolean;
}

/** The task tree as the page draws it. */
export interface TreeView {
  /** Changes whenever the tree does: the page asks for the tree only when it changed. */
  version: number;
  /** `[id, parent ("" for main's, "?" not known yet), name, the peer it ran on ("" if not known)]`. */
  nodes: [id: string, parent: string, name: string, ranOn: string][];
}

/** Everything the page shows, at one time. */
export interface Snapshot {
  entry: string;
  /** Milliseconds since the job started (or until it ended). */
  elapsed: number;
  state: "starting" | "running" | "finished" | "failed";
  /** How the job ended, in one line. */
  outcome?: string;
  /** Main's tasks (the progress bar's counts). */
  main?: Progress;
  totals: FrameCounters & { rate: number; load: number };
  peers: PeerView[];
  /** Sample times (ms since the start), the grid's tasks per second, each peer's load. */
  series: { t: number[]; rate: number[]; loads: Record<string, (number | null)[]> };
  /** Left out when the page has this version of it already. */
  tree?: TreeView;
  /** Tasks of the tree past `MAX_TREE_NODES`, and submits the peers left out of their frames. */
  omitted: number;
}

interface PeerRecord extends PeerView {
  heardAt: number;
}

interface TreeNode {
  parent: string;
  name: string;
  ranOn: string;
}

const ZERO: FrameCounters = { finished: 0, failed: 0, steals: 0, stealHits: 0, requeued: 0 };

/** The dashboard's data (see the module doc). */
export class DashboardModel {
  readonly #entry: string;
  #origin = "";
  #startedAt: number | undefined;
  #endedAt: number | undefined;
  #ok: boolean | undefined;
  #outcome: string | undefined;
  #main: Progress | undefined;
  #peers = new Map<string, PeerRecord>();
  #t: number[] = [];
  #finished: number[] = [];
  #rate: number[] = [];
  #loads = new Map<string, (number | null)[]>();
  #nodes = new Map<string, TreeNode>();
  /** Starts heard of before their task's submit (frames of two peers cross). */
  #ranEarly = new Map<string, string>();
  #omitted = 0;
  #version = 0;

  constructor(entry: string) {
    this.#entry = entry;
  }

  /** `main` started on the origin `origin`. */
  started(origin: string, now: number): void {
    this.#origin = origin;
    this.#startedAt ??= now;
  }

  /** Main's thread told its counts. */
  progress(p: Progress): void {
    this.#main = { submitted: p.submitted, settled: p.settled, failed: p.failed };
  }

  /** The job ended: `outcome` says how, in one line. */
  finished(ok: boolean, outcome: string, now: number): void {
    this.#endedAt ??= now;
    this.#ok = ok;
    this.#outcome = outcome;
  }

  /**
   * A frame from peer `from`, as it came from the network.
   * @throws {ProtocolError} a malformed frame (nothing of it is taken)
   */
  telemetry(from: string, raw: unknown, now: number): void {
    const f = readFrame(raw);
    this.#peers.set(from, {
      id: from,
      host: f.host,
      runtime: f.runtime,
      pid: f.pid,
      origin: false,
      load: f.load,
      ...f.counters,
      quiet: false,
      heardAt: now,
    });
    this.#grow(from, f);
  }

  /** Take a sample of the totals for the charts (every 500 ms while the job runs). */
  sample(now: number): void {
    if (this.#startedAt === undefined || this.#endedAt !== undefined) return;
    const t = now - this.#startedAt;
    let finished = 0;
    for (const p of this.#peers.values()) finished += p.finished;
    // The rate over the last two samples: peers' frames come at their own times.
    const k = Math.max(0, this.#t.length - 2);
    const dt = this.#t.length === 0 ? 0 : t - this.#t[k];
    this.#t.push(t);
    this.#finished.push(finished);
    this.#rate.push(dt > 0 ? Math.round(((finished - this.#finished[k]) * 1000) / dt) : 0);
    const n = this.#t.length;
    for (const [id, p] of this.#peers) {
      let loads = this.#loads.get(id);
      if (loads === undefined) this.#loads.set(id, loads = new Array(n - 1).fill(null));
      loads.push(p.quiet ? null : p.load);
    }
    for (const loads of this.#loads.values()) if (loads.length < n) loads.push(null);
    if (n > MAX_SAMPLES) {
      for (const a of [this.#t, this.#finished, this.#rate, ...this.#loads.values()]) a.shift();
    }
  }

  /** What the page shows now; the tree only if it is not at version `hasTree`. */
  snapshot(now: number, hasTree = -1): Snapshot {
    const running = this.#endedAt === undefined;
    const totals = { ...ZERO, rate: this.#rate.at(-1) ?? 0, load: 0 };
    const peers: PeerView[] = [];
    for (const p of this.#peers.values()) {
      if (running) p.quiet = now - p.heardAt > QUIET_MS;
      const { heardAt: _, ...view } = p;
      peers.push({ ...view, origin: p.id === this.#origin });
      for (const key of Object.keys(ZERO) as (keyof FrameCounters)[]) totals[key] += p[key];
      if (!p.quiet) totals.load += p.load;
    }
    if (!running) totals.rate = 0;
    const out: Snapshot = {
      entry: this.#entry,
      elapsed: this.#startedAt === undefined ? 0 : (this.#endedAt ?? now) - this.#startedAt,
      state: this.#startedAt === undefined
        ? "starting"
        : running
        ? "running"
        : this.#ok
        ? "finished"
        : "failed",
      outcome: this.#outcome,
      main: this.#main,
      totals,
      peers,
      series: { t: this.#t, rate: this.#rate, loads: Object.fromEntries(this.#loads) },
      omitted: this.#omitted,
    };
    if (hasTree !== this.#version) out.tree = this.tree();
    return out;
  }

  /** The task tree (see {@link TreeView}). */
  tree(): TreeView {
    const nodes: TreeView["nodes"] = [];
    for (const [id, n] of this.#nodes) nodes.push([id, n.parent, n.name, n.ranOn]);
    return { version: this.#version, nodes };
  }

  /** Add what `from` recorded of the tree. */
  #grow(from: string, f: TelemetryFrame): void {
    const before = this.#nodes.size;
    let changed = false;
    for (const [parent, seq, name] of f.edges) {
      const id = `${from}:${seq}`;
      const node = this.#node(id);
      if (node === undefined) continue;
      node.parent = parent;
      node.name = name;
      // A task that submits runs where its children are submitted.
      const up = parent === "" ? undefined : this.#node(parent, false);
      if (up !== undefined) up.ranOn = from;
      changed = true;
    }
    for (const id of f.ran) {
      const node = this.#nodes.get(id);
      if (node !== undefined) {
        node.ranOn = from;
        changed = true;
      } else if (this.#ranEarly.size < MAX_TREE_NODES) this.#ranEarly.set(id, from);
    }
    this.#omitted += f.more;
    if (changed || this.#nodes.size !== before) this.#version++;
  }

  /**
   * The node `id`, added (parent and name not known yet) while there is room; past it, one
   * more omitted when `counted` (a parent is counted when its own submit comes).
   */
  #node(id: string, counted = true): TreeNode | undefined {
    let node = this.#nodes.get(id);
    if (node !== undefined) return node;
    if (this.#nodes.size >= MAX_TREE_NODES) {
      if (counted) this.#omitted++;
      return undefined;
    }
    node = { parent: "?", name: "", ranOn: this.#ranEarly.get(id) ?? "" };
    this.#ranEarly.delete(id);
    this.#nodes.set(id, node);
    return node;
  }
}
