/**
 * What a peer tells the origin's dashboard, gathered between two frames: its threads' record
 * of the task tree (`executor/tree.ts`), and at each frame its counters and load. A peer has
 * one only once the origin asks (see `core/dashboard.ts`).
 *
 * @module
 */
import { hostname } from "node:os";
import process from "node:process";
import type { TelemetryFrame } from "../dashboard/frame.ts";
import type { PeerStats } from "../core/context.ts";
import type { TreeEdge, TreeMessage } from "../executor/tree.ts";
import { runtimeVersion } from "../runtime/mod.ts";

/** A peer's telemetry between frames (see the module doc). */
export class TelemetryFeed {
  readonly #host = hostname();
  readonly #runtime = runtimeVersion();
  #edges: TreeEdge[] = [];
  #ran: string[] = [];
  #more = 0;

  /** A thread told what it recorded (each thread bounds its own record). */
  tree(m: TreeMessage): void {
    this.#edges.push(...m.edges);
    this.#ran.push(...m.ran);
    this.#more += m.more;
  }

  /** The next frame: the counters and load now, and the tree recorded since the last one. */
  frame(stats: PeerStats, load: number): TelemetryFrame {
    const frame: TelemetryFrame = {
      host: this.#host,
      runtime: this.#runtime,
      pid: process.pid,
      load,
      counters: {
        finished: stats.finished,
        failed: stats.failed,
        steals: stats.steals,
        stealHits: stats.stealHits,
        requeued: stats.requeued,
      },
      edges: this.#edges,
      ran: this.#ran,
      more: this.#more,
    };
    this.#edges = [];
    this.#ran = [];
    this.#more = 0;
    return frame;
  }
}
