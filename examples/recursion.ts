/**
 * Recursive nested tasks (SCOOP's `recurse.py`): each task maps two others, each of which maps
 * two others, down to the given depth; the leaves return 1, so the root sums to 2^depth.
 *
 *     bun cli.ts -n 4 examples/recursion.ts [depth=12]
 */
import { futures, run } from "../mod.ts";

/** 1 at the bottom, else the sum of two tasks one level down. */
export async function recursiveFunc(level: number): Promise<number> {
  if (level === 0) return 1;
  const parts = await futures.map(recursiveFunc, [level - 1, level - 1]);
  return parts[0] + parts[1];
}

export async function main(args: string[]): Promise<number> {
  const depth = Number(args[0] ?? 12);
  const result = await recursiveFunc(depth);
  console.log(`2^${depth} = ${result}`);
  return result;
}

if (import.meta.main) run(main);
