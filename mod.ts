/**
 * scoop — SCOOP's futures for TypeScript, on Bun and Deno, over a brokerless libp2p mesh.
 *
 * Write ordinary functions, export them from your entry module, and call `futures.map` /
 * `futures.submit` from `main`; tasks may submit tasks at any depth. Run the same file on one
 * host (`bun cli.ts -n 8 app.ts`, `deno run -A cli.ts -n 8 app.ts`, or `bun app.ts` with
 * `run(main)`) and every peer shares the work by stealing from the others.
 *
 * @example Monte Carlo pi
 * ```ts
 * import { futures, run } from "./mod.ts";
 *
 * export function hits(n: number): number {
 *   let h = 0;
 *   for (let i = 0; i < n; i++) {
 *     const x = Math.random(), y = Math.random();
 *     if (x * x + y * y <= 1) h++;
 *   }
 *   return h;
 * }
 *
 * export async function main(): Promise<void> {
 *   const counts = await futures.map(hits, Array(100).fill(100_000));
 *   console.log(4 * counts.reduce((a, b) => a + b, 0) / 10_000_000);
 * }
 *
 * if (import.meta.main) run(main);
 * ```
 *
 * @module
 */
import process from "node:process";
import { context, getConst, setConst, waitForPeers } from "./src/executor/context.ts";
import { launch } from "./src/launcher/launch.ts";
import { report } from "./src/launcher/report.ts";
import { type Logger, logger } from "./src/log.ts";
import { cores, mainModulePath, type RuntimeName } from "./src/runtime/mod.ts";

export {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  futures,
  MapResult,
} from "./src/futures/api.ts";
export type {
  AsCompletedOptions,
  MapOptions,
  MapReduceOptions,
  MapScanOptions,
} from "./src/futures/api.ts";
export { Future } from "./src/futures/future.ts";
export { partial, task } from "./src/executor/registry.ts";
export {
  CancelledError,
  GridError,
  MembershipError,
  ProtocolError,
  TaskError,
  TimeoutError,
  UnknownTaskError,
  UsageError,
  WorkerExitError,
} from "./src/errors.ts";
export type { Logger } from "./src/log.ts";

/**
 * Read-only constants shared by every peer, late joiners included.
 *
 * @example Share a data set once instead of sending it with every task
 * ```ts
 * await shared.setConst({ table: new Float64Array(1e6) });
 * // …in any task, on any peer:
 * const table = await shared.getConst<Float64Array>("table", { timeout: 5000 });
 * ```
 */
export const shared = Object.freeze({
  /**
   * Broadcast `{ name: value, … }` to every peer; resolves once every current peer has them.
   * @throws {TypeError} a name is already defined, or a value cannot cross the wire
   */
  setConst,
  /**
   * Wait for a constant and return it (a stored `undefined` or `null` is returned as such).
   * @throws {TimeoutError} it was not set within `timeout` ms
   */
  getConst,
});

const appLog: Logger = logger("app");

/** This peer, as seen from a task or from `main`: the type of {@link grid}. */
export interface Grid {
  /** This peer's id ("" outside a grid). */
  readonly peerId: string;
  /** True on the peer that runs `main`. */
  readonly isOrigin: boolean;
  /** Live peers in the grid, this one included. */
  readonly size: number;
  /** A logger whose lines carry this peer's prefix (`-v` for debug). */
  readonly logger: Logger;
  /**
   * Wait until at least `n` peers are live, this one included; resolves with the size then.
   * `main` starts as soon as the origin is up, and the other peers join while it runs and take
   * work as they come: await this first when every peer must be there from the first task (to
   * measure a speedup, say). By default `n` is, on the origin, every peer the launcher started
   * (`-n`), elsewhere 1.
   * @throws {TimeoutError} fewer than `n` peers were live after `options.timeout` ms
   *
   * @example
   * ```ts
   * export async function main() {
   *   await grid.waitForPeers(); // all of `-n`
   *   const t0 = performance.now();
   *   …
   * }
   * ```
   */
  waitForPeers(n?: number, options?: { timeout?: number; signal?: AbortSignal }): Promise<number>;
}

/** This peer, as seen from a task or from `main`. */
export const grid: Grid = Object.freeze({
  get peerId(): string {
    return context.peerId;
  },
  get isOrigin(): boolean {
    return context.isOrigin;
  },
  get size(): number {
    return context.size;
  },
  get logger(): Logger {
    return appLog;
  },
  waitForPeers(
    n?: number,
    options?: { timeout?: number; signal?: AbortSignal },
  ): Promise<number> {
    return waitForPeers(n, options);
  },
});

/** Options of {@link run}. */
export interface RunOptions {
  /** Peers on this host, the origin included. @default the number of cores */
  workers?: number;
  /** Arguments for `main`. @default the process's arguments after the script */
  args?: string[];
  /** Grid name. @default "scoop" */
  grid?: string;
  /** Runtime of the other peers. @default this one */
  runtime?: RuntimeName;
}

/**
 * Run `main` on an embedded local grid: this process becomes the origin and starts
 * `workers - 1` more peers, exactly as `cli.ts -n` would. When `main` settles every peer
 * exits and so does this process, with status 0 or (after printing the error) non-zero.
 *
 * Inside a peer — when the module is imported to find its tasks — it does nothing, so
 * `run(main)` may sit at the bottom of the entry module.
 *
 * @param main the entry's `main` (it need not be exported when passed here)
 * @param options see {@link RunOptions}
 *
 * @example
 * ```ts
 * export async function main() { … }
 * if (import.meta.main) run(main, { workers: 4 });
 * ```
 */
export async function run(
  main: (args: string[]) => unknown,
  options: RunOptions = {},
): Promise<void> {
  if (typeof main !== "function") {
    throw new TypeError(`Cannot run: expected the main function, got ${typeof main}`);
  }
  if (context.peerId !== "") {
    context.main ??= main;
    return;
  }
  const outcome = await launch({
    entry: mainModulePath(),
    workers: options.workers ?? await cores(),
    args: options.args ?? process.argv.slice(2),
    grid: options.grid,
    runtime: options.runtime,
  }).catch((error) => ({ code: 1, error }));
  report(outcome);
  process.exit(outcome.code);
}
