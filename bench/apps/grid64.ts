/**
 * `grid64`: for `bench/grid64.ts`. Sleep tasks of `ms` each on a grid as it forms (no
 * `grid.waitForPeers()` first): keeps about two tasks per live peer in flight until every one
 * of the `-n` peers has run one, then prints, as epoch ms, when `main` started, when the first
 * peer but the origin ran a task, when every peer was live, and when every peer had run one;
 * and, for each joiner, the ms from its process's start to its first task's result here.
 *
 *     SCOOP_STATS=1 bun cli.ts -n 64 bench/apps/grid64.ts 64 [ms=20]
 */
import process from "node:process";
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

/** The peer that ran it and when its process started (epoch ms), after `ms`. */
export async function who(ms: number): Promise<[string, number]> {
  await new Promise((r) => setTimeout(r, ms));
  return [grid.peerId, Date.now() - process.uptime() * 1000];
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 64);
  const ms = Number(args[1] ?? 20);
  const mainAt = Date.now();
  let allLiveAt: number | undefined;
  void grid.waitForPeers(n, { timeout: 600_000 }).then(() => allLiveAt = Date.now());
  const firstAt = new Map<string, number>();
  /** Each joiner's process start to its first task, ms. */
  const joinerMs: number[] = [];
  let tasks = 0;
  const done = Promise.withResolvers<void>();
  // Two tasks per live peer in flight: the new ones get work as they join.
  let inFlight = 0;
  const pump = () => {
    while (firstAt.size < n && inFlight < 2 * grid.size) {
      inFlight++;
      tasks++;
      futures.submit(who, ms).then(([peer, startedAt]) => {
        inFlight--;
        if (!firstAt.has(peer)) {
          firstAt.set(peer, Date.now());
          if (peer !== grid.peerId) joinerMs.push(Date.now() - startedAt);
        }
        if (firstAt.size >= n) done.resolve();
        else pump();
      }, done.reject);
    }
  };
  pump();
  await done.promise;
  const remote = [...firstAt].filter(([p]) => p !== grid.peerId).map(([, t]) => t);
  emit({
    peers: n,
    tasks,
    mainAt,
    firstRemoteAt: Math.min(...remote),
    allLiveAt: allLiveAt ?? Date.now(),
    allWorkAt: Math.max(...firstAt.values()),
    joinerMs: joinerMs.map(Math.round),
  });
}

if (import.meta.main) run(main);
