/**
 * The whole test suite, as `npm test` and CI run it:
 *  1. `bun test` — unit tests and integration tests with Bun peers;
 *  2. the integration tests again with Deno peers (`SCOOP_TEST_RUNTIME=deno`);
 *  3. the simulator: 300 seeds of small grids under faults (tests/sim/);
 *  4. chaos: examples on `-n 4` grids while random peers are killed and stopped (tests/chaos.ts);
 *  5. a smoke run of every example under Deno and Bun through the real launcher.
 * Ends with one line `N passed, N failed` and a non-zero status if anything failed.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "node_modules", ".bin");
let passed = 0;
let failed = 0;

/**
 * Run `bun test args…` as one phase. `minimum` is how many tests the phase has today: fewer
 * (a file that failed to load, a describe that stopped registering its cases) fails the
 * difference, so nothing passes by not running. Raise it when tests are added.
 */
async function bunTest(
  label: string,
  args: string[],
  minimum: number,
  env: Record<string, string> = {},
): Promise<void> {
  process.stdout.write(`\n=== ${label} ===\n`);
  // bun test reports on stderr, file by file: passed on as it comes (a phase takes minutes),
  // and kept for its summary.
  const child = spawn(process.execPath, ["test", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    stderr += chunk;
    process.stderr.write(chunk);
  });
  const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const pass = Number(/^\s*(\d+) pass$/m.exec(stderr)?.[1] ?? 0);
  const fail = Number(/^\s*(\d+) fail$/m.exec(stderr)?.[1] ?? 0);
  const skip = Number(/^\s*(\d+) skip$/m.exec(stderr)?.[1] ?? 0);
  passed += pass;
  // A runner that crashed without a summary counts as one failure.
  failed += fail + (status !== 0 && fail === 0 ? 1 : 0);
  const ran = pass + fail + skip;
  if (ran < minimum) {
    process.stdout.write(`(fail) ${label}: ${ran} tests ran, at least ${minimum} expected\n`);
    failed += minimum - ran;
  }
}

