/**
 * The seam between the futures API (what users call) and whatever runs tasks: on a peer, the
 * executor worker installs a backend that sends tasks to the mesh. Kept on `globalThis` under a
 * registered symbol so that two copies of this module (e.g. one imported by path, one through a
 * package) still share one grid.
 *
 * @module
 */
import { GridError } from "../errors.ts";
import type { Future } from "./future.ts";

/** What the futures API needs from the grid. */
export interface Backend {
  /**
   * Queue `fn(...args)` somewhere in the grid and return its future at once.
   * @throws {TypeError} `fn` is not a registered task, or an argument cannot cross the wire.
   */
  submit<T>(fn: (...args: never[]) => T | Promise<T>, args: unknown[]): Future<Awaited<T>>;
  /** Stop accepting work, cancel what is queued, leave the mesh. Idempotent. */
  shutdown(): Promise<void>;
}

const KEY = Symbol.for("scoop.backend");
type Holder = { [KEY]?: Backend };

/** Install (or, with `undefined`, remove) the backend of this thread. */
export function setBackend(backend: Backend | undefined): void {
  (globalThis as Holder)[KEY] = backend;
}

/**
 * The backend of this thread.
 * @throws {GridError} no grid runs in this thread.
 */
export function getBackend(): Backend {
  const backend = (globalThis as Holder)[KEY];
  if (backend === undefined) {
    throw new GridError(
      "Cannot submit a task: no grid is running in this thread " +
        "(start the program with `cli.ts -n N app.ts`, or call run(main) from app.ts)",
    );
  }
  return backend;
}
