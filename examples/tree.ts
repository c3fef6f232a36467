/**
 * Nested parallelism: tasks that submit tasks and await them, at any depth. `fib` spawns a
 * binary tree of tasks; `sumTree` a 3-ary map tree. While a task awaits its children, its peer
 * runs other tasks, so deep trees never deadlock.
 *
 *     bun cli.ts -n 4 examples/tree.ts [n=18] [depth=6]
 */
import { futures, run } from "../mod.ts";

/** Fibonacci the slow way: one task per call above the cut-off. */
export async function fib(n: number): Promise<number> {
  if (n < 10) return n < 2 ? n : fibSerial(n);
  const [a, b] = await Promise.all([futures.submit(fib, n - 1), futures.submit(fib, n - 2)]);
  return a + b;
}

function fibSerial(n: number): number {
  return n < 2 ? n : fibSerial(n - 1) + fibSerial(n - 2);
}

/** Count the leaves of a 3-ary tree of the given depth, one map per level. */
export async function sumTree(depth: number): Promise<number> {
  if (depth === 0) return 1;
  const parts = await futures.map(sumTree, [depth - 1, depth - 1, depth - 1]);
  return parts[0] + parts[1] + parts[2];
}

export async function main(args: string[]): Promise<[number, number]> {
  const n = Number(args[0] ?? 18);
  const depth = Number(args[1] ?? 6);
  const f = await futures.submit(fib, n);
  const leaves = await futures.submit(sumTree, depth);
  console.log(`fib(${n}) = ${f}; a 3-ary tree of depth ${depth} has ${leaves} leaves`);
  return [f, leaves];
}

if (import.meta.main) run(main);
