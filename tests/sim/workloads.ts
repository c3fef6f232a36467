/**
 * The simulator's workloads: tasks and a `main` written as generators of steps (see
 * `executor.ts`), each with the value `main` must return. Sizes scale with `tasks`, the
 * rough number of tasks a run should execute.
 *
 * @module
 */
import type { Program, Step } from "./executor.ts";

/** A workload: its programs, its `main`, what `main` must return, and its total work. */
export interface Workload {
  name: string;
  programs: Record<string, Program>;
  main: Program;
  expected: unknown;
  /** Tasks it runs (without re-runs) and their total compute, in ms. */
  tasks: number;
  workMs: number;
}

type Gen = Generator<Step, unknown, unknown>;

/** Durations of tasks of a flat map: mostly short, some long (a heavy tail). */
function durations(n: number, random: () => number, kind: "even" | "mixed"): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === "even") out.push(5 + Math.floor(random() * 10));
    else {
      const r = random();
      out.push(r < 0.7 ? 0.2 + random() * 2 : r < 0.95 ? 5 + random() * 20 : 50 + random() * 250);
    }
  }
  return out;
}

function* work(i: number, ms: number): Gen {
  yield { compute: ms };
  return i * 2 + 1;
}

function* fails(i: number): Gen {
  yield { compute: 1 };
  if (i % 7 === 3) throw Object.assign(new Error(`task ${i} fails`), { name: "BadInput" });
  return i;
}

function* fib(n: number): Gen {
  yield { compute: 0.05 };
  if (n < 2) return n;
  const a = (yield { submit: "fib", args: [n - 1] }) as number;
  const b = (yield { submit: "fib", args: [n - 2] }) as number;
  const [x, y] = (yield { wait: [a, b] }) as number[];
  return x + y;
}

function* tree(depth: number, leafMs: number): Gen {
  if (depth === 0) {
    yield { compute: leafMs };
    return 1;
  }
  yield { compute: 0.02 };
  const a = (yield { submit: "tree", args: [depth - 1, leafMs] }) as number;
  const b = (yield { submit: "tree", args: [depth - 1, leafMs] }) as number;
  const [x, y] = (yield { wait: [a, b] }) as number[];
  return x + y;
}

function* square(x: number): Gen {
  const scale = (yield { getConst: "scale" }) as number;
  yield { compute: 1 + (x % 5) };
  return x * x * scale;
}

function* add(a: number, b: number): Gen {
  yield { compute: 0.1 };
  return a + b;
}

function* fanout(n: number, ms: number): Gen {
  const fs: number[] = [];
  for (let i = 0; i < n; i++) fs.push((yield { submit: "work", args: [i, ms] }) as number);
  const vals = (yield { wait: fs }) as number[];
  return vals.reduce((s, v) => s + v, 0);
}

/** fib(n) runs this many tasks. */
function fibTasks(n: number): number {
  let a = 1, b = 1; // calls(0) = calls(1) = 1; calls(n) = 1 + calls(n-1) + calls(n-2)
  for (let i = 2; i <= n; i++) [a, b] = [b, 1 + a + b];
  return n < 1 ? 1 : b;
}

