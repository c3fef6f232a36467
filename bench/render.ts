/**
 * Renders `bench/results.json` into the tables of `bench/RESULTS.md`, between the
 * `<!-- GENERATED -->` markers (the prose around them is kept).
 *
 *     bun bench/render.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
// deno-lint-ignore no-explicit-any
type Any = any;

const f = (x: number, d = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const ok = (pass: boolean) => (pass ? "met" : "**missed**");

function table(rt: string, r: Any): string {
  const rows: string[][] = [];
  const add = (what: string, value: string, target: string, verdict: string, command: string) =>
    rows.push([
      what,
      value,
      target,
      verdict,
      /^(same run)?$/.test(command) ? command : "`" + command + "`",
    ]);

  const t1m = r.tiny1M;
  const tinyPairs: [Any, Any][] = [[r.tiny10k, r.piscina10k], [r.tiny1M, r.piscina1M]];
  for (const [t, p] of tinyPairs) {
    const ratio = t.tasksPerSecond / p.tasksPerSecond;
    add(
      `tiny: map of ${f(t.n)} trivial tasks, -n 2`,
      `${f(t.tasksPerSecond)} tasks/s`,
      "≥ 100,000",
      ok(t.tasksPerSecond >= 100_000),
      t.command,
    );
    add(
      `Piscina, ${f(p.n)} tasks, ${p.threads} threads`,
      `${f(p.tasksPerSecond)} tasks/s`,
      "",
      "",
      p.command,
    );
    add(`tiny ÷ Piscina (${f(t.n)})`, `${f(ratio, 2)}×`, "≥ 4×", ok(ratio >= 4), "same run");
  }
  for (const key of ["pi20M", "pi200M"]) {
    const p = r[key];
    if (!p) continue;
    const speedup = p.n1.seconds / p.n2.seconds;
    const eff = p.serial.seconds / (2 * p.n2.seconds);
    add(`${key.slice(2)} pi, serial loop`, `${f(p.serial.seconds, 3)} s`, "", "", p.serial.command);
    add(`${key.slice(2)} pi, 200 tasks, -n 1`, `${f(p.n1.seconds, 3)} s`, "", "", p.n1.command);
    add(`${key.slice(2)} pi, 200 tasks, -n 2`, `${f(p.n2.seconds, 3)} s`, "", "", p.n2.command);
    add(
      `${key.slice(2)} pi speedup (-n 1 ÷ -n 2)`,
      `${f(speedup, 2)}×`,
      key === "pi20M" ? "≥ 1.85×" : "",
      key === "pi20M" ? ok(speedup >= 1.85) : "",
      "same run",
    );
    add(
      `${key.slice(2)} pi efficiency (serial ÷ 2·(-n 2))`,
      f(eff, 2),
      key === "pi200M" ? "≥ 0.95" : "",
      key === "pi200M" ? ok(eff >= 0.95) : "",
      "same run",
    );
  }
  if (r.pi20Mwarm) {
    const w = r.pi20Mwarm;
    const speedup = w.n1.seconds / w.n2.seconds;
    add("20M pi, -n 1, warm (best of 20 rounds)", `${f(w.n1.seconds, 3)} s`, "", "", w.n1.command);
    add("20M pi, -n 2, warm (best of 20 rounds)", `${f(w.n2.seconds, 3)} s`, "", "", w.n2.command);
    add("20M pi speedup, warm", `${f(speedup, 2)}×`, "≥ 1.85×", ok(speedup >= 1.85), "same run");
  }
  if (r.ceiling) {
    add(
      "machine ceiling: pi kernel, 2 raw worker threads vs 1, no scoop",
      `${f(r.ceiling.speedup, 2)}× (efficiency ${f(r.ceiling.efficiency, 2)})`,
      "",
      "",
      r.ceiling.command,
    );
  }
  add(
    `nested: binary tree depth 12 (${f(r.nested12.tasks)} tasks), -n 2`,
    `${f(r.nested12.seconds, 3)} s`,
    "≤ 0.15 s",
    ok(r.nested12.seconds <= 0.15),
    r.nested12.command,
  );
  if (r.nested12warm) {
    add(
      "nested: depth 12, warm (best of 20 rounds)",
      `${f(r.nested12warm.seconds, 3)} s`,
      "≤ 0.15 s",
      ok(r.nested12warm.seconds <= 0.15),
      r.nested12warm.command,
    );
  }
  add(
    `nested: depth 15 (${f(r.nested15.tasks)} tasks), -n 2`,
    `${f(r.nested15.seconds, 3)} s`,
    "",
    "",
    r.nested15.command,
  );
  const joinedAtEnd = (runs: number[] | undefined) =>
    runs === undefined
      ? ""
      : ` (2nd peer joined in ${runs.filter((n) => n >= 2).length} of ${runs.length})`;
  add(
    `startup: whole run of a 1-item map, -n 2 (median of 5)${joinedAtEnd(r.startup.peersAtEnd)}`,
    `${f(r.startup.medianWall, 3)} s`,
    "≤ 0.35 s",
    ok(r.startup.medianWall <= 0.35),
    r.startup.command,
  );
  if (r.startupAll) {
    add(
      "startup to a whole grid: the same after `grid.waitForPeers()` (median of 5)",
      `${f(r.startupAll.medianWall, 3)} s`,
      "",
      "",
      r.startupAll.command,
    );
  }
  for (const mb of [8, 64]) {
    const p = r[`payload${mb}`];
    const ratio = p.grid.roundTripMBps / p.raw.roundTripMBps;
    add(
      `payload: ${mb} MB Float64Array as argument and result, -n 2`,
      `${f(p.grid.roundTripMBps)} MB/s`,
      "",
      "",
      p.grid.command,
    );
    add(
      `raw libp2p stream, ${mb} MB there and back`,
      `${f(p.raw.roundTripMBps)} MB/s`,
      "",
      "",
      p.raw.command,
    );
    add(
      `payload ÷ raw (${mb} MB)`,
      `${f(100 * ratio)}%`,
      mb === 8 ? "≥ 50%" : "",
      mb === 8 ? ok(ratio >= 0.5) : "",
      "same run",
    );
  }
  add(
    `memory: origin peak RSS, map of ${f(t1m.n)} tasks`,
    `${f(t1m.originPeakRssMB)} MB`,
    "≤ 400 MB",
    ok(t1m.originPeakRssMB <= 400),
    t1m.command,
  );
  const s = r.stream;
  const firstHalf = Math.max(...s.rssMB.slice(0, 5));
  const lastHalf = Math.max(...s.rssMB.slice(5));
  add(
    `memory: origin RSS every ${f(s.n / 10)} of ${f(s.n)} streamed tasks (mapAsCompleted)`,
    `${s.rssMB.join(", ")} MB`,
    "flat",
    ok(lastHalf <= firstHalf * 1.25),
    s.command,
  );
  add(`  … at ${f(s.tasksPerSecond)} tasks/s`, "", "", "", "");
  const m = r.many;
  add(
    `many: ${m.tasks} × ${m.ms} ms sleeps on ${m.peers} peers`,
    `${m.peersWithWork}/${m.peers} peers got work (${m.fewest}–${m.most} tasks each); ${
      f(m.seconds, 2)
    } s (ideal ${f(m.idealSeconds, 2)} s)`,
    "every peer",
    ok(m.peersWithWork === m.peers),
    m.command,
  );
  add(
    "many: steal success rate",
    `${f((100 * m.stealHits) / Math.max(1, m.steals))}% (${m.stealHits} of ${m.steals} requests)`,
    "",
    "",
    "same run",
  );
  const i = r.idle;
  add(
    `idle: ${i.processes} processes of a 4-peer grid`,
    `${f(i.percentOfMachine, 2)}% of the machine (${f(i.percentOfOneCore, 2)}% of one core)`,
    "< 1%",
    ok(i.percentOfMachine < 1),
    i.command,
  );

  const head =
    `### ${rt} (${r.version})\n\n| workload | result | target | | command |\n|---|---|---|---|---|\n`;
  return head + rows.map((row) => `| ${row.join(" | ")} |`).join("\n") + "\n";
}

export function render(): void {
  const results = JSON.parse(readFileSync(join(HERE, "results.json"), "utf8"));
  let md = `Measured ${results.date.slice(0, 16).replace("T", " ")} UTC on ${results.machine}${
    results.quick ? " (quick sizes)" : ""
  }. Generated by \`bun run bench\` from \`bench/results.json\`.\n\n`;
  for (const rt of ["bun", "deno"]) if (results[rt]) md += table(rt, results[rt]) + "\n";
  const path = join(HERE, "RESULTS.md");
  const doc = readFileSync(path, "utf8");
  const start = "<!-- GENERATED -->";
  const end = "<!-- /GENERATED -->";
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  const next = a >= 0 && b > a
    ? doc.slice(0, a + start.length) + "\n" + md + doc.slice(b)
    : doc + `\n${start}\n${md}${end}\n`;
  writeFileSync(path, next);
}

if (import.meta.main) render();
