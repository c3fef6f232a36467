/**
 * The benchmark suite: every workload through the real launcher, on Bun and on Deno, with the
 * comparisons of issue 3 measured in the same run. Writes `bench/results.json` and the tables
 * of `bench/RESULTS.md` (between the GENERATED markers).
 *
 *     bun run bench                 # both runtimes (or: bun bench/run.ts)
 *     bun bench/run.ts bun          # one runtime
 *     bun bench/run.ts bun quick    # smaller sizes, for a fast look
 */
import { BUN_PEER_ENV } from "../src/runtime/peer-env.ts";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
type Runtime = "bun" | "deno";
type Json = Record<string, unknown>;

const runtimes = (process.argv[2] === "bun" || process.argv[2] === "deno")
  ? [process.argv[2] as Runtime]
  : ["bun", "deno"] as Runtime[];
const quick = process.argv.includes("quick");

/** argv that runs `script args…` on `rt`, as a user would type it (minus the path to bin). */
function cmd(rt: Runtime, script: string, args: string[]): [string, string[], string] {
  const exe = join(BIN, rt);
  const argv = rt === "deno" ? ["run", "-A", "--quiet", script, ...args] : [script, ...args];
  const shown = rt === "deno"
    ? `deno run -A ${script} ${args.join(" ")}`
    : `bun ${script} ${args.join(" ")}`;
  return [exe, argv, shown];
}

