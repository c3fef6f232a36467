/**
 * Shared constants: set once on the origin, read by tasks on every peer. `getConst` waits for
 * a constant that is not there yet, and tells a stored `null` apart from a missing one. First,
 * SCOOP's `shared_example.py`: a table shared once, read by every task.
 *
 *     bun cli.ts -n 3 examples/constants.ts
 */
import { futures, grid, run, shared, TimeoutError } from "../mod.ts";

/** Read the shared table on whichever peer runs it; parameters are handled as usual. */
export async function myFunc(parameter: number): Promise<number> {
  const myVar = await shared.getConst<Record<number, string>>("myVar", { timeout: 10_000 });
  console.log(`Hello World from ${grid.peerId.slice(-6)}! ${myVar[2]}`);
  return parameter + 1;
}

/** Scale a value by the shared factor, on whichever peer runs it. */
export async function scaled(x: number): Promise<number> {
  const { factor } = await shared.getConst<{ factor: number }>("config", { timeout: 10_000 });
  return x * factor;
}

/** What a task sees of a constant that is stored as null, and of one that is missing. */
export async function probe(): Promise<string> {
  const nothing = await shared.getConst("nothing", { timeout: 10_000 });
  try {
    await shared.getConst("missing", { timeout: 50 });
    return "missing was found?!";
  } catch (err) {
    return `nothing=${nothing}, missing → ${(err as Error).name} (on ${
      grid.isOrigin ? "origin" : "a worker peer"
    })`;
  }
}

export async function main(): Promise<number[]> {
  await shared.setConst({
    myVar: { 1: "First element", 2: "Second element", 3: "Third element" },
    secondVar: "Hello World!",
  });
  const plusOne = await futures.map(myFunc, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  console.log(`[${plusOne.join(", ")}]`);
  await shared.setConst({ config: { factor: 3 }, nothing: null });
  const out = await futures.map(scaled, [1, 2, 3, 4, 5, 6]);
  console.log("scaled:", out.join(" "));
  console.log(await futures.submit(probe));
  try {
    await shared.setConst({ config: { factor: 4 } });
  } catch (err) {
    console.log("redefining:", (err as Error).message);
  }
  void TimeoutError;
  return out;
}

if (import.meta.main) run(main);
