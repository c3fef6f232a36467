/**
 * `tiny`: futures.map of a trivial task over N items. Prints one JSON line:
 * { n, seconds, tasksPerSecond }. The function mapped is a named task (`task`, the default), a
 * partial of one (`partial`), a builtin (`builtin`, Math.abs) or a lambda of the same body as
 * `inc`, sent as its source (`lambda`), to compare their cost per task. `firstSeconds` is the
 * first round (a lambda's source is shared and compiled in it), `seconds` the best.
 *
 *     bun cli.ts -n 2 bench/apps/tiny.ts 10000 [rounds=1] [task|partial|builtin|lambda]
 */
import { futures, grid, partial, run } from "../../mod.ts";
import { emit, statusMB } from "./_util.ts";

export function inc(x: number): number {
  return x + 1;
}

export function add(a: number, x: number): number {
  return a + x;
}

/** The function each variant maps, and what it gives for the last item, n - 1. */
const VARIANTS = {
  task: [inc, (n: number) => n],
  partial: [partial(add, 1), (n: number) => n],
  builtin: [Math.abs, (n: number) => n - 1],
  lambda: [(x: number) => x + 1, (n: number) => n],
} as const;

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 10_000);
  const rounds = Number(args[1] ?? 1);
  const variant = (args[2] ?? "task") as keyof typeof VARIANTS;
  if (!(variant in VARIANTS)) throw new Error(`unknown variant ${variant}`);
  const [fn, last] = VARIANTS[variant];
  await grid.waitForPeers(); // measure the whole grid: every peer of -n
  const items = Array.from({ length: n }, (_, i) => i);
  let best = Infinity;
  let first = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const out = await futures.map(fn as (x: number) => number, items);
    const s = (performance.now() - t0) / 1000;
    if (out.length !== n || out[n - 1] !== last(n)) throw new Error("wrong result");
    best = Math.min(best, s);
    if (r === 0) first = s;
  }
  // main runs in the origin's executor thread: this process is the origin peer.
  emit({
    n,
    variant,
    peers: grid.size,
    firstSeconds: first,
    seconds: best,
    tasksPerSecond: n / best,
    originPeakRssMB: statusMB("VmHWM"),
  });
}

if (import.meta.main) run(main);
