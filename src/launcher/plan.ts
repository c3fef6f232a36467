/**
 * What to start where, once the hosts are known (see `hosts.ts`): SCOOP's division of `-n`
 * over the hosts, which hosts are this machine, and the command lines that start the other
 * hosts' peers over ssh or srun. Pure: no process is started here, nothing is read.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { HostSlots } from "./hosts.ts";
import type { ConnectionLimits } from "../mesh/node.ts";
import type { Level } from "../log.ts";

/**
 * SCOOP's division of `n` peers over `hosts` (its `divideHosts`): more than the hosts' counts
 * add one peer per host in turn from the first; fewer drop peers from the last host back.
 * Undefined `n` keeps the counts.
 */
export function divideHosts(hosts: HostSlots[], n?: number): HostSlots[] {
  const out = hosts.map((h) => ({ ...h }));
  if (n === undefined) return out;
  let total = out.reduce((sum, h) => sum + h.count, 0);
  for (let i = 0; total < n; i = (i + 1) % out.length, total++) out[i].count++;
  while (total > n) {
    const last = out[out.length - 1];
    const cut = Math.min(last.count, total - n);
    last.count -= cut;
    total -= cut;
    if (last.count === 0) out.pop();
  }
  return out;
}

/** `--hosts` words: `h1 h2 h1` or `h1,h2`; a host named twice runs a peer per mention. */
export function hostsFromList(words: string[]): HostSlots[] {
  const out = new Map<string, number>();
  for (const host of words.flatMap((w) => w.split(",")).map((w) => w.trim())) {
    if (host === "") continue;
    if (!/^[A-Za-z0-9_.:\-[\]]+$/.test(host)) {
      throw new UsageError(`--hosts: "${host}" is not a host name or address`);
    }
    out.set(host, (out.get(host) ?? 0) + 1);
  }
  if (out.size === 0) throw new UsageError("--hosts names no host");
  return [...out].map(([host, count]) => ({ host, count }));
}

/**
 * Whether `host` names this machine: `localhost`, a loopback address, or one of `names` (this
 * machine's host name, its short form, its addresses).
 */
export function isThisHost(host: string, names: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h)) return true;
  return names.some((n) => n.toLowerCase() === h);
}

/** Where the peers of a job go: how many here, the origin included, and the other hosts'. */
export interface HostPlan {
  /** Peers on this machine, the origin included (at least 1). */
  local: number;
  /** Hosts reached over ssh or srun, and their peers. */
  remote: HostSlots[];
  /** The first host, when it is not this machine (the origin runs here in place of one of its peers). */
  firstElsewhere?: string;
}

/**
 * Split `hosts` into this machine's peers and the others'. The origin runs here: on the first
 * host when that is this machine (SCOOP's rule: the first host runs the origin); else here
 * anyway, in place of one of the first host's peers, so that the total stays the same.
 */
export function planHosts(hosts: HostSlots[], isLocal: (host: string) => boolean): HostPlan {
  let local = 0;
  const remote: HostSlots[] = [];
  for (const h of hosts) {
    if (isLocal(h.host)) local += h.count;
    else remote.push({ ...h });
  }
  if (hosts.length === 0 || isLocal(hosts[0].host)) return { local, remote };
  remote[0].count--;
  return {
    local: local + 1,
    remote: remote.filter((h) => h.count > 0),
    firstElsewhere: hosts[0].host,
  };
}

/** What a remote host's joiners need to know. */
export interface JoinCommand {
  /** Joiners to start on the host. */
  count: number;
  /** The origin's addresses. */
  bootstrap: string[];
  grid: string;
  /** The entry file, as given (relative to the remote directory). */
  entry: string;
  level?: Level;
  limits?: ConnectionLimits;
  /** `--no-source` (see executor/source.ts). */
  noSource?: boolean;
}

/**
 * The `cli.ts` arguments that start a host's joiners: one job (`--once`), `count` of them, the
 * key read from the first line of standard input (`--secret-file -`, never in argv).
 */
export function joinArgs(c: JoinCommand): string[] {
  const out = ["--join", "--once", "--no-mdns", "-n", String(c.count), "--secret-file", "-"];
  out.push("--grid", c.grid);
  for (const addr of c.bootstrap) out.push("--bootstrap", addr);
  if (c.level === "debug") out.push("-v");
  if (c.level === "error") out.push("-q");
  const l = c.limits ?? {};
  if (l.maxPending !== undefined) out.push("--max-pending", String(l.maxPending));
  if (l.maxPendingPerAddress !== undefined) {
    out.push("--max-pending-per-address", String(l.maxPendingPerAddress));
  }
  if (l.handshakeTimeoutMs !== undefined) {
    out.push("--handshake-timeout", String(l.handshakeTimeoutMs));
  }
  if (l.maxFrameBytes !== undefined) out.push("--max-frame", String(l.maxFrameBytes));
  if (c.noSource) out.push("--no-source");
  out.push("--", c.entry);
  return out;
}

/** `word` quoted for a POSIX shell (and csh): as is when safe, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `--ssh "CMD"` as words: split at blanks, with single and double quotes and backslashes as a
 * shell reads them (no expansion).
 * @throws {UsageError} a quote is not closed
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && /["\\$`]/.test(text[i + 1] ?? "")) word += text[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote !== undefined) throw new UsageError(`--ssh: unclosed ${quote} in "${text}"`);
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw new UsageError("--ssh names no command");
  return words;
}

/**
 * The argv that runs `command` (a runtime and its arguments) on `host` over ssh, in `dir`:
 * `ssh` (or the `--ssh` words) in batch mode (never a password prompt), then one line for the
 * remote login shell, which hands it to `sh` (whatever the login shell is). That line first
 * prints `marker` on stderr: what comes before it is ssh's own. `SCOOP_JOIN_TIED=1` ties the
 * joiners to ssh's standard input: they leave when it closes.
 */
export function sshArgv(
  ssh: string[],
  host: string,
  dir: string,
  command: string[],
  marker: string,
): string[] {
  const inner = `cd ${shellQuote(dir)} && echo ${shellQuote(marker)} >&2 && ` +
    `exec env SCOOP_JOIN_TIED=1 ${command.map(shellQuote).join(" ")}`;
  return [
    ...ssh,
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-T",
    host,
    `exec sh -c ${shellQuote(inner)}`,
  ];
}

/**
 * The argv that runs `command` on the SLURM node `host` of this job, in `dir`: one task of
 * a step that shares the job's CPUs with the batch script (`--overlap`).
 */
export function srunArgv(host: string, dir: string, command: string[]): string[] {
  return [
    "srun",
    "--overlap",
    "--nodes=1",
    "--ntasks=1",
    `--nodelist=${host}`,
    `--chdir=${dir}`,
    ...command,
  ];
}
