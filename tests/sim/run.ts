/**
 * Runs the simulator from the command line (`bun run sim -- …`, or `bun tests/sim/run.ts …`).
 *
 *     bun run sim -- --peers 1000 --tasks 100000 --seeds 3 --faults
 *     bun run sim -- --seed 42 --peers 20 --tasks 2000 --workload fib --faults   # one run
 *     bun run sim -- --ci --seeds 300 --faults     # many small grids, sizes drawn per seed
 *
 * Each run prints one line; a failing one prints what broke and the one command that replays
 * it. The last line reads `N passed, M failed`; the exit status is 1 if any failed. Seeds run
 * on two threads per core (`--threads N` to choose), each seed alone on its thread, so a run
 * is the same whatever the number of threads.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import process from "node:process";
import { Worker } from "node:worker_threads";
import { type SimOptions, type SimResult, simulate } from "./sim.ts";
import { type WorkloadName, WORKLOADS } from "./workloads.ts";
import { seeded } from "./rng.ts";

const USAGE = `usage: bun run sim -- [--seed N] [--seeds K] [--peers N] [--tasks N]
       [--workload ${WORKLOADS.join("|")}] [--faults] [--kill FRACTION] [--joiners N]
       [--no-replace] [--warmup MS] [--ci] [--json] [--trace] [--threads N]`;

function fail(message: string): never {
  process.stderr.write(`sim: error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function int(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    fail(`--${name} must be an integer >= ${min}, got "${v}"`);
  }
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      seed: { type: "string" },
      seeds: { type: "string" },
      peers: { type: "string" },
      tasks: { type: "string" },
      workload: { type: "string" },
      faults: { type: "boolean", default: false },
      kill: { type: "string" },
      joiners: { type: "string" },
      warmup: { type: "string" },
      "no-replace": { type: "boolean", default: false },
      ci: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      trace: { type: "boolean", default: false },
      threads: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
} catch (err) {
  fail((err as Error).message);
}
const a = parsed.values;
if (a.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const first = int(a.seed, "seed", 1);
const count = int(a.seeds, "seeds", 1, 1);
if (a.workload !== undefined && !(WORKLOADS as readonly string[]).includes(a.workload)) {
  fail(`--workload must be one of ${WORKLOADS.join(", ")}, got "${a.workload}"`);
}
let kill: number | undefined;
if (a.kill !== undefined) {
  kill = Number(a.kill);
  if (!(kill >= 0 && kill < 1)) fail(`--kill must be a fraction in [0, 1), got "${a.kill}"`);
}

/** The options of run `seed`: fixed ones, or in --ci mode sizes drawn from the seed. */
function optionsFor(seed: number): SimOptions {
  let peers = int(a.peers, "peers", 10, 1);
  let tasks = int(a.tasks, "tasks", 2000, 1);
  let workload = a.workload as WorkloadName | undefined;
  if (a.ci) {
    const r = seeded(seed ^ 0x5ca1ab1e);
    if (a.peers === undefined) peers = 3 + Math.floor(r() * 38);
    if (a.tasks === undefined) tasks = 200 + Math.floor(r() * 1800);
    workload ??= WORKLOADS[Math.floor(r() * WORKLOADS.length)];
  }
  return {
    seed,
    peers,
    tasks,
    workload,
    faults: a.faults,
    killFraction: kill,
    joiners: int(a.joiners, "joiners", 0),
    warmupMs: int(a.warmup, "warmup", 0),
    replace: a["no-replace"] ? false : undefined,
    trace: a.trace,
  };
}

function replay(r: SimResult): string {
  const o = r.options;
  return `bun run sim -- --seed ${o.seed} --peers ${o.peers} --tasks ${o.tasks} ` +
    `--workload ${o.workload}${o.faults ? " --faults" : ""}` +
    `${o.killFraction !== undefined ? ` --kill ${o.killFraction}` : ""}` +
    `${o.joiners ? ` --joiners ${o.joiners}` : ""}${o.replace === false ? " --no-replace" : ""}` +
    `${o.warmupMs ? ` --warmup ${o.warmupMs}` : ""}`;
}

let passed = 0;
let failed = 0;

function report(r: SimResult): void {
  const m = r.metrics;
  const seed = r.options.seed;
  if (a.json) process.stdout.write(`${JSON.stringify({ ok: r.ok, ...m, replay: replay(r) })}\n`);
  else {
    process.stdout.write(
      `${r.ok ? "(pass)" : "(FAIL)"} seed ${seed}: ${m.workload} on ${m.peers} peers, ` +
        `${m.tasks} tasks: makespan ${m.makespanMs} ms (ideal ${m.idealMs}), ` +
        `${m.msgsPerPeerSec} msgs/peer/s, steals ${Math.round(m.stealSuccess * 100)}% hit, ` +
        `killed ${m.killed}, lost ${m.declaredLost}, reruns ${m.reruns} [${m.wallMs} ms]\n`,
    );
  }
  if (r.ok) passed++;
  else {
    failed++;
    for (const v of r.violations.slice(0, 10)) process.stdout.write(`    ${v}\n`);
    process.stdout.write(`  replay: ${replay(r)}\n`);
  }
}

/** Run every seed, on `threads` worker threads, reporting in seed order. */
async function runAll(threads: number): Promise<void> {
  const seeds = Array.from({ length: count }, (_, i) => first + i);
  if (threads <= 1 || a.trace) {
    for (const seed of seeds) report(simulate(optionsFor(seed)));
    return;
  }
  const done = new Map<number, SimResult>();
  let next = 0;
  let reported = 0;
  const url = new URL("./worker.ts", import.meta.url);
  await Promise.all(
    Array.from(
      { length: Math.min(threads, seeds.length) },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(url);
          const feed = () => {
            if (next >= seeds.length) {
              void w.terminate();
              resolve();
              return;
            }
            w.postMessage(optionsFor(seeds[next++]));
          };
          w.on("message", (r: SimResult) => {
            done.set(r.options.seed, r);
            while (done.has(seeds[reported])) {
              report(done.get(seeds[reported])!);
              done.delete(seeds[reported++]);
            }
            feed();
          });
          w.on("error", reject);
          feed();
        }),
    ),
  );
}

// Two threads a core: seeds differ in size, and with one a core the last big one runs alone.
const threads = int(a.threads, "threads", Math.min(count, 2 * availableParallelism()), 1);
await runAll(threads);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
