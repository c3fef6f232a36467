/**
 * `idle`: a grid with nothing to do. main prints `idle <seconds>` and sleeps that long; the
 * runner reads the CPU time of every peer process over the window from /proc.
 *
 *     bun cli.ts -n 4 bench/apps/idle.ts 10
 */
import process from "node:process";
import { grid, run } from "../../mod.ts";

export async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 10);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  process.stdout.write(`idle ${seconds} ${grid.size}\n`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  process.stdout.write(`awake\n`);
}

if (import.meta.main) run(main);
