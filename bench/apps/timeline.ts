/**
 * `timeline`: where a pi round's time goes, per peer. Runs rounds of 200 pi tasks of `samples`
 * darts each; every task reports when it started and ended (wall clock) and which peer ran it.
 * Prints, per round and per peer: tasks run, when its first task started and its last ended,
 * time busy in tasks, the sum of the gaps between consecutive tasks (and each gap over 1 ms),
 * and the median and slowest task. Not part of `bun run bench`: a diagnostic.
 *
 *     bun cli.ts -n 2 bench/apps/timeline.ts 100000 4    # the 20M case
 *     bun cli.ts -n 2 bench/apps/timeline.ts 1000000 2   # the 200M case
 */
import { futures, grid, run } from "../../mod.ts";
import { hits } from "../../examples/pi.ts";

export { hits };

/** One pi task that also says when it ran, and where. */
export function timedHits(seed: number, n: number): [number, number, number, string] {
  const start = performance.timeOrigin + performance.now();
  const count = hits(seed, n);
  return [count, start, performance.timeOrigin + performance.now(), grid.peerId];
}

const ms = (x: number) => x.toFixed(1);

export async function main(args: string[]): Promise<void> {
  const samples = Number(args[0] ?? 100_000);
  const rounds = Number(args[1] ?? 4);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const seeds = Array.from({ length: 200 }, (_, i) => i + 1);
  hits(0, 200_000); // warm the kernel up in this thread too
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.timeOrigin + performance.now();
    const out = await futures.map(timedHits, seeds, seeds.map(() => samples));
    const wall = performance.timeOrigin + performance.now() - t0;
    const byPeer = new Map<string, [number, number][]>();
    for (const [, start, end, peer] of out) {
      const spans = byPeer.get(peer) ?? [];
      spans.push([start - t0, end - t0]);
      byPeer.set(peer, spans);
    }
    console.log(`round ${r}: ${ms(wall)} ms`);
    for (const [peer, spans] of byPeer) {
      spans.sort((a, b) => a[0] - b[0]);
      const gaps = spans.slice(1).map(([start], i) => start - spans[i][1]);
      const took = spans.map(([start, end]) => end - start).sort((a, b) => a - b);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      console.log(
        `  ${peer.slice(-6)}${peer === grid.peerId ? " (origin)" : ""}: ${spans.length} tasks, ` +
          `first ${ms(spans[0][0])}, last ${ms(spans[spans.length - 1][1])}, ` +
          `busy ${ms(sum(took))}, gaps ${ms(sum(gaps))} ` +
          `(over 1 ms: ${gaps.filter((g) => g > 1).map(ms).join(" ") || "none"}), ` +
          `task median ${took[took.length >> 1].toFixed(2)} max ${
            took[took.length - 1].toFixed(2)
          }`,
      );
    }
  }
}

if (import.meta.main) run(main);
