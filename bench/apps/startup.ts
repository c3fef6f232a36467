/**
 * `startup`: a whole job of one tiny task, as a user would run it; the bench times the
 * process from spawn to exit. `main` does not wait for the other peers (the launcher runs it
 * as soon as the origin is up), so the JSON line says how many had joined when it ended.
 * With the argument `all` it first waits for every peer of `-n`: the time to a whole grid.
 *
 *     bun cli.ts -n 2 bench/apps/startup.ts
 *     bun cli.ts -n 2 bench/apps/startup.ts all
 */
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

export function inc(x: number): number {
  return x + 1;
}

export async function main(args: string[]): Promise<void> {
  if (args[0] === "all") await grid.waitForPeers();
  const [out] = await futures.map(inc, [1]);
  if (out !== 2) throw new Error("wrong result");
  emit({ peersAtEnd: grid.size });
}

if (import.meta.main) run(main);
