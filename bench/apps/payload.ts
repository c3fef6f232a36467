/**
 * `payload`: a typed array of M megabytes as a task's argument and result, run on the other
 * peer of a 2-peer grid. `main` keeps its own executor busy (it holds its slot, sleeping on a
 * timer, which is not a future) until another peer has started the task, so the task is always
 * stolen and the time is that of the remote round trip: steal, argument there, result back.
 * Rounds where it still ran here (possible only after the executor's 250 ms safety net) are
 * skipped.
 *
 *     bun cli.ts -n 2 bench/apps/payload.ts 8
 */
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

export function echo(a: Float64Array): [string, Float64Array] {
  return [grid.peerId, a];
}

export async function main(args: string[]): Promise<void> {
  const mb = Number(args[0] ?? 8);
  const rounds = Number(args[1] ?? 5);
  const a = new Float64Array((mb * 1024 * 1024) / 8).map((_, i) => i);
  let best = Infinity;
  let remote = 0;
  for (let r = 0; r < rounds * 4 && remote < rounds; r++) {
    const t0 = performance.now();
    const f = futures.submit(echo, a);
    while (!f.running() && !f.done()) await new Promise((wake) => setTimeout(wake, 1));
    const [peer, b] = await f;
    const s = (performance.now() - t0) / 1000;
    if (b.length !== a.length || b[a.length - 1] !== a[a.length - 1]) {
      throw new Error("payload corrupted");
    }
    if (peer !== grid.peerId) {
      remote++;
      best = Math.min(best, s);
    }
  }
  if (remote === 0) throw new Error("no copy ever ran on the other peer");
  emit({
    mb,
    peers: grid.size,
    seconds: best,
    roundTripMBps: (2 * mb) / best,
    remoteRounds: remote,
  });
}

if (import.meta.main) run(main);
