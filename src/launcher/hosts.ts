/**
 * Which hosts a grid runs on, and how many peers each: SCOOP's hostfile, and what batch
 * schedulers put in a job's environment (SLURM, PBS, SGE). Parsing only: the launcher decides
 * what to start where. Every malformed input is a {@link UsageError} naming the line or value
 * and what was expected.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** A host and how many peers to run there. */
export interface HostSlots {
  host: string;
  count: number;
}

const HOST = /^[A-Za-z0-9_.:\-[\]]+$/;

function count(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${where}: the count must be a positive integer, got "${text}"`);
  }
  return n;
}

/**
 * SCOOP's hostfile: `host [count]` per line (count 1 when absent), `#` starts a comment, blank
 * lines are skipped. A host named twice gets the sum.
 * @param name the file's name, for messages
 */
export function parseHostfile(text: string, name = "the hostfile"): HostSlots[] {
  const out = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const where = `${name}, line ${i + 1}`;
    const words = line.split(/\s+/);
    if (words.length > 2) {
      throw new UsageError(`${where}: expected "host [count]", got "${line}"`);
    }
    const [host, n] = words;
    if (!HOST.test(host)) throw new UsageError(`${where}: "${host}" is not a host name or address`);
    out.set(host, (out.get(host) ?? 0) + (n === undefined ? 1 : count(n, where)));
  });
  if (out.size === 0) throw new UsageError(`${name} names no host`);
  return [...out].map(([host, count]) => ({ host, count }));
}

/**
 * A SLURM node list, as in `SLURM_JOB_NODELIST`: names separated by commas, each with bracket
 * ranges such as `n[01-04,7]` (zero-padding kept), possibly several (`r[1-2]n[1-2]`).
 */
export function expandNodelist(list: string): string[] {
  const names: string[] = [];
  // Split at the commas outside brackets.
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    if (depth < 0 || depth > 1) throw new UsageError(`bad SLURM node list "${list}"`);
    if ((c === "," && depth === 0) || i === list.length) {
      const part = list.slice(start, i).trim();
      if (part !== "") names.push(...expandOne(part, list));
      start = i + 1;
    }
  }
  if (depth !== 0 || names.length === 0) throw new UsageError(`bad SLURM node list "${list}"`);
  return names;
}

function expandOne(part: string, list: string): string[] {
  const m = /^([^[]*)\[([^\]]*)\](.*)$/.exec(part);
  if (m === null) {
    if (!HOST.test(part)) throw new UsageError(`bad SLURM node list "${list}"`);
    return [part];
  }
  const [, head, ranges, tail] = m;
  const rests = tail === "" ? [""] : expandOne(tail, list);
  const out: string[] = [];
  for (const r of ranges.split(",")) {
    const rm = /^(\d+)(?:-(\d+))?$/.exec(r.trim());
    if (rm === null) throw new UsageError(`bad range "${r}" in SLURM node list "${list}"`);
    const [lo, hi = lo] = [rm[1], rm[2]];
    if (Number(hi) < Number(lo) || Number(hi) - Number(lo) > 100_000) {
      throw new UsageError(`bad range "${r}" in SLURM node list "${list}"`);
    }
    for (let n = Number(lo); n <= Number(hi); n++) {
      const num = String(n).padStart(lo.length, "0");
      for (const rest of rests) out.push(`${head}${num}${rest}`);
    }
  }
  return out;
}

/** SLURM's tasks per node, as in `SLURM_TASKS_PER_NODE`: `2(x3),1` is 2, 2, 2, 1. */
export function expandTasksPerNode(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)(?:\(x(\d+)\))?\s*$/.exec(part);
    if (m === null) throw new UsageError(`bad SLURM_TASKS_PER_NODE "${text}"`);
    const n = count(m[1], "SLURM_TASKS_PER_NODE");
    const times = m[2] === undefined ? 1 : count(m[2], "SLURM_TASKS_PER_NODE");
    for (let i = 0; i < times; i++) out.push(n);
  }
  return out;
}

/** PBS's node file (`PBS_NODEFILE`): one host per line, once per slot. */
export function parsePbsNodefile(text: string): HostSlots[] {
  const out = new Map<string, number>();
  for (const raw of text.split(/\r?\n/)) {
    const host = raw.trim();
    if (host === "") continue;
    if (!HOST.test(host)) throw new UsageError(`PBS_NODEFILE: "${host}" is not a host name`);
    out.set(host, (out.get(host) ?? 0) + 1);
  }
  if (out.size === 0) throw new UsageError("PBS_NODEFILE names no host");
  return [...out].map(([host, count]) => ({ host, count }));
}

/** Grid Engine's host file (`PE_HOSTFILE`): `host slots queue processors` per line. */
export function parseSgeHostfile(text: string): HostSlots[] {
  const out: HostSlots[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const [host, slots] = line.split(/\s+/);
    const where = `PE_HOSTFILE, line ${i + 1}`;
    if (slots === undefined || !HOST.test(host)) {
      throw new UsageError(`${where}: expected "host slots queue processors", got "${line}"`);
    }
    out.push({ host, count: count(slots, where) });
  });
  if (out.length === 0) throw new UsageError("PE_HOSTFILE names no host");
  return out;
}

/** Where the hosts came from, and them. */
export interface BatchHosts {
  scheduler: "slurm" | "pbs" | "sge";
  hosts: HostSlots[];
}

/**
 * The hosts and peers per host of the batch job this process runs in, from its environment
 * (SLURM, then PBS, then SGE); undefined outside one. `read` reads a file (PBS, SGE).
 */
export function batchHosts(
  env: Record<string, string | undefined>,
  read: (path: string) => string,
): BatchHosts | undefined {
  const nodes = env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
  if (nodes !== undefined && env.SLURM_JOB_ID !== undefined) {
    const names = expandNodelist(nodes);
    const per = env.SLURM_TASKS_PER_NODE === undefined
      ? names.map(() => 1)
      : expandTasksPerNode(env.SLURM_TASKS_PER_NODE);
    if (per.length !== names.length) {
      throw new UsageError(
        `SLURM_TASKS_PER_NODE "${env.SLURM_TASKS_PER_NODE}" gives ${per.length} counts for ` +
          `${names.length} nodes in "${nodes}"`,
      );
    }
    return { scheduler: "slurm", hosts: names.map((host, i) => ({ host, count: per[i] })) };
  }
  if (env.PBS_NODEFILE !== undefined) {
    return { scheduler: "pbs", hosts: parsePbsNodefile(read(env.PBS_NODEFILE)) };
  }
  if (env.PE_HOSTFILE !== undefined) {
    return { scheduler: "sge", hosts: parseSgeHostfile(read(env.PE_HOSTFILE)) };
  }
  return undefined;
}
