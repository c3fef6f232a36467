/**
 * Faults on a real grid, for `bench/RESULTS.md`: `-n 4`, a map of 800 tasks of 20 ms
 * (`bench/apps/survive.ts`), with no fault, with one peer but the origin killed (`SIGKILL`) or
 * stopped for good (`SIGSTOP`) once every peer has run a task. Reports, per runtime and fault,
 * the time from the signal until a peer that held its tasks declares it lost (the warning
 * `peer … lost (…); N of its tasks run elsewhere`), and the job's time, each run's figure listed (the first run is a cold one). Rewrites
 * the part of `bench/RESULTS.md` between the FAULTS markers.
 *
 *     bun bench/faults.ts [rounds]
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { writeBetweenMarkers } from "./markers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const ROUNDS = Number(process.argv[2] ?? 3);
const APP = ["cli.ts", "-n", "4", "bench/apps/survive.ts", "800", "20"];

type Fault = "none" | "SIGKILL" | "SIGSTOP";
interface Outcome {
  seconds: number;
  detectMs?: number;
  exact: boolean;
}

function once(runtime: "bun" | "deno", fault: Fault): Promise<Outcome> {
  const [cmd, pre] = runtime === "bun" ? [process.execPath, []] : [DENO, ["run", "-A", "--quiet"]];
  const child = spawn(cmd, [...pre, ...APP], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let signalledAt: number | undefined;
  let lostAt: number | undefined;
  let last: Record<string, unknown> | undefined;
  let buf = "";
  let err = "";
  let victimId: string | undefined;
  child.stderr.on("data", (d) => {
    err += d;
    // The peer that queues its tasks again says so (a warning, shown by default).
    if (lostAt === undefined && victimId !== undefined && err.includes(`peer ${victimId} lost`)) {
      lostAt = Date.now();
    }
  });
  child.stdout.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      const m = JSON.parse(line) as Record<string, unknown>;
      if ("pids" in m && fault !== "none") {
        // The launcher is the origin: any other pid is a peer it started.
        const victim = Object.entries(m.pids as Record<string, number>).find(([, p]) =>
          p !== child.pid
        );
        if (victim === undefined) throw new Error("no peer but the origin ran a task");
        victimId = victim[0];
        signalledAt = Date.now();
        process.kill(victim[1], fault);
      } else if ("seconds" in m) {
        last = m;
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      if (code !== 0 || last === undefined) {
        reject(new Error(`${runtime} ${fault}: status ${code}\n${err}`));
        return;
      }
      resolve({
        seconds: last.seconds as number,
        exact: last.exact as boolean,
        detectMs: signalledAt !== undefined && lostAt !== undefined
          ? lostAt - signalledAt
          : undefined,
      });
    });
  });
}

const rows: string[] = [];
for (const runtime of ["bun", "deno"] as const) {
  const by = new Map<Fault, Outcome[]>();
  // Interleaved: each round runs every fault once, so drift hits them alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const fault of ["none", "SIGKILL", "SIGSTOP"] as Fault[]) {
      const o = await once(runtime, fault);
      if (!o.exact) throw new Error(`${runtime} ${fault}: a result was wrong`);
      by.set(fault, [...by.get(fault) ?? [], o]);
      process.stderr.write(`${runtime} ${fault} ${JSON.stringify(o)}\n`);
    }
  }
  const base = median(by.get("none")!.map((o) => o.seconds));
  for (const [fault, outs] of by) {
    const s = outs.map((o) => o.seconds);
    const d = outs.flatMap((o) => o.detectMs === undefined ? [] : [o.detectMs]);
    rows.push(
      `| ${runtime} | ${fault === "none" ? "no fault" : `one of 4 peers: ${fault}`} | ${
        d.length === 0 ? "" : `${median(d)} ms (${d.join(", ")})`
      } | ${median(s).toFixed(2)} s (${s.map((x) => x.toFixed(2)).join(", ")}) | ${
        (median(s) / base).toFixed(2)
      }× | all exact |`,
    );
  }
}

const version = (cmd: string, args: string[]) =>
  new Promise<string>((resolve) => {
    const c = spawn(cmd, args);
    let out = "";
    c.stdout.on("data", (d) => out += d);
    c.on("exit", () => resolve(out.split("\n")[0].trim()));
  });
const table = [
  `Measured ${
    new Date().toISOString().slice(0, 16).replace("T", " ")
  } UTC by \`bun bench/faults.ts ${ROUNDS}\` ` +
  `(Bun ${await version(process.execPath, ["--version"])}, ${await version(DENO, [
    "--version",
  ])}); ` +
  `each: \`cli.ts -n 4 bench/apps/survive.ts 800 20\` (800 × 20 ms = 16 s of work ÷ 4 peers: ` +
  `4 s ideal); runs interleaved, median (every run, the first cold).`,
  "",
  "| runtime | fault | signal → declared lost | job | vs no fault | results |",
  "|---|---|---:|---:|---:|---|",
  ...rows,
].join("\n");
process.stdout.write(table + "\n");

writeBetweenMarkers("FAULTS", table);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
