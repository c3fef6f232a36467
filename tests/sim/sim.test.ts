/**
 * The simulator itself: a seed replays exactly, runs pass their invariants on every workload,
 * and the invariants catch what they claim to (a result lost, a value wrong).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { simulate } from "./sim.ts";
import { WORKLOADS } from "./workloads.ts";

describe("simulator", () => {
  test("one seed, one run: the same seed gives the same run", () => {
    const a = simulate({ seed: 7, peers: 12, tasks: 800, workload: "tree", faults: true });
    const b = simulate({ seed: 7, peers: 12, tasks: 800, workload: "tree", faults: true });
    const strip = (m: typeof a.metrics) => ({ ...m, wallMs: 0 });
    expect(strip(b.metrics)).toEqual(strip(a.metrics));
    expect(b.violations).toEqual(a.violations);
  });

  test("a seed gives the same run on Deno as on Bun", () => {
    const root = join(import.meta.dir, "..", "..");
    const args = ["run", "-A", "tests/sim/run.ts", "--seed", "11", "--seeds", "3", "--faults"];
    const r = spawnSync(join(root, "node_modules", ".bin", "deno"), [...args, "--ci", "--json"], {
      cwd: root,
      encoding: "utf8",
    });
    const deno = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => {
      const { wallMs: _, replay: __, ok: ___, ...m } = JSON.parse(l);
      return m;
    });
    expect(deno.length).toBe(3);
    const bun = deno.map((m) => {
      const { wallMs: _, ...rest } = simulate({
        seed: 11 + deno.indexOf(m),
        peers: m.peers,
        tasks: m.tasks,
        workload: m.workload,
        faults: true,
      }).metrics;
      return rest;
    });
    expect(deno).toEqual(bun);
  });

  test.each(WORKLOADS.map((w) => [w]))("%s on 8 peers keeps every invariant", (workload) => {
    const r = simulate({ seed: 3, peers: 8, tasks: 600, workload });
    expect(r.violations).toEqual([]);
    expect(r.metrics.makespanMs).toBeGreaterThan(0);
  });

  test("work spreads: every peer of a flat map runs tasks", () => {
    const r = simulate({ seed: 5, peers: 6, tasks: 600, workload: "flat" });
    expect(r.violations).toEqual([]);
    expect(r.metrics.minTasksPerPeer).toBeGreaterThan(0);
  });

  test("a result lost on a link that stays up is caught: the job does not end", () => {
    const r = simulate({ seed: 5, peers: 6, tasks: 600, workload: "flat", sabotage: "drop" });
    expect(r.violations.join("\n")).toMatch(/the job did not end/);
  });

  test("a wrong value is caught", () => {
    const r = simulate({ seed: 5, peers: 6, tasks: 600, workload: "flat", sabotage: "corrupt" });
    expect(r.violations.join("\n")).toMatch(/main returned \d+, expected \d+/);
  });
});
