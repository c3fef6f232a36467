/**
 * Monte Carlo pi: throw random darts at the unit square in many tasks, count the hits inside
 * the quarter circle. Each task seeds its own generator from its index, so the answer is the
 * same whichever peer runs which task, on Bun and on Deno alike.
 *
 *     bun cli.ts -n 4 examples/pi.ts [samples=20000000] [tasks=200]
 *     deno run -A cli.ts -n 4 examples/pi.ts
 *     bun examples/pi.ts            # embedded local grid
 */
import { futures, grid, run } from "../mod.ts";
import { mulberry32 } from "./_random.ts";

/** Count darts (of `n`, from generator `seed`) that land inside the quarter circle. */
export function hits(seed: number, n: number): number {
  const next = mulberry32(seed);
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const x = next();
    const y = next();
    if (x * x + y * y <= 1) inside++;
  }
  return inside;
}

export async function main(args: string[]): Promise<number> {
  const samples = Number(args[0] ?? 20_000_000);
  const tasks = Number(args[1] ?? 200);
  const per = Math.ceil(samples / tasks);
  const seeds = Array.from({ length: tasks }, (_, i) => i + 1);
  const counts = await futures.map(hits, seeds, seeds.map(() => per));
  const inside = counts.reduce((a, b) => a + b, 0);
  const pi = (4 * inside) / (per * tasks);
  console.log(
    `pi ≈ ${pi.toFixed(6)} (${per * tasks} samples in ${tasks} tasks on ${grid.size} peers)`,
  );
  return pi;
}

if (import.meta.main) run(main);
