/**
 * Piscina (a worker-thread pool, no network) running the same trivial task as `tiny`, with as
 * many threads as the grid has peers. Prints one JSON line: { n, threads, seconds, tasksPerSecond }.
 *
 *     bun bench/piscina/run.mjs 10000 2      # or: node / deno run -A
 */
import { Piscina } from "piscina";
import process from "node:process";

const n = Number(process.argv[2] ?? 10_000);
const threads = Number(process.argv[3] ?? 2);
const rounds = Number(process.argv[4] ?? 3);
const pool = new Piscina({
  filename: new URL("./inc.mjs", import.meta.url).href,
  minThreads: threads,
  maxThreads: threads,
  maxQueue: Infinity,
});
let best = Infinity;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const jobs = new Array(n);
  for (let i = 0; i < n; i++) jobs[i] = pool.run(i);
  const out = await Promise.all(jobs);
  const s = (performance.now() - t0) / 1000;
  if (out[n - 1] !== n) throw new Error("wrong result");
  best = Math.min(best, s);
}
await pool.destroy();
process.stdout.write(
  JSON.stringify({ n, threads, seconds: best, tasksPerSecond: n / best }) + "\n",
);
