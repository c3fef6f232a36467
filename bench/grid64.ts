/**
 * A 64-peer grid on one host, for `bench/RESULTS.md`: `cli.ts -n 64 bench/apps/grid64.ts`,
 * sleep tasks of 20 ms submitted from the start (no `grid.waitForPeers()`), two per live peer
 * in flight, until every peer has run one. Reports, from spawning the launcher: the first task
 * a joiner ran, every peer live, every peer having run a task; each joiner's time from its
 * process's start to its first task (median and worst); the most links a peer and the origin
 * had at once (`SCOOP_STATS`), and the peer processes that ended (64 when none was replaced).
 * Rewrites the part of `bench/RESULTS.md` between the GRID64 markers.
 *
 *     bun bench/grid64.ts [rounds=2] [peers=64]
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { median, version } from "./_report.ts";
import { writeBetweenMarkers } from "./markers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const ROUNDS = Number(process.argv[2] ?? 2);
const PEERS = Number(process.argv[3] ?? 64);
const APP = ["cli.ts", "-n", String(PEERS), "bench/apps/grid64.ts", String(PEERS), "20"];

interface Outcome {
  firstRemote: number;
  allLive: number;
  allWork: number;
  joinerMedian: number;
  joinerMax: number;
  maxLinks: number;
  originLinks: number;
  ended: number;
}

function once(runtime: "bun" | "deno"): Promise<Outcome> {
  const [cmd, pre] = runtime === "bun" ? [process.execPath, []] : [DENO, ["run", "-A", "--quiet"]];
  const t0 = Date.now();
  const child = spawn(cmd, [...pre, ...APP], {
    cwd: ROOT,
    env: { ...process.env, SCOOP_STATS: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => out += d);
  child.stderr.on("data", (d) => err += d);
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      const line = out.split("\n").filter((l) => l.startsWith("{")).pop();
      if (code !== 0 || line === undefined) {
        reject(new Error(`${runtime}: status ${code}\n${err.slice(-4000)}`));
        return;
      }
      const m = JSON.parse(line);
      const stats = err.split("\n").filter((l) => l.startsWith("scoop-stats "))
        .map((l) => JSON.parse(l.slice("scoop-stats ".length)));
      const links = stats.map((s) => s.maxLinks as number).sort((a, b) => a - b);
      const joiners = (m.joinerMs as number[]).sort((a, b) => a - b);
      resolve({
        firstRemote: m.firstRemoteAt - t0,
        allLive: m.allLiveAt - t0,
        allWork: m.allWorkAt - t0,
        joinerMedian: median(joiners),
        joinerMax: joiners[joiners.length - 1],
        // The origin links to every peer as it joins (each dials it first): the largest.
        originLinks: links[links.length - 1],
        maxLinks: links[links.length - 2],
        ended: stats.length,
      });
    });
  });
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const rows: string[] = [];
for (const runtime of ["bun", "deno"] as const) {
  const outs: Outcome[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const o = await once(runtime);
    outs.push(o);
    process.stderr.write(`${runtime} ${JSON.stringify(o)}\n`);
  }
  const col = (f: (o: Outcome) => number, fmt = s) =>
    `${fmt(median(outs.map(f)))} (${outs.map((o) => fmt(f(o))).join(", ")})`;
  const n = (x: number) => String(x);
  rows.push(
    `| ${runtime} | ${col((o) => o.firstRemote)} s | ${col((o) => o.allLive)} s | ${
      col((o) => o.allWork)
    } s | ${col((o) => o.joinerMedian)} s / ${col((o) => o.joinerMax)} s | ${
      col((o) => o.maxLinks, n)
    } / ${col((o) => o.originLinks, n)} | ${col((o) => o.ended, n)} |`,
  );
}

const table = [
  `Measured ${
    new Date().toISOString().slice(0, 16).replace("T", " ")
  } UTC by \`bun bench/grid64.ts ${ROUNDS} ${PEERS}\` ` +
  `(Bun ${await version(process.execPath, ["--version"])}, ${await version(DENO, [
    "--version",
  ])}; 2 cores): each run \`SCOOP_STATS=1 <runtime> ${APP.join(" ")}\`, times from ` +
  "spawning the launcher; median (every run, the first cold).",
  "",
  `| runtime | first task on a joiner | all ${PEERS} live | all ${PEERS} ran a task | ` +
  "a joiner's start → its first task (median / worst) | most links: a peer / the origin | " +
  "peer processes that ended |",
  "|---|---:|---:|---:|---:|---:|---:|",
  ...rows,
].join("\n");
process.stdout.write(table + "\n");
writeBetweenMarkers("GRID64", table);
process.exit(0);
