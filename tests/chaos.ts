/**
 * Chaos: run examples on `-n 4` grids over and over while killing (`SIGKILL`) and stopping
 * (`SIGSTOP`, resumed a while later, or never) random peers but the origin, and check every
 * result and that no process is left behind. Seeded: a failing run prints the command that
 * plays the same faults again (timing on real processes still differs from run to run).
 *
 *     bun tests/chaos.ts [--runs N] [--seed S] [--runtime bun|deno]
 *
 * Ends with one line `N passed, N failed`.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { noneLeft, processesTagged } from "./integration/_harness.ts";
import { seeded } from "./sim/rng.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");

/** [example and its arguments, what its output must contain] — each takes ~3 s on `-n 4`. */
const JOBS: [string[], RegExp][] = [
  [["examples/tree.ts", "27", "8"], /fib\(27\) = 196418; a 3-ary tree of depth 8 has 6561 leaves/],
  [["examples/tree.ts", "26", "9"], /fib\(26\) = 121393; a 3-ary tree of depth 9 has 19683 leaves/],
];

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    seed: { type: "string", default: String(Date.now() % 100_000) },
    runtime: { type: "string", default: "bun" },
  },
});
const runs = Number(opts.runs);
const seed = Number(opts.seed);
const runtime = opts.runtime as "bun" | "deno";
if (!Number.isSafeInteger(runs) || runs < 1) {
  throw new Error(`--runs: a positive integer, got ${opts.runs}`);
}
if (!Number.isSafeInteger(seed)) throw new Error(`--seed: an integer, got ${opts.seed}`);
if (runtime !== "bun" && runtime !== "deno") {
  throw new Error(`--runtime: bun or deno, got ${runtime}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One job under faults; returns what went wrong, or undefined. */
async function once(run: number, random: () => number): Promise<[string, string | undefined]> {
  const [args, expected] = JOBS[Math.floor(random() * JOBS.length)];
  const tag = `chaos-${process.pid}-${run}`;
  const [cmd, pre] = runtime === "bun" ? [process.execPath, []] : [DENO, ["run", "-A", "--quiet"]];
  const child = spawn(cmd, [...pre, "cli.ts", "-n", "4", ...args], {
    cwd: ROOT,
    env: { ...process.env, SCOOP_TEST_TAG: tag },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => stdout += d);
  child.stderr.on("data", (d) => stderr += d);
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  );
  let ended = false;
  void exited.then(() => ended = true);
  // Faults: one or two, each at a random moment of the first 2 s, on a random peer but the
  // origin (the launcher's own process); a stopped peer resumes after 0.5–4 s, or never.
  const faults: string[] = [];
  const plan = Array.from({ length: random() < 0.3 ? 2 : 1 }, () => ({
    at: 300 + random() * 1700,
    kill: random() < 0.5,
    resumeAfter: random() < 0.3 ? undefined : 500 + random() * 3500,
    pick: random(),
  })).sort((a, b) => a.at - b.at);
  const t0 = Date.now();
  const resumes: Promise<void>[] = [];
  for (const f of plan) {
    await sleep(Math.max(0, f.at - (Date.now() - t0)));
    if (ended) break;
    const peers = processesTagged(tag).filter((p) => p !== child.pid);
    if (peers.length === 0) continue;
    const pid = peers[Math.floor(f.pick * peers.length)];
    try {
      process.kill(pid, f.kill ? "SIGKILL" : "SIGSTOP");
    } catch {
      continue; // it ended meanwhile
    }
    const at = Math.round(Date.now() - t0);
    if (f.kill) {
      faults.push(`SIGKILL at ${at} ms`);
    } else if (f.resumeAfter === undefined) {
      faults.push(`SIGSTOP at ${at} ms, never resumed`);
    } else {
      faults.push(`SIGSTOP at ${at} ms, resumed ${Math.round(f.resumeAfter)} ms later`);
      resumes.push(
        sleep(f.resumeAfter).then(() => {
          try {
            process.kill(pid, "SIGCONT");
          } catch {
            // killed with the job meanwhile
          }
        }),
      );
    }
  }
  const code = await exited;
  await Promise.all(resumes);
  const left = await noneLeft(tag);
  for (const pid of left) process.kill(pid, "SIGKILL");
  const what = `${args.join(" ")} on ${runtime}: ${
    faults.join("; ") || "no fault (the job ended first)"
  }`;
  if (code !== 0) return [what, `exit status ${code}\n${stderr.slice(-2000)}`];
  if (!expected.test(stdout)) return [what, `wrong output:\n${stdout.slice(-500)}`];
  if (left.length > 0) return [what, `processes left behind: ${left.join(", ")}`];
  return [what, undefined];
}

let passed = 0;
let failed = 0;
const random = seeded(seed);
for (let run = 1; run <= runs; run++) {
  const [what, error] = await once(run, random);
  if (error === undefined) {
    passed++;
    process.stdout.write(`(pass) run ${run}: ${what}\n`);
  } else {
    failed++;
    process.stdout.write(
      `(fail) run ${run}: ${what}\n  ${error.replaceAll("\n", "\n  ")}\n` +
        `  replay: bun tests/chaos.ts --seed ${seed} --runs ${run} --runtime ${runtime}\n`,
    );
  }
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
