/**
 * `many`: sleep-based tasks on a large grid (16 peers on this host): does every peer get work?
 * Run with SCOOP_STATS=1 to get each peer's steal counters on stderr. Reports the time of the map
 * after every peer joined, and the CPU seconds the grid's processes on this host spent in it.
 *
 *     SCOOP_STATS=1 bun cli.ts -n 16 bench/apps/many.ts 800 20
 */
import { futures, grid, run } from "../../mod.ts";
import { emit, treeCpuSeconds } from "./_util.ts";

export async function nap(ms: number): Promise<string> {
  await new Promise((r) => setTimeout(r, ms));
  return grid.peerId;
}

export async function main(args: string[]): Promise<void> {
  const tasks = Number(args[0] ?? 800);
  const ms = Number(args[1] ?? 20);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const cpu0 = treeCpuSeconds();
  const t0 = performance.now();
  const who = await futures.map(nap, Array(tasks).fill(ms));
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = treeCpuSeconds() - cpu0;
  const perPeer = new Map<string, number>();
  for (const p of who) perPeer.set(p, (perPeer.get(p) ?? 0) + 1);
  emit({
    tasks,
    ms,
    peers: grid.size,
    peersWithWork: perPeer.size,
    fewest: Math.min(...perPeer.values()),
    most: Math.max(...perPeer.values()),
    seconds,
    idealSeconds: (tasks * ms) / 1000 / grid.size,
    // CPU of every process of the grid on this host while the map ran (Linux).
    cpuSeconds,
  });
}

if (import.meta.main) run(main);
