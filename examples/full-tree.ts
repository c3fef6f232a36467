/**
 * A full balanced tree of tasks resolved with each of SCOOP's techniques (its `full_tree.py`):
 * `submit` then await, `map` iterated lazily, `submit` gathered with `asCompleted`, `map`
 * awaited whole, and `wait(ALL_COMPLETED)` in `main`.
 *
 *     bun cli.ts -n 4 examples/full-tree.ts [n=20]
 */
import { ALL_COMPLETED, futures, run } from "../mod.ts";

/** A leaf: the computation you may want to perform. */
export function func4(n: number): number {
  return n * n;
}

/** Iterates a map: each result is taken as soon as it and those before it are done. */
export async function func3(n: number): Promise<number> {
  let sum = 0;
  for await (const r of futures.map(func4, range(1, n))) sum += r;
  return sum;
}

/** Submits one task per child and sums them in completion order. */
export async function func2(n: number): Promise<number> {
  const launches = range(1, n).map((i) => futures.submit(func3, i));
  let sum = 0;
  for await (const f of futures.asCompleted(launches)) sum += await f;
  return sum;
}

/** Awaits a whole map at once. */
export async function func1(n: number): Promise<number> {
  const results = await futures.map(func2, range(1, n));
  return results.reduce((a, b) => a + b, 0);
}

/** Submission returns at once; the await is where it waits for the result. */
export async function func0(n: number): Promise<number> {
  const task = futures.submit(func1, n);
  return await task;
}

/** 1, 2, …, n. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export async function main(args: string[]): Promise<number> {
  const n = Number(args[0] ?? 20);
  const task = futures.submit(func0, n);
  // One can wait for a result before going on computing.
  await futures.wait([task], { returnWhen: ALL_COMPLETED });
  const result = await task.result();
  console.log(result);
  return result;
}

if (import.meta.main) run(main);
