/**
 * The simulator's numbers for `bench/RESULTS.md`: grids of 10, 100 and 1,000 peers, each a
 * flat map of 100 tasks per peer (5–15 ms each) and a nested tree; the time a peer that joins
 * mid-job takes to run its first task; and 1,000 peers with 5% of them killed mid-job. Every
 * row is one seeded run of `tests/sim/run.ts`, in simulated time; the command that replays it
 * is in the table. Rewrites the part of `bench/RESULTS.md` between the SIM markers.
 *
 *     bun bench/sim.ts
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { writeBetweenMarkers } from "./markers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
type Json = Record<string, unknown>;

interface Scenario {
  name: string;
  args: string[];
}

const SCENARIOS: Scenario[] = [];
for (const n of [10, 100, 1000]) {
  SCENARIOS.push({ name: `flat map, ${n} peers`, args: flat(n) });
}
for (const n of [10, 100, 1000]) {
  SCENARIOS.push({
    name: `flat map, ${n} peers, 5 join mid-job`,
    args: [...flat(n), "--joiners", "5"],
  });
}
for (const n of [10, 100, 1000]) {
  SCENARIOS.push({
    name: `binary tree, ${n} peers`,
    args: ["--peers", String(n), "--tasks", String(100 * n), "--workload", "tree"],
  });
}
SCENARIOS.push({
  name: "flat map, 1000 peers, 5% killed mid-job",
  args: [...flat(1000), "--kill", "0.05", "--no-replace"],
});

function flat(n: number): string[] {
  return ["--peers", String(n), "--tasks", String(100 * n), "--workload", "flat"];
}

/** One scenario: its JSON line. */
function runOne(s: Scenario): Promise<Json> {
  const args = [
    "tests/sim/run.ts",
    "--seed",
    "1",
    "--json",
    "--threads",
    "1",
    "--warmup",
    "2000",
    ...s.args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => out += d);
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line === undefined) reject(new Error(`${args.join(" ")} failed (${code}):\n${out}`));
      else resolve({ ...JSON.parse(line) as Json, scenario: s.name });
    });
  });
}

/** Run the scenarios two at a time (this machine has two cores), keeping their order. */
async function runAll(): Promise<Json[]> {
  const out: Json[] = new Array(SCENARIOS.length);
  let next = 0;
  const worker = async () => {
    while (next < SCENARIOS.length) {
      const i = next++;
      process.stderr.write(`sim: ${SCENARIOS[i].name}\n`);
      out[i] = await runOne(SCENARIOS[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

function fmt(x: unknown, digits = 0): string {
  return typeof x === "number" ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : "";
}

const rows = await runAll();
const lines = [
  `Measured ${
    new Date().toISOString().slice(0, 16).replace("T", " ")
  } UTC by \`bun bench/sim.ts\`` +
  ` (Bun ${process.versions.bun ?? "?"}); times are simulated ms, one seed each (seed 1); the` +
  " last column replays the row.",
  "",
  "| scenario | tasks | makespan | ideal (work ÷ peers) | ratio | msgs / peer / s | frames / peer / s | steals that got work | joiner: up → first task | killed · declared lost · re-runs | invariants | wall | command |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
];
for (const r of rows) {
  const j = r.joinFirstTaskMs as { median: number; max: number; n: number };
  lines.push(
    `| ${r.scenario} | ${fmt(r.tasks)} | ${fmt(r.makespanMs)} ms | ${fmt(r.idealMs)} ms | ${
      fmt((r.makespanMs as number) / (r.idealMs as number), 2)
    } | ${fmt(r.msgsPerPeerSec)} | ${fmt(r.framesPerPeerSec)} | ${
      fmt((r.stealSuccess as number) * 100)
    }% | ${j.n > 0 ? `median ${fmt(j.median)} ms, max ${fmt(j.max)} ms (${j.n})` : ""} | ${
      r.killed || r.declaredLost ? `${r.killed} · ${r.declaredLost} · ${r.reruns}` : ""
    } | ${r.ok ? "kept" : "**broken**"} | ${
      fmt((r.wallMs as number) / 1000, 1)
    } s | \`${r.replay}\` |`,
  );
}
const table = lines.join("\n");
process.stdout.write(`${table}\n`);
writeBetweenMarkers("SIM", table);