/** Run to completion; the last stdout line is the app's JSON. */
function runJson(
  rt: Runtime,
  script: string,
  args: string[],
  env: Json = {},
): Json & { command: string; stderr: string; wall: number } {
  const [exe, argv, shown] = cmd(rt, script, args);
  const t0 = performance.now();
  const r = spawnSync(exe, argv, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  const envText = Object.entries(env).map(([k, v]) => `${k}=${v} `).join("");
  if (r.status !== 0) {
    throw new Error(`${envText}${shown} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  const lines = r.stdout.trim().split("\n");
  const json = JSON.parse(lines[lines.length - 1]) as Json;
  return { ...json, command: `${envText}${shown}`, stderr: r.stderr, wall };
}

const log = (s: string) => process.stderr.write(s + "\n");

/** CPU ticks (utime + stime) of processes whose environment carries `tag`. */
function cpuTicks(tag: string): { pids: number; ticks: number } {
  let ticks = 0;
  let pids = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "latin1").includes(`SCOOP_BENCH_TAG=${tag}\0`)) {
        continue;
      }
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      pids++;
    } catch {
      // gone
    }
  }
  return { pids, ticks };
}

/** CPU used by an idle 4-peer grid over `seconds`. */
async function idle(rt: Runtime, seconds: number): Promise<Json> {
  const tag = `idle-${process.pid}-${rt}`;
  const [exe, argv, shown] = cmd(rt, "cli.ts", ["-n", "4", "bench/apps/idle.ts", String(seconds)]);
  const child = spawn(exe, argv, {
    cwd: ROOT,
    env: { ...process.env, SCOOP_BENCH_TAG: tag },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const seen = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => re.test(out) && resolve();
      child.stdout!.on("data", (d) => {
        out += d;
        check();
      });
      check();
    });
  await seen(/idle \d+/);
  // Let start-up settle (JIT, first gossip), then measure a window of `seconds`.
  await new Promise((r) => setTimeout(r, 1000));
  const a = cpuTicks(tag);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, (seconds - 2) * 1000));
  const b = cpuTicks(tag);
  const window = (performance.now() - t0) / 1000;
  await new Promise((r) => child.on("exit", r));
  const hz = 100; // USER_HZ on Linux
  const cpuSeconds = (b.ticks - a.ticks) / hz;
  return {
    command: `${shown} (CPU of its ${b.pids} processes from /proc over ${window.toFixed(1)} s)`,
    processes: b.pids,
    window,
    cpuSeconds,
    percentOfOneCore: (100 * cpuSeconds) / window,
    percentOfMachine: (100 * cpuSeconds) / window / os.cpus().length,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function suite(rt: Runtime): Promise<Json> {
  const out: Json = {};
  const version =
    spawnSync(join(BIN, rt), ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  out.version = version.trim();
  const big = quick ? 100_000 : 1_000_000;

  log(`[${rt}] tiny`);
  out.tiny10k = runJson(rt, "cli.ts", ["-n", "2", "bench/apps/tiny.ts", "10000", "5"]);
  // Baselines run with the runtime settings scoop's peers get (src/runtime/peer-env.ts).
  const alloc = rt === "bun" ? { ...BUN_PEER_ENV } : {};
  out.piscina10k = runJson(rt, "bench/piscina/run.mjs", ["10000", "2", "5"], alloc);
  out.tiny1M = runJson(rt, "cli.ts", ["-n", "2", "bench/apps/tiny.ts", String(big), "1"]);
  out.piscina1M = runJson(rt, "bench/piscina/run.mjs", [String(big), "2", "1"], alloc);

  log(`[${rt}] pi`);
  for (const samples of quick ? [20_000_000] : [20_000_000, 200_000_000]) {
    const args = ["bench/apps/pi.ts", String(samples), "200"];
    out[`pi${samples / 1e6}M`] = {
      serial: runJson(rt, "cli.ts", ["-n", "1", ...args, "serial"]),
      n1: runJson(rt, "cli.ts", ["-n", "1", ...args, "grid"]),
      n2: runJson(rt, "cli.ts", ["-n", "2", ...args, "grid"]),
    };
  }

  // The same 20M case after the JIT has settled: best of 20 rounds instead of 3 (on Bun, JSC
  // keeps compiling the mesh and executor code for the first few rounds, on the same 2 cores).
  if (!quick) {
    const warm = ["bench/apps/pi.ts", "20000000", "200", "grid", "20"];
    out.pi20Mwarm = {
      n1: runJson(rt, "cli.ts", ["-n", "1", ...warm]),
      n2: runJson(rt, "cli.ts", ["-n", "2", ...warm]),
    };
  }

  out.ceiling = runJson(rt, "bench/apps/ceiling.ts", [quick ? "20000000" : "100000000"], alloc);

  log(`[${rt}] nested`);
  out.nested12 = runJson(rt, "cli.ts", ["-n", "2", "bench/apps/nested.ts", "12", "5"]);
  if (!quick) {
    out.nested12warm = runJson(rt, "cli.ts", ["-n", "2", "bench/apps/nested.ts", "12", "20"]);
  }
  out.nested15 = runJson(rt, "cli.ts", ["-n", "2", "bench/apps/nested.ts", "15", "3"]);

  log(`[${rt}] startup`);
  for (const [name, extra] of [["startup", []], ["startupAll", ["all"]]] as const) {
    const walls: number[] = [];
    const joined: number[] = [];
    let command = "";
    for (let i = 0; i < 5; i++) {
      const r = runJson(rt, "cli.ts", ["-n", "2", "bench/apps/startup.ts", ...extra]);
      walls.push(r.wall);
      joined.push(Number(r.peersAtEnd));
      command = r.command;
    }
    out[name] = { command, medianWall: median(walls), walls, peersAtEnd: joined };
  }

  log(`[${rt}] payload`);
  for (const mb of [8, 64]) {
    out[`payload${mb}`] = {
      grid: runJson(rt, "cli.ts", [
        "-n",
        "2",
        "bench/apps/payload.ts",
        String(mb),
        mb > 8 ? "3" : "5",
      ]),
      raw: runJson(rt, "bench/apps/raw-stream.ts", [String(mb), mb > 8 ? "3" : "5"], alloc),
    };
  }

  log(`[${rt}] memory`);
  out.stream = runJson(rt, "cli.ts", [
    "-n",
    "2",
    "bench/apps/stream.ts",
    String(quick ? 1_000_000 : 10_000_000),
  ]);

  log(`[${rt}] many`);
  const many = runJson(rt, "cli.ts", ["-n", "16", "bench/apps/many.ts", "800", "20"], {
    SCOOP_STATS: "1",
  });
  const stats = [...many.stderr.matchAll(/^scoop-stats (.*)$/gm)].map((m) => JSON.parse(m[1]));
  const steals = stats.reduce((n, s) => n + s.steals, 0);
  const hits = stats.reduce((n, s) => n + s.stealHits, 0);
  out.many = { ...many, stderr: undefined, statsPeers: stats.length, steals, stealHits: hits };

  log(`[${rt}] idle`);
  out.idle = await idle(rt, quick ? 5 : 10);
  return out;
}

const all: Json = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${
    Math.round(os.totalmem() / 2 ** 30)
  } GB, ${os.type()} ${os.release()}`,
  quick,
};
for (const rt of runtimes) all[rt] = await suite(rt);
writeFileSync(
  join(ROOT, "bench", "results.json"),
  JSON.stringify(all, (k, v) => k === "stderr" ? undefined : v, 2) + "\n",
);
log("wrote bench/results.json");
const { render } = await import("./render.ts");
render();
