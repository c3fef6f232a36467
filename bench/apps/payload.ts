/**
 * `payload`: a typed array of M megabytes as a task's argument and result. Two copies are
 * submitted at once on a 2-peer grid: one runs on the origin, the other is stolen by the second
 * peer, so the wall time of the pair is that of the remote round trip (args there, result
 * back). Rounds where both ran locally are skipped.
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
    const out = await futures.map(echo, [a, a]);
    const s = (performance.now() - t0) / 1000;
    if (out.some(([, b]) => b.length !== a.length || b[a.length - 1] !== a[a.length - 1])) {
      throw new Error("payload corrupted");
    }
    if (out.some(([peer]) => peer !== grid.peerId)) {
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
