/**
 * A SLURM cluster on the lab's hosts (tests/lab/netns.ts): a munged of its own (own key and
 * socket), slurmctld on the first host, and one slurmd per host, each under the host's name.
 * Needs Debian's slurm-wlm and munge; `slurmProblem()` says why a test must be skipped instead.
 * Everything runs in the lab's namespaces or on a socket in `dir`, and ends with `lab.down()`
 * (munged with `stop()`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Lab } from "./netns.ts";

const BINARIES = [
  "/usr/sbin/slurmctld",
  "/usr/sbin/slurmd",
  "/usr/sbin/munged",
  "/usr/bin/sbatch",
  "/usr/bin/srun",
  "/usr/bin/sinfo",
  "/usr/bin/nsenter",
  "/usr/bin/unshare",
];

/** Why SLURM cannot run here (beyond the lab's own needs), or undefined when it can. */
export function slurmProblem(): string | undefined {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) {
    return `${missing.join(", ")} missing (apt-get install slurm-wlm munge util-linux)`;
  }
  return undefined;
}

/** A running cluster: `env` (SLURM_CONF) for its commands, `stop()` for munged. */
export interface Cluster {
  env: Record<string, string>;
  stop(): void;
}

/** Start munged, slurmctld on host 0 and a slurmd on every host; resolves once all are idle. */
export async function startSlurm(lab: Lab, dir: string, cpus: number): Promise<Cluster> {
  mkdirSync(join(dir, "state"), { recursive: true });
  const munge = startMunge(dir);
  const conf = join(dir, "slurm.conf");
  const nodes = lab.hosts.map((h, i) => `NodeName=${h} NodeAddr=${lab.addr(i)} CPUs=${cpus}`);
  writeFileSync(
    conf,
    [
      "ClusterName=lab",
      `SlurmctldHost=${lab.hosts[0]}(${lab.addr(0)})`,
      "SlurmUser=root",
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${join(dir, "munge.sock")}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "MpiDefault=none",
      "ReturnToService=2",
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool-%n")}`,
      `SlurmdPidFile=${join(dir, "slurmd-%n.pid")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdLogFile=${join(dir, "slurmd-%n.log")}`,
      `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
      ...nodes,
      `PartitionName=lab Nodes=${lab.hosts.join(",")} Default=YES MaxTime=INFINITE State=UP`,
    ].join("\n") + "\n",
  );
  const env = { SLURM_CONF: conf };
  for (const h of lab.hosts) mkdirSync(join(dir, `spool-${h}`), { recursive: true });
  daemon(lab.named(0, ["/usr/sbin/slurmctld", "-D", "-i"]), env);
  for (const h of lab.hosts) {
    // Not `ip netns exec`: it remounts /sys, and slurmd then finds no cgroups. Only the network
    // namespace, and the lab's names over /etc/hosts in a mount namespace of slurmd's own.
    const script = `mount --bind /etc/netns/${h}/hosts /etc/hosts && hostname ${h} && ` +
      `exec /usr/sbin/slurmd -D -N ${h}`;
    daemon(
      ["nsenter", `--net=/run/netns/${h}`, "unshare", "--uts", "--mount", "sh", "-c", script],
      env,
    );
  }
  await allIdle(lab, env);
  return { env, stop: () => munge.kill("SIGKILL") };
}

function daemon(argv: string[], env: Record<string, string>): void {
  spawn(argv[0], argv.slice(1), { stdio: "ignore", env: { ...process.env, ...env } }).unref();
}

function startMunge(dir: string): ChildProcess {
  const key = join(dir, "munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const munged = spawn("/usr/sbin/munged", [
    "-F",
    "-f",
    `--socket=${join(dir, "munge.sock")}`,
    `--key-file=${key}`,
    `--log-file=${join(dir, "munged.log")}`,
    `--pid-file=${join(dir, "munged.pid")}`,
    `--seed-file=${join(dir, "munged.seed")}`,
  ], { stdio: "ignore" });
  munged.unref();
  return munged;
}

/** Wait until every node is idle (sinfo, run on host 0). */
async function allIdle(lab: Lab, env: Record<string, string>): Promise<void> {
  const [cmd, ...args] = lab.on(0, ["sinfo", "-h", "-N", "-o", "%N %t"]);
  let last = "";
  for (let tries = 0; tries < 300; tries++) {
    try {
      last = execFileSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
      const states = last.trim().split("\n").map((l) => l.split(" ")[1]);
      if (states.length === lab.hosts.length && states.every((s) => s === "idle")) return;
    } catch (err) {
      last = String((err as Error).message);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`The SLURM nodes are not idle after 30 s: ${last}`);
}
