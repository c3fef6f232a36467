/**
 * Done callbacks (SCOOP's `callback.py`): five tasks sleep 1…5 tenths of a second, each future
 * gets a callback that prints its result, and `asCompleted` waits for them all.
 *
 *     bun cli.ts -n 4 examples/callbacks.ts
 */
import { type Future, futures, run } from "../mod.ts";

/** Sleeps `n` tenths of a second and returns `n`. */
export async function myFunc(n: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 100 * n));
  return n;
}

export async function main(): Promise<number[]> {
  const called: number[] = [];
  // The callback gets the future, done: its result is there without waiting.
  const doneElement = async (f: Future<number>) => {
    const n = await f.result();
    console.log(`Done: ${n}`);
    called.push(n);
  };
  const launches = [1, 2, 3, 4, 5].map((n) => futures.submit(myFunc, n));
  for (const launch of launches) launch.addDoneCallback(doneElement);
  for await (const _ of futures.asCompleted(launches)) { /* wait for every launch */ }
  // A callback that awaits may still be finishing after its future is yielded.
  await Promise.all(launches);
  await new Promise((r) => setTimeout(r, 0));
  console.log(`${called.length} callbacks ran: ${called.toSorted((a, b) => a - b).join(" ")}`);
  return called;
}

if (import.meta.main) run(main);
