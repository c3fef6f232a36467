/**
 * Before and after, interleaved: the same workloads run alternately in two checkouts (say a
 * `git worktree` of the base commit beside this one, sharing `node_modules` through a
 * symlink), so that the machine's drift hits both alike. Prints each workload's median with
 * the range and the first (cold) run, per checkout. What the A/B tables of bench/RESULTS.md
 * come from.
 *
 *     git worktree add ../base 028e688 && ln -s "$PWD/node_modules" ../base/node_modules
 *     bun bench/ab.ts ../base . [--runtime deno] [--alternations 6] [--only tiny,payload,many]
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runtime: { type: "string", default: "bun" },
    alternations: { type: "string", default: "5" },
    only: { type: "string" },
  },
});
if (positionals.length !== 2 || !["bun", "deno"].includes(values.runtime!)) {
  process.stderr.write(
    "usage: bun bench/ab.ts BASE_DIR NEW_DIR [--runtime bun|deno] [--alternations N] [--only a,b]\n",
  );
  process.exit(2);
}
const trees = { base: resolve(positionals[0]), new: resolve(positionals[1]) };
const alternations = Number(values.alternations);

/** name, the app's arguments after `cli.ts`, the JSON fields it reports (a row each), higher is better */
const WORKLOADS: [string, string[], string[], boolean][] = [
  ["tiny 10k, tasks/s", ["-n", "2", "bench/apps/tiny.ts", "10000", "5"], ["tasksPerSecond"], true],
  ["nested depth 12, s", ["-n", "2", "bench/apps/nested.ts", "12", "5"], ["seconds"], false],
  [
    "pi 20M, s",
    ["-n", "2", "bench/apps/pi.ts", "20000000", "200", "grid", "5"],
    ["seconds"],
    false,
  ],
  ["payload 8 MB, MB/s", ["-n", "2", "bench/apps/payload.ts", "8", "5"], ["roundTripMBps"], true],
  // Both checkouts need the `many.ts` that reports `cpuSeconds` (an app of this one's, copied).
  [
    "many 800 × 20 ms, 16 peers, s | CPU-s",
    [
      "-n",
      "16",
      "bench/apps/many.ts",
      "800",
      "20",
    ],
    ["seconds", "cpuSeconds"],
    false,
  ],
];
const chosen = WORKLOADS.filter(([name]) =>
  values.only === undefined || values.only.split(",").some((w) => name.startsWith(w))
);

function runOnce(dir: string, args: string[], fields: string[]): number[] {
  const bin = join(trees.new, "node_modules", ".bin", values.runtime!);
  const argv = values.runtime === "deno" ? ["run", "-A", "cli.ts", ...args] : ["cli.ts", ...args];
  const r = spawnSync(bin, argv, { cwd: dir, encoding: "utf8", timeout: 300_000 });
  const line = r.stdout.split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.status !== 0 || line === undefined) {
    throw new Error(`${dir}: ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  }
  const got = JSON.parse(line);
  return fields.map((f) => got[f] as number);
}

/** Per workload, per checkout, per field: the values of every run. */
const got = new Map<string, { base: number[][]; new: number[][] }>();
for (let a = 0; a < alternations; a++) {
  for (const [name, args, fields] of chosen) {
    const g = got.get(name) ?? { base: fields.map(() => []), new: fields.map(() => []) };
    got.set(name, g);
    // Alternate which goes first, too.
    const order = a % 2 === 0 ? (["base", "new"] as const) : (["new", "base"] as const);
    for (const t of order) runOnce(trees[t], args, fields).forEach((x, i) => g[t][i].push(x));
  }
  process.stderr.write(`alternation ${a + 1} of ${alternations} done\n`);
}

const fmt = (x: number) => x >= 1000 ? Math.round(x).toLocaleString("en") : x.toFixed(3);
const cell = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return `${fmt(s[Math.floor(s.length / 2)])} (${fmt(s[0])}–${fmt(s[s.length - 1])}; first ${
    fmt(xs[0])
  })`;
};
process.stdout.write(
  `| workload (${values.runtime}, ${alternations} alternations) | base | new |\n|---|---:|---:|\n`,
);
for (const [name, , fields] of chosen) {
  const g = got.get(name)!;
  const labels = name.split(" | ");
  fields.forEach((_, i) => {
    const label = i === 0 ? labels[0] : `${labels[0].replace(/, [^,]*$/, "")}, ${labels[i]}`;
    process.stdout.write(`| ${label} | ${cell(g.base[i])} | ${cell(g.new[i])} |\n`);
  });
}
