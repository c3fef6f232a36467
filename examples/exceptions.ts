/**
 * Exceptions: a task's error reaches whoever awaits it with its own name and message, its
 * remote stack, and the id of the peer that ran it, across any depth of nesting. `wait` with
 * FIRST_EXCEPTION returns at the first failure.
 *
 *     bun cli.ts -n 3 examples/exceptions.ts          # exits 0: every error is handled
 *     bun cli.ts -n 3 examples/exceptions.ts --throw  # main rethrows: exit status 1
 */
import { FIRST_EXCEPTION, futures, run, TaskError } from "../mod.ts";

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
  if (args.includes("--throw")) await futures.map(check, [1, 2, 3]);
}

if (import.meta.main) run(main);