function fibValue(n: number): number {
  let a = 0, b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

const PROGRAMS: Record<string, Program> = { work, fails, fib, tree, square, add, fanout } as never;

/** The names of every workload. */
export const WORKLOADS = ["flat", "mixed", "fib", "tree", "mapreduce", "fanout", "errors"] as const;
export type WorkloadName = typeof WORKLOADS[number];

/** Build workload `name` of about `tasks` tasks, its random choices from `random`. */
export function makeWorkload(name: WorkloadName, tasks: number, random: () => number): Workload {
  switch (name) {
    case "flat":
    case "mixed": {
      const ds = durations(tasks, random, name === "flat" ? "even" : "mixed");
      const expected = ds.reduce((s, _, i) => s + i * 2 + 1, 0);
      const main = function* (): Gen {
        const fs: number[] = [];
        for (let i = 0; i < ds.length; i++) {
          fs.push((yield { submit: "work", args: [i, ds[i]] }) as number);
        }
        const vals = (yield { wait: fs }) as number[];
        return vals.reduce((s, v) => s + v, 0);
      };
      return { name, programs: PROGRAMS, main, expected, tasks, workMs: sum(ds) };
    }
    case "fib": {
      let n = 2;
      while (fibTasks(n + 1) <= tasks) n++;
      const main = function* (): Gen {
        const f = (yield { submit: "fib", args: [n] }) as number;
        return ((yield { wait: [f] }) as number[])[0];
      };
      const count = fibTasks(n);
      return {
        name,
        programs: PROGRAMS,
        main,
        expected: fibValue(n),
        tasks: count,
        workMs: count * 0.05,
      };
    }
    case "tree": {
      const depth = Math.max(1, Math.floor(Math.log2(tasks + 1)) - 1);
      const leafMs = 2 + Math.floor(random() * 8);
      const main = function* (): Gen {
        const f = (yield { submit: "tree", args: [depth, leafMs] }) as number;
        return ((yield { wait: [f] }) as number[])[0];
      };
      const leaves = 2 ** depth;
      return {
        name,
        programs: PROGRAMS,
        main,
        expected: leaves,
        tasks: 2 * leaves - 1,
        workMs: leaves * leafMs + (leaves - 1) * 0.02,
      };
    }
    case "mapreduce": {
      const n = Math.max(2, Math.floor(tasks / 2));
      const scale = 1 + Math.floor(random() * 3);
      let expected = 0;
      for (let x = 0; x < n; x++) expected += x * x * scale;
      const main = function* (): Gen {
        yield { setConst: { scale } };
        let level: number[] = [];
        for (let x = 0; x < n; x++) level.push((yield { submit: "square", args: [x] }) as number);
        // A tree of additions, left to right, one level at a time.
        while (level.length > 1) {
          const vals = (yield { wait: level }) as number[];
          const next: number[] = [];
          for (let i = 0; i + 1 < vals.length; i += 2) {
            next.push((yield { submit: "add", args: [vals[i], vals[i + 1]] }) as number);
          }
          if (vals.length % 2 === 1) {
            next.push((yield { submit: "add", args: [vals.at(-1), 0] }) as number);
          }
          level = next;
        }
        return ((yield { wait: level }) as number[])[0];
      };
      let work = 0;
      for (let x = 0; x < n; x++) work += 1 + (x % 5);
      return { name, programs: PROGRAMS, main, expected, tasks: 2 * n, workMs: work + n * 0.1 };
    }
    case "fanout": {
      const n = Math.max(1, tasks - 1);
      const ms = 1 + Math.floor(random() * 4);
      const main = function* (): Gen {
        const f = (yield { submit: "fanout", args: [n, ms] }) as number;
        return ((yield { wait: [f] }) as number[])[0];
      };
      let expected = 0;
      for (let i = 0; i < n; i++) expected += i * 2 + 1;
      return { name, programs: PROGRAMS, main, expected, tasks: n + 1, workMs: n * ms };
    }
    case "errors": {
      // Every failure reaches main with its own name and message, in input order.
      const n = Math.max(8, tasks);
      const expected: unknown[] = [];
      for (let i = 0; i < n; i++) expected.push(i % 7 === 3 ? `BadInput: task ${i} fails` : i);
      const main = function* (): Gen {
        const fs: number[] = [];
        for (let i = 0; i < n; i++) fs.push((yield { submit: "fails", args: [i] }) as number);
        const out: unknown[] = [];
        for (const f of fs) {
          try {
            out.push(((yield { wait: [f] }) as number[])[0]);
          } catch (e) {
            out.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
        return out;
      };
      return { name, programs: PROGRAMS, main, expected, tasks: n, workMs: n };
    }
  }
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}
