/**
 * How the launcher tells the user that a run failed: one line for a usage or start-up error;
 * for an error thrown by `main` (or a task under it), its name, message, the peer that ran it
 * and its remote stack.
 *
 * @module
 */
import process from "node:process";
import { GridError, MembershipError, TaskError, UsageError } from "../errors.ts";
import type { LaunchOutcome } from "./launch.ts";

/** The text printed for a failed run, or "" when it succeeded. */
export function describeFailure(outcome: LaunchOutcome): string {
  if (outcome.code === 0 && outcome.error === undefined) return "";
  const err = outcome.error;
  if (err instanceof UsageError || err instanceof GridError || err instanceof MembershipError) {
    return `scoop: error: ${err.message}`;
  }
  if (err instanceof Error) {
    const where = err instanceof TaskError ? ` (on peer ${err.peerId})` : "";
    const frames = (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)).join("\n");
    return `scoop: main failed${where}: ${err.name}: ${err.message}` +
      (frames ? `\n${frames}` : "");
  }
  return `scoop: main failed: threw ${typeof err === "string" ? JSON.stringify(err) : String(err)}`;
}

/** How a run ended, in one line (for the dashboard): `main` returned (what), or failed (why). */
export function outcomeLine(outcome: LaunchOutcome): string {
  if (outcome.code !== 0 || outcome.error !== undefined) {
    return describeFailure(outcome).split("\n")[0].replace(/^scoop: (error: )?/, "");
  }
  if (outcome.value === undefined) return "main returned";
  let text: string;
  try {
    text = JSON.stringify(outcome.value) ?? String(outcome.value);
  } catch {
    text = String(outcome.value);
  }
  return `main returned ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`;
}

/** Print {@link describeFailure} to stderr, if anything failed. */
export function report(outcome: LaunchOutcome): void {
  const text = describeFailure(outcome);
  if (text) process.stderr.write(text + "\n");
}
