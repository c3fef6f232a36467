/**
 * `lanjoin`: for `bench/lan.ts`. A map of tasks of `ms` each, submitted as the origin runs
 * them; as soon as a peer other than the origin has run one, prints `{"firstRemote": epoch ms}`
 * and ends the job.
 *
 *     SCOOP_SECRET=… bun cli.ts -n 1 bench/apps/lanjoin.ts [ms=20]
 */
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

/** The peer that ran it, after `ms`. */
export async function who(ms: number): Promise<string> {
  await new Promise((r) => setTimeout(r, ms));
  return grid.peerId;
}

export async function main(args: string[]): Promise<void> {
  const ms = Number(args[0] ?? 20);
  const me = grid.peerId;
  // Rounds of 8 keep work queued without a backlog that would outlive the first remote result.
  for (;;) {
    const peers = await futures.map(who, Array(8).fill(ms));
    if (peers.some((p) => p !== me)) break;
  }
  emit({ firstRemote: Date.now() });
}

if (import.meta.main) run(main);
