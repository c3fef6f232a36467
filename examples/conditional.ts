/**
 * Conditional execution (SCOOP's `conditional_execution.py`): which task is submitted is decided
 * at run time, by a coin toss; the toss is seeded so that a given seed always picks the same one.
 *
 *     bun cli.ts -n 4 examples/conditional.ts [seed=1]
 */
import { futures, run } from "../mod.ts";
import { mulberry32 } from "./_random.ts";

/** One branch. */
export function firstType(x: string): string {
  return `${x} World`;
}

/** The other branch. */
export function secondType(x: string): string {
  return `${x} Parallel World`;
}

export async function main(args: string[]): Promise<string> {
  const random = mulberry32(Number(args[0] ?? 1));
  const myFuture = random() < 0.5
    ? futures.submit(firstType, "Hello")
    : futures.submit(secondType, "Hello");
  const result = await myFuture;
  console.log(result);
  return result;
}

if (import.meta.main) run(main);
