/**
 * mapReduce: the residual sum of squares of a linear fit, computed as a distributed map over
 * chunks of the data and a tree of additions. The data set travels once, as a shared constant.
 *
 *     bun cli.ts -n 4 examples/mapreduce.ts [points=1000000] [chunks=100]
 */
import { futures, run, shared } from "../mod.ts";

/** Residuals of y = 2x + 1 over chunk `i` of `chunks`. */
export async function chunkRss(i: number, chunks: number): Promise<number> {
  const xs = await shared.getConst<Float64Array>("xs", { timeout: 10_000 });
  const ys = await shared.getConst<Float64Array>("ys", { timeout: 10_000 });
  const size = Math.ceil(xs.length / chunks);
  let rss = 0;
  for (let k = i * size; k < Math.min(xs.length, (i + 1) * size); k++) {
    const r = ys[k] - (2 * xs[k] + 1);
    rss += r * r;
  }
  return rss;
}

/** The reduction: must be associative (order is kept, so it need not commute). */
export function add(a: number, b: number): number {
  return a + b;
}

export async function main(args: string[]): Promise<number> {
  const points = Number(args[0] ?? 1_000_000);
  const chunks = Number(args[1] ?? 100);
  const xs = new Float64Array(points);
  const ys = new Float64Array(points);
  for (let k = 0; k < points; k++) {
    xs[k] = k / points;
    ys[k] = 2 * xs[k] + 1 + ((k % 7) - 3) * 1e-3; // a deterministic wobble around the line
  }
  await shared.setConst({ xs, ys });
  const ids = Array.from({ length: chunks }, (_, i) => i);
  const rss = await futures.mapReduce(chunkRss, add, ids, ids.map(() => chunks));
  console.log(`RSS = ${rss.toExponential(6)} over ${points} points in ${chunks} chunks`);
  return rss;
}

if (import.meta.main) run(main);
