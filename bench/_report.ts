/** Small helpers the bench scripts share when they write their tables. */
import { spawn } from "node:child_process";

/** The median of `xs` (the upper one of an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The first line `cmd args` prints (a runtime's `--version`). */
export function version(cmd: string, args: string[]): Promise<string> {
  return new Promise<string>((resolve) => {
    const c = spawn(cmd, args);
    let out = "";
    c.stdout.on("data", (d) => out += d);
    c.on("exit", () => resolve(out.split("\n")[0].trim()));
  });
}
