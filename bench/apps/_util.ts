/** Shared bits of the benchmark apps. */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/** A line of `/proc/self/status` in MB (VmHWM: peak RSS, VmRSS: current RSS). */
export function statusMB(field: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** Print the findings as the one JSON line the runner reads. */
export function emit(result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}

/**
 * CPU seconds (user + system) used so far by this process and every process it started, from
 * `/proc` (Linux): the whole grid of one host when run on its origin. Processes that ended are
 * not counted.
 */
export function treeCpuSeconds(): number {
  const hz = 100; // USER_HZ: clock ticks per second on Linux
  const kids = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    // Fields after the command (in parentheses, which may hold spaces): state ppid … utime stime.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(name);
    const ppid = Number(f[1]);
    ticks.set(pid, Number(f[11]) + Number(f[12]));
    kids.set(ppid, [...kids.get(ppid) ?? [], pid]);
  }
  let sum = 0;
  const todo = [process.pid];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    sum += ticks.get(pid) ?? 0;
    todo.push(...kids.get(pid) ?? []);
  }
  return sum / hz;
}
