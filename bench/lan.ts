/**
 * Time from a joiner's start to its first task, on a LAN of two network namespaces (the test
 * lab, `tests/lab/netns.ts`; needs root): an origin with a pre-shared key runs
 * `bench/apps/lanjoin.ts` on one host; a joiner starts on the other, finding it over mDNS
 * (`--join`) or given its address (`--join --bootstrap`), with a copy of the app or without one
 * (then it fetches the job's code from the origin). Measured from spawning the joiner to
 * the origin holding the first result that peer computed (the joiner's start-up included: its
 * runtime, its modules, the app). Rewrites the LAN part of `bench/RESULTS.md`.
 *
 *     bun bench/lan.ts [rounds=3]
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab, labProblem } from "../tests/lab/netns.ts";
import { writeBetweenMarkers } from "./markers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const ROUNDS = Number(process.argv[2] ?? 3);
const problem = labProblem();
if (problem !== undefined) {
  process.stderr.write(`bench/lan.ts needs the lab: ${problem}\n`);
  process.exit(0);
}

const cmd = (rt: "bun" | "deno", args: string[]) =>
  rt === "bun"
    ? [join(BIN, "bun"), "cli.ts", ...args]
    : [join(BIN, "deno"), "run", "-A", "--quiet", "cli.ts", ...args];

/** One origin and one joiner; ms from the joiner's spawn to its first result at the origin. */
async function once(lab: Lab, rt: "bun" | "deno", how: How): Promise<number> {
  const env = { ...process.env, SCOOP_SECRET: `bench ${Math.random()}` };
  const [o, ...oa] = lab.on(0, cmd(rt, ["-n", "1", "bench/apps/lanjoin.ts", "20"]));
  const origin = spawn(o, oa, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => origin.on("exit", resolve));
  let err = "";
  let out = "";
  const addr = await new Promise<string>((resolve, reject) => {
    origin.stderr.on("data", (d) => {
      err += d;
      const m = /--bootstrap (\/ip4\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`origin exited ${code}: ${err}`)));
  });
  const t0 = Date.now();
  const extra = how.startsWith("bootstrap") ? ["--bootstrap", addr] : [];
  const app = how.endsWith("code") ? [] : ["bench/apps/lanjoin.ts"];
  const [j, ...ja] = lab.on(1, cmd(rt, ["--join", "--once", ...extra, ...app]));
  const joiner = spawn(j, ja, { cwd: ROOT, env, stdio: ["ignore", "ignore", "ignore"] });
  const joined = new Promise((resolve) => joiner.on("exit", resolve));
  origin.stdout.on("data", (d) => out += d);
  const code = await exited;
  await joined;
  const m = /"firstRemote":(\d+)/.exec(out);
  if (code !== 0 || m === null) throw new Error(`origin exited ${code}: ${err}${out}`);
  return Number(m[1]) - t0;
}

/** How the joiner finds the grid, and whether it has the app (else it fetches the code). */
type How = "mdns" | "bootstrap" | "mdns-code" | "bootstrap-code";
const HOWS: How[] = ["mdns", "bootstrap", "mdns-code", "bootstrap-code"];
const LABEL: Record<How, string> = {
  mdns: "mDNS (`--join --once app.ts`)",
  bootstrap: "`--join --once --bootstrap … app.ts`",
  "mdns-code": "mDNS, no app: code fetched (`--join --once`)",
  "bootstrap-code": "no app: code fetched (`--join --once --bootstrap …`)",
};

const lab = new Lab("scbench", 2).up();
const rows: string[] = [];
try {
  for (const rt of ["bun", "deno"] as const) {
    const by = Object.fromEntries(HOWS.map((h) => [h, [] as number[]])) as Record<How, number[]>;
    for (let r = 0; r < ROUNDS; r++) {
      for (const how of HOWS) {
        const ms = await once(lab, rt, how);
        by[how].push(ms);
        process.stderr.write(`${rt} ${how} ${ms} ms\n`);
      }
    }
    for (const how of HOWS) {
      const xs = by[how];
      rows.push(`| ${rt} | ${LABEL[how]} | ${median(xs)} ms (${xs.join(", ")}) |`);
    }
  }
} finally {
  lab.down();
}
const table = [
  `Measured ${
    new Date().toISOString().slice(0, 16).replace("T", " ")
  } UTC by \`bun bench/lan.ts ${ROUNDS}\`: ` +
  "two network namespaces on a bridge, the origin (`-n 1 bench/apps/lanjoin.ts`) on one, a joiner " +
  "of the same runtime started on the other; from spawning the joiner to the origin holding the " +
  "first result it computed. Rounds interleaved; median (every run, the first cold).",
  "",
  "| runtime | how the joiner finds the grid and its code | joiner start → first task done |",
  "|---|---|---:|",
  ...rows,
].join("\n");
process.stdout.write(table + "\n");
writeBetweenMarkers("LAN", table);
process.exit(0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
