/**
 * `pi`: Monte Carlo pi in T tasks, or the same kernel in a serial loop (mode `serial`).
 *
 *     bun cli.ts -n 2 bench/apps/pi.ts 20000000 200 grid [rounds=3]
 *     bun cli.ts -n 1 bench/apps/pi.ts 20000000 200 serial
 *
 * The best of `rounds` runs is reported: this 2-vCPU machine's speed drifts by ~10% between
 * runs, more than the differences measured here.
 */
import { futures, grid, run } from "../../mod.ts";
import { hits } from "../../examples/pi.ts";
import { emit } from "./_util.ts";

export { hits };

export async function main(args: string[]): Promise<void> {
  const samples = Number(args[0] ?? 20_000_000);
  const tasks = Number(args[1] ?? 200);
  const mode = args[2] ?? "grid";
  const rounds = Number(args[3] ?? 3);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const per = Math.ceil(samples / tasks);
  const seeds = Array.from({ length: tasks }, (_, i) => i + 1);
  hits(0, 200_000); // warm the kernel up in this thread too
  let seconds = Infinity;
  let counts: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    counts = mode === "serial"
      ? seeds.map((s) => hits(s, per))
      : await futures.map(hits, seeds, seeds.map(() => per));
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
  }
  const pi = (4 * counts.reduce((a, b) => a + b, 0)) / (per * tasks);
  emit({ samples: per * tasks, tasks, mode, rounds, peers: grid.size, seconds, pi });
}

if (import.meta.main) run(main);