/** [example, args, text its output must contain] */
const EXAMPLES: [string, string[], RegExp][] = [
  ["pi.ts", ["2000000", "40"], /pi ≈ 3\.14/],
  ["map.ts", ["12"], /squares: 0 1 4 9 16 25 36 49 64 81 100 121/],
  ["mapreduce.ts", ["100000", "20"], /RSS = \d/],
  ["tree.ts", ["16", "4"], /fib\(16\) = 987; a 3-ary tree of depth 4 has 81 leaves/],
  [
    "constants.ts",
    [],
    /Second element\n[\s\S]*\[1, 2, 3, 4, 5, 6, 7, 8, 9, 10\]\nscaled: 3 6 9 12 15 18[\s\S]*nothing=null, missing → TimeoutError/,
  ],
  [
    "exceptions.ts",
    [],
    /caught BadInput: cannot take 3 \(instanceof TaskError: true[\s\S]*func0\(10\) = 1532\nfunc0\(20\) failed: This exception is normal/,
  ],
  [
    "map-as-completed.ts",
    [],
    /Execution of map\(\):\n(Hello from #\d!\n){10}Execution of mapAsCompleted\(\):\n(Hello from #\d!\n){10}10 results as completed, each input once: true/,
  ],
  [
    "word-count.ts",
    [],
    /85 words, 34 distinct, in 7 lines\nmost frequent: the=11 it=10 of=10 was=10 we=4/,
  ],
  ["sum-multiples.ts", [], /the multiples of 3 or 5 below 1000000: 233333166668\n/],
  ["full-tree.ts", [], /^76153$/m],
  ["recursion.ts", ["10"], /^2\^10 = 1024$/m],
  ["callbacks.ts", [], /(Done: \d\n){5}5 callbacks ran: 1 2 3 4 5/],
  ["conditional.ts", [], /^Hello Parallel World$/m],
  ["merge-sort.ts", ["10000", "2"], /10000 numbers sorted: true, same as serial: true/],
  ["tree-traversal.ts", ["64000"], /Parallel result: 37\nSerial result: {3}37\n/],
  ["onemax.ts", ["60"], /^60\t\d+\t[\d.]+\t[\d.]+\t\d+\t100$[\s\S]*fitness 100 of 100: 1{100}$/m],
  [
    "functions.ts",
    [],
    /^lambda: 9455\nbound weighted: 930\npartial lambda: 930\ncosines: 0\.4216\napplyTwice\(sq, 3\): 81\nshared: 25 625\nrefused: .*closes over "scale"/m,
  ],
  ["onemax-toolbox.ts", ["60"], /^gen 60: \d+ evaluated, max 100\nBest fitness 100 of 100$/m],
];

function smoke(runtime: "bun" | "deno"): void {
  process.stdout.write(`\n=== examples on ${runtime} ===\n`);
  for (const [file, args, expected] of EXAMPLES) {
    const cmd = runtime === "bun" ? process.execPath : join(BIN, "deno");
    const pre = runtime === "bun" ? [] : ["run", "-A", "--quiet"];
    const r = spawnSync(cmd, [...pre, "cli.ts", "-n", "3", `examples/${file}`, ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
    const ok = r.status === 0 && expected.test(r.stdout);
    process.stdout.write(`${ok ? "(pass)" : "(fail)"} ${runtime} cli.ts -n 3 examples/${file}\n`);
    if (!ok) {
      process.stdout.write(`  status ${r.status}\n  stdout: ${r.stdout}\n  stderr: ${r.stderr}\n`);
    }
    if (ok) passed++;
    else failed++;
  }
}

/** The simulator's seeds with faults: each seed is one test; fewer results than seeds fails. */
const SIM_SEEDS = 300;

function simulator(): void {
  process.stdout.write(`\n=== simulator: ${SIM_SEEDS} seeds with faults ===\n`);
  const r = spawnSync(
    process.execPath,
    ["tests/sim/run.ts", "--ci", "--seeds", String(SIM_SEEDS), "--faults"],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 300_000 },
  );
  // Only failures and the summary are worth showing.
  for (const line of r.stdout.split("\n")) {
    if (line !== "" && !line.startsWith("(pass)")) process.stdout.write(`${line}\n`);
  }
  const m = /^(\d+) passed, (\d+) failed$/m.exec(r.stdout);
  const pass = Number(m?.[1] ?? 0);
  const fail = Number(m?.[2] ?? 0);
  passed += pass;
  failed += fail + Math.max(0, SIM_SEEDS - pass - fail);
}

/** Chaos runs per runtime: each one job under random kills and stops, one test. */
const CHAOS_RUNS = 4;

function chaos(runtime: "bun" | "deno"): void {
  process.stdout.write(`\n=== chaos: ${CHAOS_RUNS} runs on ${runtime} ===\n`);
  const seed = String(Date.now() % 100_000);
  const r = spawnSync(
    process.execPath,
    ["tests/chaos.ts", "--runs", String(CHAOS_RUNS), "--seed", seed, "--runtime", runtime],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 600_000 },
  );
  process.stdout.write(r.stdout ?? "");
  const m = /^(\d+) passed, (\d+) failed$/m.exec(r.stdout ?? "");
  const pass = Number(m?.[1] ?? 0);
  const fail = Number(m?.[2] ?? 0);
  passed += pass;
  failed += fail + Math.max(0, CHAOS_RUNS - pass - fail);
}

const only = process.argv[2];
if (!only || only === "bun") await bunTest("bun test (unit + integration, Bun peers)", [], 501);
if (!only || only === "deno") {
  await bunTest("integration, Deno peers", ["tests/integration"], 87, {
    SCOOP_TEST_RUNTIME: "deno",
  });
}
if (!only || only === "sim") simulator();
if (!only || only === "chaos") {
  chaos("bun");
  chaos("deno");
}
if (!only || only === "smoke") {
  smoke("deno");
  smoke("bun");
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
