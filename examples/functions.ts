/**
 * Functions as values, as SCOOP's users write them (its tests `test_map_lambda`,
 * `test_partial`, `test_map_imported_func`, `test_shareFunction`): a lambda mapped over the
 * grid, a partial, a builtin, a task passed to a task, and a function shared as a constant.
 * The lambdas travel as their source, once per peer, and are compiled once there.
 *
 *     bun cli.ts -n 4 examples/functions.ts
 */
import { futures, partial, run, shared } from "../mod.ts";

export function weighted(w: number, x: number): number {
  return w * x;
}

export function applyTwice(fn: (x: number) => number, x: number): number {
  return fn(fn(x));
}

/** Reads the shared function and calls it here, wherever this runs. */
export async function callShared(x: number): Promise<number> {
  const f = await shared.getConst<(x: number) => number>("myRemoteFunc");
  return f(x);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export async function main(): Promise<void> {
  const xs = Array.from({ length: 30 }, (_, i) => i + 1);
  console.log("lambda:", sum(await futures.map((x: number) => x * x, xs)));
  console.log("bound weighted:", sum(await futures.map(weighted.bind(null, 2), xs)));
  console.log(
    "partial lambda:",
    sum(await futures.map(partial((w: number, x: number) => w * x, 2), xs)),
  );
  const cosines = await futures.map(Math.cos, Array.from({ length: 10 }, (_, i) => i));
  console.log("cosines:", sum(cosines).toFixed(4));
  console.log("applyTwice(sq, 3):", await futures.submit(applyTwice, (x: number) => x * x, 3));
  await shared.setConst({ myRemoteFunc: (x: number) => x * x });
  console.log("shared:", (await futures.map(callShared, [5, 25])).join(" "));
  // A closure over a local variable cannot travel: the error names it and the fix.
  let scale = 3;
  try {
    futures.map((x: number) => x * scale, xs);
  } catch (e) {
    console.log(`refused: ${(e as Error).message.replace(/ \(.*/, "")}`);
  }
  scale = 0;
}

if (import.meta.main) run(main);
