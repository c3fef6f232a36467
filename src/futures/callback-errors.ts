/**
 * Where errors thrown by done callbacks go. A callback's error must be neither swallowed nor
 * allowed to crash the peer, and `src/` never prints: the executor installs a reporter that
 * logs through the grid's logger. Until then, errors wait in a short backlog that the first
 * reporter receives at once.
 *
 * @module
 */
import type { Future } from "./future.ts";

/** Receives the error a done callback threw, and the future it was called for. */
export type CallbackErrorReporter = (error: unknown, future: Future<unknown>) => void;

/** Errors kept while no reporter is set; older ones are dropped past this many. */
const BACKLOG_LIMIT = 100;
const HOOK = Symbol.for("scoop.callbackErrorReporter");
type Hook = { reporter?: CallbackErrorReporter; backlog: [unknown, Future<unknown>][] };
// On globalThis, like the backend, so that two copies of this module share one reporter.
const hook: Hook = ((globalThis as { [HOOK]?: Hook })[HOOK] ??= { backlog: [] });

/**
 * Set the function that receives errors thrown by done callbacks (see `Future.addDoneCallback`).
 * Until one is set, the last 100 such errors are kept, and the first reporter set receives them
 * at once: never swallowed, never crashing the process.
 *
 * @param reporter the new reporter, or `undefined` to go back to keeping a backlog.
 * @example Log callback errors
 * ```ts
 * setCallbackErrorReporter((error, future) => log.error("callback of future %d: %e", future.id, error));
 * ```
 */
export function setCallbackErrorReporter(reporter: CallbackErrorReporter | undefined): void {
  hook.reporter = reporter;
  if (reporter === undefined) return;
  for (const [error, future] of hook.backlog.splice(0)) reportCallbackError(error, future);
}

/**
 * Hand a done callback's error to the reporter, or keep it in the backlog.
 * @internal
 */
export function reportCallbackError(error: unknown, future: Future<unknown>): void {
  if (hook.reporter === undefined) {
    if (hook.backlog.push([error, future]) > BACKLOG_LIMIT) hook.backlog.shift();
    return;
  }
  try {
    hook.reporter(error, future);
  } catch { /* a broken reporter must not break the future that called it */ }
}
