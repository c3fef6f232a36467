/**
 * Exceptions: a task's error reaches whoever awaits it with its own name and message, its
 * remote stack, and the id of the peer that ran it, across any depth of nesting. `wait` with
 * FIRST_EXCEPTION returns at the first failure. Then SCOOP's `except_example.py`: errors caught
 * and handled at two levels of a tree of tasks, one turned into a partial result, one into
 * another error.
 *
 *     bun cli.ts -n 3 examples/exceptions.ts          # exits 0: every error is handled
 *     bun cli.ts -n 3 examples/exceptions.ts --throw  # main rethrows: exit status 1
 */
import { ALL_COMPLETED, FIRST_EXCEPTION, futures, run, TaskError } from "../mod.ts";

class BadInput extends Error {
  override name = "BadInput";
}

/** Fails for multiples of 3. */
export function check(x: number): number {
  if (x % 3 === 0) throw new BadInput(`cannot take ${x}`);
  return x;
}

/** Two levels of nesting: the error of a grandchild task surfaces unchanged. */
export async function outer(x: number): Promise<number> {
  return await futures.submit(inner, x);
}

export async function inner(x: number): Promise<number> {
  return await futures.submit(check, x);
}

/** SCOOP's example from here on: submission returns at once, the await waits for the result. */
export async function func0(n: number): Promise<number> {
  return await futures.submit(func1, n);
}

/** Turns a failure of any of its tasks into an error of its own. */
export async function func1(n: number): Promise<number> {
  try {
    return sum(await futures.map(func2, range(n)));
  } catch {
    throw new Error("This exception is normal");
  }
}

/** Fails above 10 (func1 handles it); otherwise sums its tasks in completion order. */
export async function func2(n: number): Promise<number> {
  if (n > 10) throw new Error("10");
  let total = 0;
  for await (const f of futures.asCompleted(range(n).map((i) => futures.submit(func3, i)))) {
    total += await f;
  }
  return total;
}

/** Returns what it can: the results before the first failure, plus the failed value. */
export async function func3(n: number): Promise<number> {
  const results: number[] = [];
  try {
    for await (const r of futures.map(func4, range(n))) results.push(r);
  } catch (err) {
    return Number((err as Error).message) + sum(results);
  }
  return sum(results);
}

/** Fails when the square exceeds 20 (func3 handles it). */
export function func4(n: number): number {
  const result = n * n;
  if (result > 20) throw new Error(String(result));
  return result;
}

/** 1, 2, …, n. */
function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export async function main(args: string[]): Promise<void> {
  try {
    await futures.submit(outer, 3);
  } catch (err) {
    const e = err as TaskError;
    console.log(
      `caught ${e.name}: ${e.message} (instanceof TaskError: ${e instanceof TaskError}, ran on ${
        e.peerId.slice(-6)
      })`,
    );
  }
  const fs = [1, 2, 3, 4, 5].map((x) => futures.submit(check, x));
  const { done } = await futures.wait(fs, { returnWhen: FIRST_EXCEPTION });
  const failed = [...done].filter((f) => f.done() && !f.cancelled());
  console.log(
    `wait(FIRST_EXCEPTION) returned with ${
      failed.length > 0 ? "a failure" : "no failure"
    } among ${done.size} done`,
  );
  const task = futures.submit(func0, 10);
  await futures.wait([task], { returnWhen: ALL_COMPLETED });
  console.log(`func0(10) = ${await task}`);
  try {
    await futures.submit(func0, 20);
  } catch (err) {
    console.log(`func0(20) failed: ${(err as Error).message}`);
  }
  if (args.includes("--throw")) await futures.map(check, [1, 2, 3]);
}

if (import.meta.main) run(main);
