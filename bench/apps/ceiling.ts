/**
 * The machine's own ceiling for `pi`: the same kernel twice on 1 worker thread, then once on
 * each of 2 worker threads of this runtime, no scoop at all (all in workers, so that main-thread
 * and worker JIT differences do not count). On a 2-vCPU VM two busy threads rarely get two
 * whole cores; this says how much parallel efficiency the hardware leaves to win.
 *
 *     bun bench/apps/ceiling.ts 100000000
 */
import process from "node:process";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { hits } from "../../examples/pi.ts";
import { emit } from "./_util.ts";

const N = isMainThread ? Number(process.argv[2] ?? 100_000_000) : (workerData as number);
if (!isMainThread) {
  parentPort!.on("message", (seeds: number[]) => {
    for (const seed of seeds) hits(seed, N);
    parentPort!.postMessage("done");
  });
} else {
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: N }));
  const run = (w: Worker, seeds: number[]) =>
    new Promise((resolve) => {
      w.once("message", resolve);
      w.postMessage(seeds);
    });
  await Promise.all(workers.map((w) => run(w, [0]))); // warm up both
  let t0 = performance.now();
  await run(workers[0], [1, 2]);
  const serial = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await Promise.all(workers.map((w, i) => run(w, [i + 1])));
  const parallel = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  emit({
    samples: 2 * N,
    serial,
    parallel,
    speedup: serial / parallel,
    efficiency: serial / parallel / 2,
  });
}
