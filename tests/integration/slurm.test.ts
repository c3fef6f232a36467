/**
 * A SLURM job across three hosts: network namespaces on a bridge (tests/lab/netns.ts), a real
 * slurmctld and one slurmd per host (tests/lab/slurm.ts). A script submitted with `sbatch` runs
 * `cli.ts app.ts` with no host options: the launcher finds the nodes and tasks per node in the
 * job's environment, and starts the other nodes' peers with srun (no sshd runs here). Needs root,
 * slurm-wlm and munge; elsewhere skipped, and the reason printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Lab, labProblem, NET } from "../lab/netns.ts";
import { type Cluster, slurmProblem, startSlurm } from "../lab/slurm.ts";
import { shellQuote } from "../../src/launcher/plan.ts";
import { CLI, command, FIXTURES, lastJson, ROOT, scratch } from "./_harness.ts";

const TIMEOUT = 120_000;
const problem = labProblem() ?? slurmProblem();
if (problem !== undefined) process.stderr.write(`skipped: the SLURM test: ${problem}\n`);

/** Run `argv` to its end; resolves with its status and output. */
function runToEnd(argv: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => out += d);
    child.stderr.on("data", (d) => out += d);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe.skipIf(problem !== undefined)("a SLURM job on three nodes (network namespaces)", () => {
  const lab = new Lab("scslurm", 3);
  const files = scratch("slurm", "5");
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    lab.up().names();
    cluster = await startSlurm(lab, files.dir, 2);
  });
  afterAll(() => {
    lab.down();
    cluster?.stop();
    files.cleanup();
  });

  test("sbatch -N3 -n6 of `cli.ts app.ts`: six peers, two per node, one job", async () => {
    const [runtime, args] = command(CLI, [join(FIXTURES, "api-fixture.ts"), "lanJob", "6", "60"]);
    const script = join(files.dir, "job.sh");
    writeFileSync(
      script,
      `#!/bin/sh\ncd ${shellQuote(ROOT)} && exec ${[runtime, ...args].map(shellQuote).join(" ")}\n`,
    );
    const output = join(files.dir, "job.out");
    // --wait: sbatch returns when the job has ended, with its exit status.
    const sbatch = await runToEnd(
      lab.on(0, ["sbatch", "--wait", "-N3", "-n6", `--output=${output}`, script]),
      cluster!.env,
    );
    const out = readFileSync(output, "utf8");
    expect({ code: sbatch.code, sbatch: sbatch.out }).toEqual({
      code: 0,
      sbatch: expect.stringMatching(/^Submitted batch job \d+\n$/),
    });
    // Six peers (the job waits for every one), on the three nodes; nothing else said.
    expect(lastJson(out)).toEqual({ hosts: [`${NET}.1`, `${NET}.2`, `${NET}.3`], n: 60 });
    expect(out.trim().split("\n")).toHaveLength(1);
  }, TIMEOUT);
});
