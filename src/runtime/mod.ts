/**
 * The only place that knows which runtime we are on. Everything runtime-specific (the Noise
 * cipher trap on Bun, how to start a peer process, where the main module is) sits here.
 *
 * @module
 */
import process from "node:process";

declare const Bun: { main: string; version: string } | undefined;
declare const Deno: { mainModule: string; version: { deno: string } } | undefined;

/** Which JavaScript runtime this process runs on. */
export type RuntimeName = "bun" | "deno" | "node";

/** The runtime of this process. */
export const runtime: RuntimeName = typeof Bun !== "undefined"
  ? "bun"
  : typeof Deno !== "undefined"
  ? "deno"
  : "node";

/** A short version string such as `bun 1.4.5`. */
export function runtimeVersion(): string {
  if (runtime === "bun") return `bun ${Bun!.version}`;
  if (runtime === "deno") return `deno ${Deno!.version.deno}`;
  return `node ${process.versions.node}`;
}

/**
 * Absolute path of the script this process was started with (`bun app.ts` → `/…/app.ts`).
 */
export function mainModulePath(): string {
  if (runtime === "bun") return Bun!.main;
  if (runtime === "deno") return new URL(Deno!.mainModule).pathname;
  return process.argv[1];
}

/**
 * Command and arguments that start `script` as a new process of `name` (default: this
 * runtime), e.g. `["/…/deno", ["run", "-A", script, ...args]]`.
 */
export function scriptCommand(
  script: string,
  args: string[],
  name: RuntimeName = runtime,
): [string, string[]] {
  const exe = name === runtime ? process.execPath : name;
  if (name === "deno") return [exe, ["run", "-A", "--quiet", script, ...args]];
  return [exe, [script, ...args]];
}

/** Number of logical cores (the default peer count). */
export async function cores(): Promise<number> {
  const os = await import("node:os");
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
