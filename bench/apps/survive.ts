/**
 * `survive`: a map of N tasks of `ms` each on every peer of `-n`, for `bench/faults.ts` to kill
 * or stop a peer in the middle of. Prints, as JSON lines: `{"pids": {peerId: pid}}` once every
 * peer has run a task (the pid of each, to signal one), and last `{ n, peers, seconds, exact }`.
 *
 *     bun cli.ts -n 4 bench/apps/survive.ts 800 20
 */
import process from "node:process";
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

/** `i * 2` after `ms`, with the peer and process that ran it. */
export async function slowDouble(i: number, ms: number): Promise<[number, string, number]> {
  await new Promise((r) => setTimeout(r, ms));
  return [i * 2, grid.peerId, process.pid];
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 800);
  const ms = Number(args[1] ?? 20);
  const peers = await grid.waitForPeers();
  const pids = new Map<string, number>();
  let told = false;
  const t0 = performance.now();
  const fs = Array.from({ length: n }, (_, i) => futures.submit(slowDouble, i, ms));
  for (const f of fs) {
    void f.then(([, peer, pid]) => {
      pids.set(peer, pid);
      if (!told && pids.size === peers) {
        told = true;
        emit({ pids: Object.fromEntries(pids) });
      }
    }, () => {});
  }
  const out = await Promise.all(fs);
  const seconds = (performance.now() - t0) / 1000;
  emit({ n, peers, seconds, exact: out.every(([v], i) => v === i * 2) });
}

if (import.meta.main) run(main);
