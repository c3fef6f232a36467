/**
 * Helpers for integration tests: start real peer processes through the real launcher, read
 * what they print, and make sure none is left behind. Peers run on the runtime named by
 * `SCOOP_TEST_RUNTIME` (bun, the default, or deno), so the same cases run on both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

export const ROOT = join(import.meta.dir, "..", "..");

/**
 * A temporary directory for a test file, with a grid key in `secret` (64 hex digits of
 * `byte`); `cleanup` ends every process started here and removes the directory.
 */
export function scratch(name: string, byte: string) {
  const dir = mkdtempSync(join(tmpdir(), `scoop-${name}-`));
  const secret = join(dir, "secret");
  writeFileSync(secret, byte.repeat(32));
  const cleanup = () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, secret, cleanup };
}
export const CLI = join(ROOT, "cli.ts");
export const FIXTURES = join(ROOT, "tests", "fixtures");
export const RUNTIME = (process.env.SCOOP_TEST_RUNTIME ?? "bun") as "bun" | "deno";

const DENO = join(ROOT, "node_modules", ".bin", "deno");

/** Command line that runs `script` with the runtime under test (or `runtime`). */
export function command(
  script: string,
  args: string[],
  runtime: "bun" | "deno" = RUNTIME,
): [string, string[]] {
  if (runtime === "deno") return [DENO, ["run", "-A", "--quiet", script, ...args]];
  return [process.execPath, [script, ...args]];
}

/** A started process with its output so far. */
export interface Proc {
  child: ChildProcess;
  tag: string;
  stdout: string;
  stderr: string;
  /** Resolves with the exit status (128 + n for a signal). */
  exited: Promise<number>;
  /** Resolves with the first match of `re` in stderr+stdout, once it shows up. */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

const started = new Set<Proc>();
let counter = 0;

/** Start `cli.ts args…` (or another script) as a process of the runtime under test. */
export function start(
  args: string[],
  options: {
    env?: Record<string, string>;
    script?: string;
    unset?: string[];
    /** Run it on another runtime than the one under test. */
    runtime?: "bun" | "deno";
    /** Words before the command (`ip netns exec h2`: run it on a lab host). */
    prefix?: string[];
  } = {},
): Proc {
  const tag = `scoop-test-${process.pid}-${++counter}`;
  let [cmd, argv] = command(options.script ?? CLI, args, options.runtime);
  if (options.prefix !== undefined) {
    [cmd, argv] = [options.prefix[0], [...options.prefix.slice(1), cmd, ...argv]];
  }
  const base: Record<string, string | undefined> = { ...process.env };
  for (const key of options.unset ?? []) delete base[key];
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...base, ...options.env, SCOOP_TEST_TAG: tag },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const proc: Proc = {
    child,
    tag,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        started.delete(proc);
        resolve(code ?? 128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 9));
      });
    }),
    waitFor(re) {
      const m = (proc.stderr + proc.stdout).match(re);
      if (m) return Promise.resolve(m);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
  const check = () => {
    for (const w of [...waiters]) {
      const m = (proc.stderr + proc.stdout).match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on("data", (d) => {
    proc.stdout += d;
    check();
  });
  child.stderr!.on("data", (d) => {
    proc.stderr += d;
    check();
  });
  started.add(proc);
  return proc;
}

/** Run to completion; returns status and output. */
export async function run(
  args: string[],
  options: { env?: Record<string, string>; script?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string; tag: string }> {
  const p = start(args, options);
  const code = await p.exited;
  // Let the pipes drain.
  await Promise.all([
    new Promise((r) => p.child.stdout!.once("close", r)),
    new Promise((r) => p.child.stderr!.once("close", r)),
  ].map((w) => (p.child.stdout!.closed && p.child.stderr!.closed ? Promise.resolve() : w)));
  return { code, stdout: p.stdout, stderr: p.stderr, tag: p.tag };
}

/** Pids of live processes whose environment carries `tag` (the launcher and its peers). */
export function processesTagged(tag: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, "latin1");
      if (env.includes(`SCOOP_TEST_TAG=${tag}\0`)) {
        const stat = readFileSync(`/proc/${name}/stat`, "latin1");
        if (!/\) Z /.test(stat)) out.push(Number(name)); // zombies are already dead
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Wait until no process carries `tag` (the launcher reaps its children before exiting). */
export async function noneLeft(tag: string): Promise<number[]> {
  // Children exit when their stdin closes; give the kernel a moment by polling the condition.
  for (let i = 0; i < 200; i++) {
    const left = processesTagged(tag);
    if (left.length === 0) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
  return processesTagged(tag);
}

/** Kill every process a test started and did not reap (afterAll/afterEach). */
export function killAll(): void {
  for (const p of started) {
    try {
      p.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  started.clear();
}

/** The last line of stdout parsed as JSON (fixtures print their findings that way). */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}
