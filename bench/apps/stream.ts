/**
 * `memory`, streamed: N trivial tasks through `mapAsCompleted` over a generator, so that only
 * a bounded number is in flight. Samples the origin's RSS every N/10 results; flat means the
 * last samples are no higher than the early ones.
 *
 *     bun cli.ts -n 2 bench/apps/stream.ts 10000000
 */
import { futures, grid, run } from "../../mod.ts";
import { emit, statusMB } from "./_util.ts";

export function inc(x: number): number {
  return x + 1;
}

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 10_000_000);
  const every = Math.max(1, Math.floor(n / 10));
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const rssMB: number[] = [];
  let count = 0;
  let sum = 0;
  const t0 = performance.now();
  for await (const v of futures.mapAsCompleted(inc, numbers(n))) {
    sum += v;
    if (++count % every === 0) rssMB.push(statusMB("VmRSS"));
  }
  const seconds = (performance.now() - t0) / 1000;
  if (count !== n || sum !== (n * (n + 1)) / 2) throw new Error("wrong result");
  emit({
    n,
    peers: grid.size,
    seconds,
    tasksPerSecond: n / seconds,
    rssMB,
    peakRssMB: statusMB("VmHWM"),
  });
}

if (import.meta.main) run(main);
