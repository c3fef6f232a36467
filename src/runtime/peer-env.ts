/**
 * Runtime settings for Bun peers, passed in the environment because Bun reads them when the
 * process starts:
 *
 * - `MIMALLOC_PURGE_DELAY=1000`. Bun allocates array buffers with mimalloc, which hands freed
 *   memory back to the system after 10 ms; every large buffer (an 8 MB argument, frame or
 *   result) then pays its page faults again: ~2.7 ms per MB on the machines we measured, 24 ms
 *   for 8 MB, against 0.6 ms when the memory is reused. Keeping freed memory for one second
 *   lets the next buffer reuse it.
 * - `BUN_JSC_thresholdForFTLOptimizeAfterWarmUp=1000000` and
 *   `BUN_JSC_thresholdForOptimizeAfterWarmUp=3000` (Bun's defaults: 64,000 and 1,000; see
 *   `BUN_JSC_dumpOptions=2`). JSC compiles a function in its optimising tiers (DFG, then FTL)
 *   once it has run enough; at the defaults, the scheduler's, the mesh's and the codec's
 *   lukewarm functions get there during a job, and the compiles run on the same cores as the
 *   executors. One two-peer run of the nested benchmark made 190 FTL compiles of ~12 ms each,
 *   2.4 CPU-seconds (`BUN_JSC_reportCompileTimes=true`); with the higher thresholds it made
 *   none. Hot code still gets there: a task's inner loop counts every iteration, and the pi
 *   kernel ran as fast. Measured, interleaved, on 2 cores (bench/RESULTS.md): nested depth 12
 *   0.27 → 0.17 s (FTL threshold) → 0.14 s (both); pi 20M on two peers 0.205 → 0.187 s
 *   (both, against the FTL threshold alone).
 *
 * The launcher passes them to the Bun peers it spawns, and `cli.ts` re-executes itself (the same
 * pid, through `execve`) when they are missing. A value the user set wins, setting by setting.
 * They stay in the environment of the origin and the peers, so processes a task starts inherit
 * them too.
 *
 * @module
 */
import process from "node:process";
import { runtime, type RuntimeName } from "./mod.ts";

/** What peers on Bun run with, unless the user set it (see the module's text). */
export const BUN_PEER_ENV: Readonly<Record<string, string>> = Object.freeze({
  MIMALLOC_PURGE_DELAY: "1000",
  BUN_JSC_thresholdForFTLOptimizeAfterWarmUp: "1000000",
  BUN_JSC_thresholdForOptimizeAfterWarmUp: "3000",
});

/**
 * The environment of a peer process of runtime `target` started by this one: ours, plus, for a
 * Bun peer, the settings we lack.
 */
export function peerEnv(target: RuntimeName = runtime): Record<string, string | undefined> {
  return target === "bun" ? { ...BUN_PEER_ENV, ...process.env } : { ...process.env };
}

const LIBC = process.platform === "darwin" ? "libSystem.B.dylib" : "libc.so.6";

/**
 * On Bun, when this process started without the settings, replace it in place (the same pid,
 * stdio and arguments) by one that has them (the user's own values kept). Returns only when
 * nothing needed doing or the replacement was not possible, in which case the process goes on
 * as it was. Call it before anything is printed, read or started.
 */
export function ensurePeerEnv(): void {
  if (runtime !== "bun") return;
  if (Object.keys(BUN_PEER_ENV).every((k) => process.env[k] !== undefined)) return;
  if (process.platform !== "linux" && process.platform !== "darwin") return;
  // A `bun build --compile` executable: its argv differs from what it was started with.
  if (process.argv[1]?.includes("$bunfs")) return;
  try {
    // Synchronous, so that nothing else starts first; Bun only (Deno never gets here).
    const { dlopen, FFIType: T, ptr } = (import.meta as unknown as { require(s: string): Ffi })
      .require("bun:ffi");
    // Throws (caught below) when there is no libc by that name.
    const { execve } = dlopen(LIBC, { execve: { args: [T.ptr, T.ptr, T.ptr], returns: T.i32 } })
      .symbols;
    const keep: Uint8Array[] = [];
    const cstr = (s: string) => {
      const b = new TextEncoder().encode(s + "\0");
      keep.push(b);
      return b;
    };
    const list = (items: string[]) => {
      const a = new BigUint64Array(items.length + 1);
      items.forEach((s, i) => a[i] = BigInt(ptr(cstr(s))));
      return a;
    };
    const env = peerEnv();
    const path = cstr(process.execPath);
    const argv = list([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
    const envp = list(
      Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`),
    );
    execve(ptr(path), ptr(argv), ptr(envp)); // returns only on failure
  } catch {
    // no FFI, or no libc by that name: go on with the settings as they are
  }
}

/** The part of bun:ffi used here. */
interface Ffi {
  dlopen(
    name: string,
    symbols: { execve: { args: unknown[]; returns: unknown } },
  ): { symbols: { execve(path: number, argv: number, envp: number): number } };
  FFIType: { ptr: unknown; i32: unknown };
  ptr(view: ArrayBufferView): number;
}
