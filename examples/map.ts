/**
 * A plain map: square numbers on every peer, results in input order; then the same map
 * iterated with `for await`, printing each result as soon as it and all before it are done.
 *
 *     bun cli.ts -n 4 examples/map.ts [count=20]
 */
import { futures, grid, run } from "../mod.ts";

/** The task: any exported function of the entry module can be mapped. */
export function square(x: number): number {
  return x * x;
}

/** An async task works the same way. */
export async function slowDouble(x: number): Promise<string> {
  await new Promise((r) => setTimeout(r, 1));
  return `${x}*2=${2 * x} on ${grid.peerId.slice(-6)}`;
}

export async function main(args: string[]): Promise<number[]> {
  const n = Number(args[0] ?? 20);
  const xs = Array.from({ length: n }, (_, i) => i);
  const squares = await futures.map(square, xs);
  console.log("squares:", squares.join(" "));
  let lines = 0;
  for await (const line of futures.map(slowDouble, xs.slice(0, 5))) {
    console.log(" ", line.replace(/ on \w+$/, ""));
    lines++;
  }
  console.log(`${lines} doubled in order`);
  return squares;
}

if (import.meta.main) run(main);
