/**
 * Sum of the multiples of 3 and 5 below a limit (SCOOP's `sum_multiples.py`): each task makes
 * the set of multiples of one number, `mapReduce` merges the sets with a union, and the sum of
 * the union is checked against the serial computation.
 *
 *     bun cli.ts -n 4 examples/sum-multiples.ts [limit=1000000]
 */
import { futures, run } from "../mod.ts";

/** The multiples of `n` below `limit`. */
export function multiples(n: number, limit: number): Set<number> {
  const out = new Set<number>();
  for (let k = 0; k < limit; k += n) out.add(k);
  return out;
}

/** The reduction: the union of two sets. */
export function union(a: Set<number>, b: Set<number>): Set<number> {
  return a.union(b);
}

function sum(xs: Iterable<number>): number {
  let total = 0;
  for (const x of xs) total += x;
  return total;
}

export async function main(args: string[]): Promise<number> {
  const limit = Number(args[0] ?? 1_000_000);
  let t = performance.now();
  const serial = sum([3, 5].map((n) => multiples(n, limit)).reduce(union));
  const serialTime = performance.now() - t;

  t = performance.now();
  const parallel = sum(await futures.mapReduce(multiples, union, [3, 5], [limit, limit]));
  const parallelTime = performance.now() - t;

  if (parallel !== serial) throw new Error(`parallel ${parallel} != serial ${serial}`);
  console.log(`sum of the multiples of 3 or 5 below ${limit}: ${parallel}`);
  console.log(`Serial time: ${(serialTime / 1000).toFixed(4)} s`);
  console.log(`Parallel time: ${(parallelTime / 1000).toFixed(4)} s`);
  return parallel;
}

if (import.meta.main) run(main);
