/**
 * `payload`: a typed array of M megabytes as a task's argument and result, on a 2-peer grid.
 * Each round submits two copies; the one the origin's executor takes holds it HOLD_MS (on a
 * timer, which keeps its slot: the executor cannot start anything else), so the other copy is
 * stolen by the second peer. The time is from submitting to the remote copy's result reaching
 * `main`: steal, argument there, result back. A round where both ran here (the second peer did
 * not steal within HOLD_MS) is counted and skipped.
 *
 *     bun cli.ts -n 2 bench/apps/payload.ts 8 [rounds=5]
 */
import { futures, grid, run } from "../../mod.ts";
import { emit } from "./_util.ts";

/** Less than the executor's 250 ms safety net, which would let a held slot start another task. */
const HOLD_MS = 150;

export async function echo(a: Float64Array, origin: string): Promise<[string, Float64Array]> {
  if (grid.peerId === origin) await new Promise((wake) => setTimeout(wake, HOLD_MS));
  return [grid.peerId, a];
}

export async function main(args: string[]): Promise<void> {
  const mb = Number(args[0] ?? 8);
  const rounds = Number(args[1] ?? 5);
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const a = new Float64Array((mb * 1024 * 1024) / 8).map((_, i) => i);
  const me = grid.peerId;
  let best = Infinity;
  let remote = 0;
  let local = 0;
  for (let r = 0; r < rounds * 4 && remote < rounds; r++) {
    const t0 = performance.now();
    const copies = [futures.submit(echo, a, me), futures.submit(echo, a, me)];
    const out = await Promise.all(
      copies.map(async (f) => [...(await f), performance.now()] as const),
    );
    for (const [, b] of out) {
      if (b.length !== a.length || b[a.length - 1] !== a[a.length - 1]) {
        throw new Error("payload corrupted");
      }
    }
    const away = out.find(([peer]) => peer !== me);
    if (away === undefined) {
      local++;
      continue;
    }
    remote++;
    best = Math.min(best, (away[2] - t0) / 1000);
  }
  if (remote === 0) throw new Error(`no copy ever ran on the other peer (${local} rounds)`);
  emit({
    mb,
    peers: grid.size,
    seconds: best,
    roundTripMBps: (2 * mb) / best,
    remoteRounds: remote,
    localRounds: local,
  });
}

if (import.meta.main) run(main);
