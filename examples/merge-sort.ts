/**
 * Parallel merge sort (SCOOP's `sorting.py`): down to `parallelDepth`, each half of the list is
 * sorted by its own task; below it the sort goes on serially. The parallel result is checked
 * against a serial sort of the same list.
 *
 *     bun cli.ts -n 4 examples/merge-sort.ts [size=10000] [parallelDepth=1]
 */
import { futures, run } from "../mod.ts";
import { mulberry32, randint } from "./_random.ts";

/** Merge two sorted lists into one. */
export function merge(left: number[], right: number[]): number[] {
  const result: number[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    if (left[i] <= right[j]) result.push(left[i++]);
    else result.push(right[j++]);
  }
  return result.concat(left.slice(i), right.slice(j));
}

/** Sort `lst`, splitting into tasks while `currentDepth < parallelDepth`. */
export async function mergesort(
  lst: number[],
  currentDepth = 0,
  parallelDepth = 0,
): Promise<number[]> {
  if (lst.length <= 1) return lst;
  const middle = Math.floor(lst.length / 2);
  const halves = [lst.slice(0, middle), lst.slice(middle)];
  const results = currentDepth < parallelDepth
    ? await futures.map(mergesort, halves, [currentDepth + 1, currentDepth + 1], [
      parallelDepth,
      parallelDepth,
    ])
    : [await mergesort(halves[0]), await mergesort(halves[1])];
  return merge(results[0], results[1]);
}

export async function main(args: string[]): Promise<number[]> {
  const size = Number(args[0] ?? 10_000);
  const parallelDepth = Number(args[1] ?? 1);
  const random = mulberry32(2024);
  const theList = Array.from({ length: size }, () => randint(random, -(2 ** 31), 2 ** 31 - 1));

  let ts = performance.now();
  const parallelResult = await mergesort(theList, 0, parallelDepth);
  const pts = performance.now() - ts;

  ts = performance.now();
  const serialResult = await mergesort(theList);
  const sts = performance.now() - ts;

  console.log(`Parallel time: ${(pts / 1000).toFixed(5)}s`);
  console.log(`Serial time:   ${(sts / 1000).toFixed(5)}s`);
  const same = parallelResult.length === size &&
    parallelResult.every((x, i) => x === serialResult[i]);
  const ordered = parallelResult.every((x, i) => i === 0 || parallelResult[i - 1] <= x);
  console.log(`${size} numbers sorted: ${ordered}, same as serial: ${same}`);
  if (!same || !ordered) throw new Error("the parallel sort differs from the serial one");
  return parallelResult;
}

if (import.meta.main) run(main);
