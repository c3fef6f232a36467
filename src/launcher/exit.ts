/**
 * How a process ended, in a shell's words: the launcher reports its peers' (and the remote
 * hosts' ssh or srun) exits this way.
 *
 * @module
 */
import { constants } from "node:os";

/** The number of `signal` on this system, if it has one. */
function signalNumber(signal: NodeJS.Signals): number | undefined {
  return (constants.signals as Record<string, number>)[signal];
}

/** How a process ended, as a shell reports it: `status 137 (SIGKILL)`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null && signalNumber(signal) === undefined) return `signal ${signal}`;
  return `status ${exitStatus(code, signal)}${signal === null ? "" : ` (${signal})`}`;
}

/** The exit status a shell would report for `code` / `signal`. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal === null) return code ?? 1;
  const n = signalNumber(signal);
  return n === undefined ? 1 : 128 + n;
}
