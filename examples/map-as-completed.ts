/**
 * `map` against `mapAsCompleted` (SCOOP's `map_as_completed.py`): the first yields the results
 * in input order, the second as the calls finish, in whatever order that is.
 *
 *     bun cli.ts -n 4 examples/map-as-completed.ts [count=10]
 */
import { futures, run } from "../mod.ts";

/** The task: hands its input back, after a pause that makes later inputs finish first. */
export async function hello(input: number, count: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 5 * (count - input)));
  return input;
}

export async function main(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 10);
  const inputs = Array.from({ length: count }, (_, i) => i);
  const counts = inputs.map(() => count);

  console.log("Execution of map():");
  for await (const out of futures.map(hello, inputs, counts)) console.log(`Hello from #${out}!`);

  console.log("Execution of mapAsCompleted():");
  const seen: number[] = [];
  for await (const out of futures.mapAsCompleted(hello, inputs, counts)) {
    console.log(`Hello from #${out}!`);
    seen.push(out);
  }
  console.log(
    `${seen.length} results as completed, each input once: ${
      seen.toSorted((a, b) => a - b).join(" ") === inputs.join(" ")
    }`,
  );
}

if (import.meta.main) run(main);
