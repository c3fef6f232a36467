/**
 * The peers of the other hosts: one ssh (or, in a SLURM job, one srun) per host runs
 * `cli.ts --join --once -n K` there, in the same directory (or `--path DIR`), with the grid key
 * on its standard input — never in any process's argv. The joiners are tied to that input: when
 * the launcher closes it (or dies), they leave. A host whose peers cannot start gets one line,
 * and the job goes on without them.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.ts";
import { logger } from "../log.ts";
import { type RuntimeName, scriptCommand } from "../runtime/mod.ts";
import type { HostSlots } from "./hosts.ts";
import { joinArgs, type JoinCommand, shellQuote, srunArgv, sshArgv } from "./plan.ts";
import { describeExit } from "./exit.ts";

const log = logger("remote");
const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));
/** Printed on stderr by the remote shell once ssh is through: what comes before is ssh's own. */
const UP = "scoop-ssh-up";
const STOP_GRACE_MS = 3000;

/** How the launcher reaches the other hosts. */
export interface RemoteOptions {
  /** The hosts (none of them this machine) and their peers. */
  hosts: HostSlots[];
  /** ssh (hostfile, `--hosts`, PBS, SGE) or srun (inside a SLURM job). */
  via: "ssh" | "srun";
  /** The ssh command and its options, as words. @default ["ssh"] */
  ssh?: string[];
  /** Working directory on the remote hosts. @default this process's */
  path?: string;
}

/** The job the remote peers join. */
export interface RemoteJob extends Omit<JoinCommand, "count"> {
  /** The grid key, as one line of text. */
  keyLine: string;
  runtime: RuntimeName;
  /** Called once per host whose peers are gone before the job ended, with their number. */
  onLost: (count: number) => void;
}

/** The grid key as one line of text for a remote peer's standard input. */
export function keyLine(key: Uint8Array): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(key);
  if (/[\r\n]/.test(text) || text.trim() !== text || text === "") {
    throw new UsageError(
      "Cannot send the grid key to other hosts: it must be one line of text without blanks at its ends",
    );
  }
  return text;
}

/** Start every remote host's peers; `stop()` ends them (after the origin said stop). */
export function startRemotePeers(
  options: RemoteOptions,
  job: RemoteJob,
): { stop(): Promise<void> } {
  const dir = options.path ?? process.cwd();
  const ssh = options.ssh ?? ["ssh"];
  let ending = false;
  const live = new Map<ChildProcess, Promise<void>>();
  for (const { host, count } of options.hosts) {
    const [cmd, args] = scriptCommand(CLI, joinArgs({ ...job, count }), job.runtime);
    const argv = options.via === "ssh"
      ? sshArgv(ssh, host, dir, [cmd, ...args], UP)
      : srunArgv(host, dir, [cmd, ...args]);
    log.debug(`starting ${count} peer(s) on ${host}: ${argv.map(shellQuote).join(" ")}`);
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ["pipe", "inherit", "pipe"],
      env: options.via === "srun" ? { ...process.env, SCOOP_JOIN_TIED: "1" } : process.env,
    });
    const lines = passStderr(child, options.via === "ssh");
    const lost = (why: string) => {
      if (ending) return;
      const how = lines.up() ? `the peers on ${host} ended` : `cannot start peers on ${host}`;
      process.stderr.write(`scoop: ${how} over ${options.via}: ${why}; the job runs on the rest\n`);
      job.onLost(count);
    };
    live.set(
      child,
      new Promise((resolve) => {
        child.on("error", (err) => {
          lost(err.message);
          resolve();
        });
        child.on("exit", (code, signal) => {
          lost(lines.last() ?? describeExit(code, signal));
          resolve();
        });
      }),
    );
    child.stdin!.on("error", () => {}); // gone: reported through "exit"
    child.stdin!.write(job.keyLine + "\n");
  }
  /** Whether every host's ssh or srun has exited within `ms`. */
  const exited = async (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
    const all = Promise.all(live.values()).then(() => true);
    const done = await Promise.race([all, late]);
    clearTimeout(timer);
    return done;
  };
  return {
    async stop() {
      ending = true;
      // The joiners leave on the origin's "stop"; closing their standard input ends those that
      // did not get it (ssh or srun then exits); a kill, those still there after that.
      if (!await exited(STOP_GRACE_MS)) { for (const c of live.keys()) c.stdin!.end(); }
      if (!await exited(STOP_GRACE_MS)) {
        for (const c of live.keys()) if (c.exitCode === null && c.signalCode === null) c.kill();
      }
      await Promise.all(live.values());
    },
  };
}

/**
 * Pass a host's stderr on, line by line, except what ssh says before the remote shell is up
 * (`held` until then: on a failure, its last line is the reason given).
 */
function passStderr(child: ChildProcess, held: boolean) {
  let up = !held;
  let last: string | undefined;
  let rest = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop()!;
    for (const line of parts) {
      if (!up && line.trim() === UP) {
        up = true;
        continue;
      }
      if (line.trim() !== "") last = line.trim();
      if (up) process.stderr.write(line + "\n");
    }
  });
  return { up: () => up, last: () => rest.trim() || last };
}
