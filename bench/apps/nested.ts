/**
 * `nested`: a binary tree of tasks, each submitting its 2 children and awaiting them.
 * A tree of depth d (a root and d levels below it) has 2^(d+1) - 1 tasks: 8,191 for depth 12.
 *
 *     bun cli.ts -n 2 bench/apps/nested.ts 12
 */
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

export async function node(depth: number): Promise<number> {
  if (depth === 0) return 1;
  const [a, b] = await futures.map(node, [depth - 1, depth - 1]);
  return 1 + a + b;
}

export async function main(args: string[]): Promise<void> {
  const depth = Number(args[0] ?? 12);
  const rounds = Number(args[1] ?? 3);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const count = await futures.submit(node, depth);
    best = Math.min(best, (performance.now() - t0) / 1000);
    if (count !== 2 ** (depth + 1) - 1) throw new Error(`wrong count ${count}`);
  }
  emit({ depth, tasks: 2 ** (depth + 1) - 1, peers: grid.size, seconds: best });
}

if (import.meta.main) run(main);
