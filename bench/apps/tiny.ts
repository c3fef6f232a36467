/**
 * `tiny`: futures.map of a trivial task over N items. Prints one JSON line:
 * { n, seconds, tasksPerSecond }.
 *
 *     bun cli.ts -n 2 bench/apps/tiny.ts 10000
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { futures, grid, run } from "../../mod.ts";

export function inc(x: number): number {
  return x + 1;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 10_000);
  const rounds = Number(args[1] ?? 1);
  const items = Array.from({ length: n }, (_, i) => i);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const out = await futures.map(inc, items);
    const s = (performance.now() - t0) / 1000;
    if (out.length !== n || out[n - 1] !== n) throw new Error("wrong result");
    best = Math.min(best, s);
  }
  process.stdout.write(
    JSON.stringify({
      n,
      peers: grid.size,
      seconds: best,
      tasksPerSecond: n / best,
      originPeakRssMB: peakRssMB(),
    }) + "\n",
  );
}

/** This process's peak resident set size (the origin: main runs in its executor thread). */
export function peakRssMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

if (import.meta.main) run(main);
