/** Shared bits of the benchmark apps. */
import { readFileSync } from "node:fs";
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
