/**
 * `tiny`: futures.map of a trivial task over N items. Prints one JSON line:
 * { n, seconds, tasksPerSecond }.
 *
 *     bun cli.ts -n 2 bench/apps/tiny.ts 10000
 */
import { futures, grid, run } from "../../mod.ts";
import { emit, statusMB } from "./_util.ts";

export function inc(x: number): number {
  return x + 1;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 10_000);
  const rounds = Number(args[1] ?? 1);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const items = Array.from({ length: n }, (_, i) => i);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const out = await futures.map(inc, items);
    const s = (performance.now() - t0) / 1000;
    if (out.length !== n || out[n - 1] !== n) throw new Error("wrong result");
    best = Math.min(best, s);
  }
  // main runs in the origin's executor thread: this process is the origin peer.
  emit({
    n,
    peers: grid.size,
    seconds: best,
    tasksPerSecond: n / best,
    originPeakRssMB: statusMB("VmHWM"),
  });
}

if (import.meta.main) run(main);
